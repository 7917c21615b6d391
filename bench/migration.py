"""Benchmark: a live migration through occistack against the bare libvirt call it makes.

Run from the repository root as root: ``.venv/bin/python -m bench.migration`` (PostgreSQL at
127.0.0.1:5432, or ``OCCISTACK_TEST_PG``; libvirtd and QEMU installed).

Two hosts as the end-to-end test arranges them (tests/drivers/migration_hosts.py): a libvirtd
with QEMU/TCG in each of two network namespaces. One idle guest of 256 MiB (a kernel and an
initramfs that counts on its console) moves back and forth between them. The baseline is the
bare libvirt call -- ``migrateToURI3`` peer to peer, live, the same flags and migration URI the
driver uses, what ``virsh migrate --live --p2p`` does. The subject is occistack's whole path:
the administrator's migrate use case (placement's claim on the target, the job), the worker's
steps, the in-process agents' ReceiveGuest on the target and MigrateGuest on the source, the
driver's call, and the rows moved at the end -- timed from the use case's call until the plane
has settled. The rounds alternate: the bare call moves the guest from host a to host b,
occistack moves it back (the two hosts are alike); the first round of each is a warm-up.

Target: occistack's median time at most 1.5 times the bare call's.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import libvirt
import transaction
from sqlalchemy import update

from bench.common import close_app, result_line, scratch_database
from occistack.drivers.base import GuestSpec, HostDrivers
from occistack.drivers.fake import FakeNetworkDriver, FakeStorageDriver
from occistack.drivers.libvirt.compute import LibvirtComputeDriver
from occistack.drivers.libvirt.domain import DirectBoot
from occistack.drivers.libvirt.migration import LIVE
from occistack.model import Host, VirtualMachine, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane.context import PlaneContext
from occistack.plane.tenant import admin_vms
from tests.drivers.guest_image import build_guest_image
from tests.drivers.migration_hosts import TICKING_INIT, boots, two_hosts, wait_for_ticks
from tests.factories import ClusterFactory, HostFactory, OsTemplateFactory, PodFactory, VirtualMachineFactory, ZoneFactory

GUEST = "occistack-bench-migration"
MEMORY_MIB = 256
ROUNDS = 3
#: The first move of each kind starts QEMU's migration machinery on a host for the first time
#: (some seconds more): it warms up and is not counted.
WARM_UP = 1
TARGET = 1.5


def bare_migration(source_uri: str, target_uri: str, target_address: str) -> float:
    connection = libvirt.open(source_uri)
    try:
        started = time.perf_counter()
        connection.lookupByName(GUEST).migrateToURI3(
            target_uri, {libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{target_address}"}, LIVE)
        return time.perf_counter() - started
    finally:
        connection.close()


def main() -> int:
    from occistack.api.app import main as make_server
    from occistack.api.orchestration import server_plane
    from tests.conftest import app_settings

    image = build_guest_image(TICKING_INIT)
    boot = DirectBoot(kernel=str(image.kernel), initrd=str(image.initrd), cmdline="console=ttyS0 quiet panic=-1")
    with tempfile.TemporaryDirectory(prefix="occistack-bench-migration-") as scratch, \
            two_hosts(Path(scratch), subnet=7) as hosts, scratch_database(migrated=True) as url:
        consoles = Path(scratch) / "consoles"
        drivers = {host.name: HostDrivers(LibvirtComputeDriver(host.uri, domain_type="qemu", console_log_dir=consoles,
                                                               direct_boot_for=lambda _guest: boot),
                                          FakeStorageDriver(), FakeNetworkDriver(), FakeStorageDriver())
                   for host in hosts}
        engine = make_engine({"sqlalchemy.url": url})
        session_factory = make_session_factory(engine)
        with transaction.manager:
            session = get_tm_session(session_factory, transaction.manager)
            cluster = ClusterFactory(session=session, pod_id=PodFactory(session=session, zone_id=ZoneFactory(
                session=session).id, cidr="10.252.7.0/24", gateway="10.252.7.1").id)
            host_ids = {host.name: HostFactory(session=session, cluster_id=cluster.id, name=host.name,
                                               address=host.address, cpu_cores=4, cpu_mhz=2000, memory_mib=4096).id
                        for host in hosts}
            vm_id = VirtualMachineFactory(session=session, template_id=OsTemplateFactory(session=session).id, cores=1,
                                          memory_gib=MEMORY_MIB / 1024, zone_id=cluster.zone_id, instance_name=GUEST,
                                          reserved_cpu_mhz=1000, reserved_memory_mib=MEMORY_MIB).id
        first = drivers[hosts[0].name].compute
        first.deploy(GuestSpec(name=GUEST, cores=1, memory_mib=MEMORY_MIB, image="ticking"))
        console = first.console_log_path(GUEST)
        wait_for_ticks(console, 4)
        application = make_server({}, **app_settings(url), **{"occistack.driver_instances": drivers})
        served = server_plane(application.registry)
        bare, through = [], []
        where = 0  # the index of the host the guest is on
        try:
            for _ in range(WARM_UP + ROUNDS):
                source, target = hosts[where], hosts[1 - where]
                bare.append(bare_migration(source.uri, target.uri, target.address))
                where = 1 - where
                source, target = hosts[where], hosts[1 - where]
                through.append(_through_occistack(application.registry["occistack.session_factory"], served, vm_id,
                                                  host_ids, source, target))
                where = 1 - where
            assert boots(console) == 1, "the guest rebooted during the benchmark"
            bare, through = bare[WARM_UP:], through[WARM_UP:]
        finally:
            close_app(application)
            for driver in drivers.values():
                driver.compute.destroy(GUEST)
                driver.compute.close()
            engine.dispose()
    ratio = statistics.median(through) / statistics.median(bare)
    print(f"live migration of an idle {MEMORY_MIB} MiB TCG guest between two libvirtd namespaces, {ROUNDS} rounds each")
    print(f"  bare libvirt migrateToURI3: median {statistics.median(bare):.2f} s  ({', '.join(f'{t:.2f}' for t in bare)})")
    print(f"  through occistack:          median {statistics.median(through):.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in through)})")
    print(f"  ratio {ratio:.2f}x, target <= {TARGET}x")
    line = result_line("migration", "occistack_over_bare", ratio, TARGET, op="<=")
    print(line)
    return 0 if line.endswith("PASS") else 1


def _through_occistack(session_factory, served, vm_id: str, host_ids: dict[str, int], source, target) -> float:
    """``session_factory``: the server's own, whose commits wake its worker and agents."""
    # The guest is where the bare call left it: the rows say so before occistack moves it.
    with session_factory() as session, session.begin():
        session.execute(update(Host).values(cpu_used_mhz=0, memory_used_mib=0))
        session.execute(update(Host).where(Host.id == host_ids[source.name])
                        .values(cpu_used_mhz=1000, memory_used_mib=MEMORY_MIB))
        session.execute(update(VirtualMachine).where(VirtualMachine.id == vm_id)
                        .values(host_id=host_ids[source.name], state="running", state_message=None))
    served.services.placement.invalidate()
    started = time.perf_counter()
    with transaction.manager:
        ctx = PlaneContext(get_tm_session(session_factory, transaction.manager), None, served.services,
                           operator="bench")
        admin_vms.migrate(ctx, vm_id, admin_vms.VmMigration(to=target.name))
    served.plane.settle()
    elapsed = time.perf_counter() - started
    with session_factory() as session:
        vm = session.get(VirtualMachine, vm_id)
        if (vm.state, vm.host_id) != ("running", host_ids[target.name]):
            raise RuntimeError(f"occistack's migration did not end on {target.name}: {vm.state} {vm.state_message}")
    return elapsed


if __name__ == "__main__":
    sys.exit(main())
