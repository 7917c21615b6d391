"""The compute driver contract, run against every driver: the fake, libvirt's test driver and
QEMU (TCG) under a real libvirtd.

The QEMU guests have no disk (unless a test needs one) and sit in SeaBIOS, which is "running"
as far as libvirt is concerned. SeaBIOS ignores ACPI, so ``stop`` on QEMU always takes the
timeout-then-force path (the fixture's timeout is short); the real-boot test in
test_qemu_boot.py shows a guest that powers itself off.
"""

from __future__ import annotations

import logging

import pytest

from occistack.drivers.base import POWER_MOVES, DriverError, GuestNotFound, InvalidGuestState
from occistack.drivers.libvirt import parse_domain_devices

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
