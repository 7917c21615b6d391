"""The compute driver contract, run against every driver: the fake, libvirt's test driver and
QEMU (TCG) under a real libvirtd.

The QEMU guests have no disk (unless a test needs one) and sit in SeaBIOS, which is "running"
as far as libvirt is concerned. SeaBIOS ignores ACPI, so ``stop`` on QEMU always takes the
timeout-then-force path (the fixture's timeout is short); the real-boot test in
test_qemu_boot.py shows a guest that powers itself off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from pathlib import Path

import pytest

from occistack.drivers.base import POWER_MOVES, DriverError, GuestNotFound, GuestSpec, InvalidGuestState
from occistack.drivers.libvirt import parse_domain_devices
from tests.drivers.conftest import GUEST_MEMORY_MIB

STATES = ("running", "stopped", "suspended")

#: (state the guest is brought into, operation, state it must end in)
MOVES = [
    ("running", "suspend", "suspended"),
    ("suspended", "start", "running"),
    ("running", "stop", "stopped"),
    ("stopped", "start", "running"),
    ("running", "reboot", "running"),
    ("running", "reset", "running"),
    ("running", "poweroff", "stopped"),
    ("suspended", "poweroff", "stopped"),
    ("running", "hibernate", "stopped"),
    ("suspended", "hibernate", "stopped"),
]


def test_the_moves_cover_every_operation():
    assert {operation for _state, operation, _result in MOVES} == set(POWER_MOVES)


def test_deploy_boots_the_guest(backend):
    name = backend.deploy("vm")
    assert backend.driver.state(name) == "running"


def test_deploying_an_existing_name_is_refused(backend):
    name = backend.deploy("vm", state="suspended")
    with pytest.raises(DriverError, match="already defined"):
        backend.driver.deploy(backend.spec("vm"))
    assert backend.driver.state(name) == "suspended", "the refused deploy must leave the guest alone"


@pytest.mark.parametrize("start_state, operation, result", MOVES,
                         ids=[f"{operation}-from-{state}" for state, operation, _ in MOVES])
def test_power_operation_moves_the_guest(backend, start_state, operation, result, caplog):
    name = backend.deploy("vm", state=start_state)
    assert backend.driver.state(name) == start_state
    with caplog.at_level(logging.WARNING, logger="occistack.drivers.libvirt"):
        backend.driver.power(name, operation)
    assert backend.driver.state(name) == result
    if operation == "stop" and backend.kind != "fake":
        # The test driver honours the ACPI shutdown; SeaBIOS ignores it, so QEMU needs the force.
        forced = f"guest {name} did not shut down within" in caplog.text
        assert forced == (backend.kind == "libvirt-qemu"), caplog.text


def test_a_hibernated_guest_starts_again(backend):
    name = backend.deploy("vm")
    backend.driver.power(name, "hibernate")
    backend.driver.power(name, "start")
    assert backend.driver.state(name) == "running"


@pytest.mark.parametrize("start_state", STATES)
def test_operations_the_state_does_not_allow_are_refused(backend, start_state):
    name = backend.deploy("vm", state=start_state)
    refused = sorted(op for op, (allowed_from, _result) in POWER_MOVES.items() if start_state not in allowed_from)
    assert refused, f"every operation is allowed from {start_state}? then this test checks nothing"
    for operation in refused:
        with pytest.raises(InvalidGuestState, match=operation):
            backend.driver.power(name, operation)
        assert backend.driver.state(name) == start_state, f"a refused {operation} changed the guest"


def test_an_unknown_power_operation_is_a_driver_error(backend):
    name = backend.deploy("vm")
    with pytest.raises(DriverError, match="unknown power operation 'levitate'") as raised:
        backend.driver.power(name, "levitate")
    assert not isinstance(raised.value, (InvalidGuestState, GuestNotFound))
    assert backend.driver.state(name) == "running"


def test_an_unknown_guest_is_absent_and_cannot_be_acted_on(backend):
    name = backend.name("never-deployed")
    assert backend.driver.state(name) == "absent"
    with pytest.raises(GuestNotFound):
        backend.driver.power(name, "start")
    with pytest.raises(GuestNotFound):
        backend.driver.snapshot(name, backend.name("image"))
    assert name not in backend.driver.guest_states()


@pytest.mark.parametrize("start_state", STATES)
def test_destroy_removes_the_guest_and_is_idempotent(backend, start_state):
    name = backend.deploy("vm", state=start_state)
    backend.driver.destroy(name)
    assert backend.driver.state(name) == "absent"
    assert name not in backend.driver.guest_states()
    backend.driver.destroy(name)  # again: not an error
    backend.driver.destroy(backend.name("never-deployed"))


def test_a_destroyed_name_can_be_deployed_again(backend):
    name = backend.deploy("vm")
    backend.driver.power(name, "hibernate")  # leaves a saved memory image behind on libvirt
    backend.driver.destroy(name)
    backend.driver.deploy(backend.spec("vm"))
    assert backend.driver.state(name) == "running"


def test_guest_states_lists_exactly_the_deployed_guests(backend):
    expected = {backend.deploy(state, state=state): state for state in STATES}
    ours = {name: state for name, state in backend.driver.guest_states().items()
            if name.startswith(backend.prefix)}
    assert ours == expected
    backend.driver.destroy(backend.name("running"))
    del expected[backend.name("running")]
    ours = {name: state for name, state in backend.driver.guest_states().items()
            if name.startswith(backend.prefix)}
    assert ours == expected


@pytest.mark.parametrize("start_state", STATES)
def test_snapshot_saves_the_root_disk_as_a_new_image(backend, start_state):
    name = backend.deploy("vm", state=start_state, root_disk=True)
    image = backend.name("image")
    backend.track_volume(image)
    assert not backend.image_exists(image)
    backend.driver.snapshot(name, image)
    assert backend.image_exists(image)
    assert backend.driver.state(name) == start_state, "the copy must leave the guest as it was"
    if backend.connection is not None:  # libvirt: the guest is back on its own root disk
        domain_xml = backend.connection.lookupByName(name).XMLDesc(0)
        assert [disk.volume for disk in parse_domain_devices(domain_xml).disks] == [f"{name}-root"]
    with pytest.raises(DriverError, match="already exists"):
        backend.driver.snapshot(name, image)
    assert backend.driver.state(name) == start_state


@pytest.mark.parametrize("backend", ["libvirt-qemu"], indirect=True)
def test_saving_a_running_guest_leaves_the_template_its_disk_is_backed_by_untouched(backend):
    """A root disk is a qcow2 overlay of its template, which other guests share: the saving
    overlay is committed back into the root disk, never down into the template."""
    pool = backend.connection.storagePoolLookupByName(backend.pool)
    template = backend.name("template")
    pool.createXML(f"<volume><name>{template}</name><capacity unit='MiB'>1</capacity>"
                   "<target><format type='qcow2'/></target></volume>", 0)
    backend.track_volume(template)
    template_path = pool.storageVolLookupByName(template).path()

    def guest_on_template(suffix: str) -> str:
        name = backend.name(suffix)
        backend.with_root_disk.add(name)
        pool.createXML(f"<volume><name>{name}-root</name><capacity unit='MiB'>1</capacity>"
                       "<target><format type='qcow2'/></target><backingStore><path>"
                       f"{template_path}</path><format type='qcow2'/></backingStore></volume>", 0)
        backend.track_volume(f"{name}-root")
        backend.driver.deploy(GuestSpec(name=name, cores=1, memory_mib=GUEST_MEMORY_MIB, image="tiny"))
        return name

    first = guest_on_template("first")
    before = hashlib.sha256(Path(template_path).read_bytes()).hexdigest()
    image = backend.name("image")
    backend.track_volume(image)
    backend.driver.snapshot(first, image)
    assert hashlib.sha256(Path(template_path).read_bytes()).hexdigest() == before, "the template was written"
    root_path = pool.storageVolLookupByName(f"{first}-root").path()
    chain = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", root_path],
                                      capture_output=True, text=True, check=True).stdout)
    assert chain.get("backing-filename") == template_path
    # A second guest opens the shared template beside the first: it is nobody's to write.
    second = guest_on_template("second")
    assert backend.driver.state(first) == backend.driver.state(second) == "running"


def test_host_facts_describe_the_host(backend):
    facts = backend.driver.host_facts()
    assert set(facts) == {"cpu_sockets", "cpu_cores", "cpu_mhz", "memory_mib", "hypervisor",
                          "hypervisor_version"}
    assert facts["cpu_cores"] >= facts["cpu_sockets"] >= 1
    assert facts["memory_mib"] > 0 and facts["cpu_mhz"] > 0
    assert facts["hypervisor"]
    if backend.kind != "fake":
        assert facts["hypervisor_version"].count(".") == 2


def test_host_facts_are_what_the_agent_registers_with(backend):
    from occistack.hostagent.protocol import HostFacts

    assert HostFacts(**backend.driver.host_facts()).cpu_cores == backend.driver.host_facts()["cpu_cores"]
