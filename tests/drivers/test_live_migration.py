"""Live migration between two real hosts, through the management plane: two libvirtds with
QEMU/TCG, each in a network namespace of its own (tests/drivers/migration_hosts.py), are the
hypervisors of hosts ``host-a`` and ``host-b``; the server's in-process agents drive them with
the real libvirt compute driver (network and storage are fakes: the guest boots a kernel and an
initramfs and has no NIC; its one disk, a qcow2 volume, is on a dir pool of each host's own).

A guest counting on its serial console runs on host-a. The administrator's migrate use case
(what ``occistack vm migrate`` and ``POST /admin/vms/{id}/actions/migrate`` call) moves it to
host-b: the job's commands reach both agents, libvirt copies its memory over TCP from one
namespace to the other -- and its disk, the pool being local -- and afterwards the guest runs
on host-b only, its console shows one boot
and a count that went on, and host-a's CPU and memory are free again. Then a cold move back: shut down, its disk streamed
back, booted again on host-a. One TCG guest of 256 MiB, migrated twice: some 20-40 s.
"""

from __future__ import annotations

import time

import libvirt
import pytest
import transaction
from sqlalchemy import select

from occistack.api.orchestration import server_plane
from occistack.drivers.base import GuestSpec, HostDrivers
from occistack.drivers.fake import FakeNetworkDriver, FakeStorageDriver
from occistack.drivers.libvirt.compute import LibvirtComputeDriver
from occistack.drivers.libvirt.domain import DirectBoot
from occistack.model import EventRecord, Host, VirtualMachine, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane.context import PlaneContext
from occistack.plane.tenant import admin_vms
from tests.conftest import missing_component, running_app
from tests.drivers.guest_image import GuestImageUnavailable, build_guest_image
from tests.drivers.migration_hosts import (TICKING_INIT, HostsUnavailable, boots, ticks, two_hosts,
                                           wait_for_ticks)
from tests.factories import (ClusterFactory, HostFactory, OsTemplateFactory, PodFactory, StoragePoolFactory,
                             VirtualMachineFactory, ZoneFactory)

GUEST = "occistack-migration-test"
MEMORY_MIB = 256
POOL, DISK = "occistack-migration", "occistack-migration-data.qcow2"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    try:
        context = two_hosts(tmp_path_factory.mktemp("migration-hosts"))
        pair = context.__enter__()
    except HostsUnavailable as error:
        missing_component(str(error))
    try:
        yield pair
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
def image():
    try:
        return build_guest_image(TICKING_INIT)
    except GuestImageUnavailable as error:
        missing_component(str(error))


@pytest.fixture
def local_pools(hosts, tmp_path):
    """A dir pool named POOL on each host, each in a directory of its own: storage no other
    host reaches, so the guest's disk travels with it. The source's holds the guest's disk."""
    directories = {}
    for host in hosts:
        directories[host.name] = tmp_path / f"pool-{host.name}"
        directories[host.name].mkdir()
        connection = libvirt.open(host.uri)
        pool = connection.storagePoolCreateXML(f"<pool type='dir'><name>{POOL}</name><target>"
                                               f"<path>{directories[host.name]}</path></target></pool>", 0)
        if host is hosts[0]:
            pool.createXML(f"<volume><name>{DISK}</name><capacity unit='MiB'>16</capacity>"
                           "<target><format type='qcow2'/></target></volume>", 0)
        connection.close()
    yield directories
    for host in hosts:
        connection = libvirt.open(host.uri)
        pool = connection.storagePoolLookupByName(POOL)
        for volume in pool.listAllVolumes():
            volume.delete(0)
        pool.destroy()
        connection.close()


def host_drivers(uri: str, image, consoles) -> HostDrivers:
    boot = DirectBoot(kernel=str(image.kernel), initrd=str(image.initrd), cmdline="console=ttyS0 quiet panic=-1")
    # The guest ignores ACPI: a graceful stop (of a cold move) forces it off after a second.
    compute = LibvirtComputeDriver(uri, domain_type="qemu", console_log_dir=consoles, storage_pool=POOL,
                                   direct_boot_for=lambda _guest: boot, stop_timeout=1.0)
    storage = FakeStorageDriver()
    return HostDrivers(compute, storage, FakeNetworkDriver(), storage)


def seed(session, hosts) -> str:
    cluster = ClusterFactory(session=session, pod_id=PodFactory(session=session, zone_id=ZoneFactory(
        session=session, name="migration-zone").id, cidr="10.252.0.0/24", gateway="10.252.0.1").id)
    rows = [HostFactory(session=session, cluster_id=cluster.id, name=host.name, address=host.address, cpu_cores=4,
                        cpu_mhz=2000, memory_mib=4096) for host in hosts]
    rows[0].cpu_used_mhz, rows[0].memory_used_mib = 1000, MEMORY_MIB
    # Each host's own directory: the plane asks for the disk to be copied along.
    pool = StoragePoolFactory(session=session, cluster_id=cluster.id, name=POOL, protocol="filesystem")
    vm = VirtualMachineFactory(session=session, template_id=OsTemplateFactory(session=session).id, cores=1,
                               storage_pool_id=pool.id,
                               memory_gib=MEMORY_MIB / 1024, host_id=rows[0].id, zone_id=cluster.zone_id,
                               instance_name=GUEST, reserved_cpu_mhz=1000, reserved_memory_mib=MEMORY_MIB)
    return vm.id


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_running_guest_moves_live_to_another_host_and_keeps_counting(db_url, hosts, local_pools, image, tmp_path):
    source, target = hosts
    consoles = tmp_path / "consoles"
    drivers = {host.name: host_drivers(host.uri, image, consoles) for host in hosts}
    engine = make_engine({"sqlalchemy.url": db_url})
    session_factory = make_session_factory(engine)
    with transaction.manager:
        vm_id = seed(get_tm_session(session_factory, transaction.manager), hosts)
    on_source, on_target = drivers[source.name].compute, drivers[target.name].compute
    on_source.deploy(GuestSpec(name=GUEST, cores=1, memory_mib=MEMORY_MIB, image="ticking", disks=((DISK, "vdb"),)))
    console = on_source.console_log_path(GUEST)
    try:
        before = wait_for_ticks(console, 4)
        with running_app(db_url, drivers) as application:
            served = server_plane(application.registry)
            with transaction.manager:
                ctx = PlaneContext(get_tm_session(session_factory, transaction.manager), None, served.services,
                                   operator="cli:test")
                started = admin_vms.migrate(ctx, vm_id, admin_vms.VmMigration(to=target.name))
                assert started.state == "migrating"
            served.plane.settle()
        with session_factory() as session:
            vm = session.get(VirtualMachine, vm_id)
            events = session.scalars(select(EventRecord).where(EventRecord.resource_id == vm_id)
                                     .order_by(EventRecord.id)).all()
            usage = {host.name: (host.cpu_used_mhz, host.memory_used_mib) for host in session.scalars(select(Host))}
        assert (vm.state, vm.state_message) == ("running", None), [event.description for event in events]
        assert vm.host_id is not None and usage == {source.name: (0, 0), target.name: (1000, MEMORY_MIB)}
        assert [event.state for event in events if event.action == "vm.migrate"] == ["started", "completed"]
        assert (on_source.state(GUEST), on_target.state(GUEST)) == ("absent", "running")
        # Its disk went with it (block migration), and the copy it left is gone.
        assert [(host, sorted(path.name for path in directory.iterdir())) for host, directory in local_pools.items()] \
            == [(source.name, []), (target.name, [DISK])]
        after = wait_for_ticks(console, (ticks(console) or [0])[-1] + 4)
        # One boot, and one count that went on through the move: it never restarted.
        assert boots(console) == 1
        assert after[: len(before)] == before and after == list(range(1, len(after) + 1))
        # Asked to move cold, it is shut down, moved back and booted again there.
        with running_app(db_url, drivers) as application:
            served = server_plane(application.registry)
            with transaction.manager:
                ctx = PlaneContext(get_tm_session(session_factory, transaction.manager), None, served.services,
                                   operator="cli:test")
                admin_vms.migrate(ctx, vm_id, admin_vms.VmMigration(to=source.name, cold=True))
            served.plane.settle()
        with session_factory() as session:
            vm = session.get(VirtualMachine, vm_id)
            assert (vm.state, session.get(Host, vm.host_id).name) == ("running", source.name), vm.state_message
        assert (on_source.state(GUEST), on_target.state(GUEST)) == ("running", "absent")
        assert [(host, sorted(path.name for path in directory.iterdir())) for host, directory in local_pools.items()] \
            == [(source.name, [DISK]), (target.name, [])]
        deadline = time.monotonic() + 120
        while boots(console) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert boots(console) == 2, console.read_text(errors="replace")[-300:]
    finally:
        for driver in (on_source, on_target):
            driver.destroy(GUEST)
            driver.close()
        engine.dispose()
