"""High availability on the in-process plane with the fake power driver: a host whose agent
stops answering is fenced through its BMC and its HA computes come back on another host; a
host that cannot be fenced keeps its computes where they are, and the alert says why.

(The same fencing through a real BMC simulator is in tests/integration/test_ha_ipmi.py.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from occistack.drivers.power.base import BmcAddress
from occistack.model import EventRecord, Host, VirtualMachine, utcnow
from occistack.model.states import HostStatus, VmState
from occistack.api.orchestration import server_plane
from tests.api.occi_face import (
    entity_id,
    path_of,
)
from tests.api.test_management_plane import create


def plane_of(world):
    return server_plane(world.wsgi_app.registry).plane


def new_compute(world, client, ha: bool) -> tuple[str, int]:
    vm = entity_id(path_of(create(client).headers["Location"]))
    with world.session_factory() as session, session.begin():
        session.execute(update(VirtualMachine).where(VirtualMachine.id == vm).values(ha_enabled=ha))
        host_id = session.get(VirtualMachine, vm).host_id
    return vm, host_id


def give_bmc(world, host_id: int, address: str) -> BmcAddress:
    bmc = BmcAddress(address, port=623, username="ipmi", password=f"pw-{address}")
    sealer = server_plane(world.wsgi_app.registry).sealer
    with world.session_factory() as session, session.begin():
        host = session.get(Host, host_id)
        host.bmc_address, host.bmc_port, host.bmc_username = bmc.address, bmc.port, bmc.username
        host.bmc_password_sealed = sealer.seal(bmc.password)
    return bmc


def agent_goes_silent(world, host_id: int) -> None:
    """As if the agent died 10 minutes ago; the sweep then finds the host."""
    with world.session_factory() as session, session.begin():
        session.execute(update(Host).where(Host.id == host_id).values(
            last_heartbeat=utcnow() - timedelta(minutes=10), fence_attempted_at=None))
    plane = plane_of(world)
    plane.worker.sweep()
    plane.settle()


def vm_state(world, vm: str) -> tuple[str, int | None, str | None]:
    with world.session_factory() as session:
        row = session.get(VirtualMachine, vm)
        return row.state, row.host_id, row.state_message


def host_row(world, host_id: int) -> Host:
    with world.session_factory() as session:
        return session.get(Host, host_id)


def last_fence_event(world, host_id: int) -> EventRecord:
    with world.session_factory() as session:
        return session.scalars(select(EventRecord).where(EventRecord.action == "host.fence",
                                                         EventRecord.resource_id == str(host_id))
                               .order_by(EventRecord.id.desc())).first()


@pytest.fixture
def revive(world):
    """Bring every host this test fenced or alerted back (its agent registers again)."""
    yield
    plane = plane_of(world)
    for agent in plane.agents.agents:
        agent.register()
    with world.session_factory() as session, session.begin():
        session.execute(update(Host).values(bmc_address=None, bmc_username=None, bmc_password_sealed=None,
                                            fence_attempted_at=None, state_message=None))


def test_a_fenced_host_s_ha_computes_restart_elsewhere(world, client, revive):
    ha_vm, host_id = new_compute(world, client, ha=True)
    plain_vm, plain_host = new_compute(world, client, ha=False)
    assert plain_host == host_id, "first-fit placement puts both on one host"
    power = plane_of(world).services.power
    machine = power.add_machine(give_bmc(world, host_id, "10.99.0.1"), power="on")

    agent_goes_silent(world, host_id)

    assert machine.power == "off", "the host was not powered off through its BMC"
    host = host_row(world, host_id)
    assert host.status == HostStatus.DOWN and "fenced" in host.state_message
    assert last_fence_event(world, host_id).state == "completed"
    state, new_host, _message = vm_state(world, ha_vm)
    assert state == VmState.RUNNING and new_host not in (None, host_id)
    with world.session_factory() as session:
        new_host_name = session.get(Host, new_host).name
        guest = session.get(VirtualMachine, ha_vm).instance_name
    assert world.drivers.compute.state(guest) == "running"
    state, _host, message = vm_state(world, plain_vm)
    assert state == VmState.STOPPED and "was fenced" in message and "not HA-enabled" in message
    with world.session_factory() as session:
        restart = session.scalars(select(EventRecord.description).where(
            EventRecord.action == "vm.ha", EventRecord.resource_id == ha_vm)).all()
    assert any(f"restarting on host {new_host_name}" in text for text in restart)
    for vm in (ha_vm, plain_vm):
        client.delete(f"/compute/{vm}", status=200)


def test_a_host_whose_bmc_does_not_answer_keeps_its_computes(world, client, revive):
    vm, host_id = new_compute(world, client, ha=True)
    power = plane_of(world).services.power
    bmc = give_bmc(world, host_id, "10.99.0.2")
    machine = power.add_machine(bmc, power="on")
    power.set_reachable(bmc, False)

    agent_goes_silent(world, host_id)

    assert machine.power == "on"
    host = host_row(world, host_id)
    assert host.status == HostStatus.ALERT, "a host that was not fenced must not be presumed dead"
    assert "cannot be fenced: its BMC at 10.99.0.2:623 does not answer" in host.state_message
    assert "its 1 VM(s) stay where they are" in host.state_message
    event = last_fence_event(world, host_id)
    assert event.state == "failed" and "does not answer" in event.description
    assert vm_state(world, vm)[:2] == (VmState.RUNNING, host_id)

    # The next sweeps leave it alone until the retry time has passed: no second attempt yet.
    plane_of(world).worker.sweep()
    plane_of(world).settle()
    with world.session_factory() as session:
        attempts = session.scalars(select(EventRecord.id).where(
            EventRecord.action == "host.fence", EventRecord.resource_id == str(host_id),
            EventRecord.id >= event.id)).all()
    assert len(attempts) == 1
    client.delete(f"/compute/{vm}", status=200)


def test_a_host_without_a_bmc_is_never_presumed_dead(world, client, revive):
    vm, host_id = new_compute(world, client, ha=True)
    agent_goes_silent(world, host_id)
    host = host_row(world, host_id)
    assert host.status == HostStatus.ALERT
    assert "no BMC is recorded for it ('occistack host bmc" in host.state_message
    assert vm_state(world, vm)[:2] == (VmState.RUNNING, host_id)
    client.delete(f"/compute/{vm}", status=200)
