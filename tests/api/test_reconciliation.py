"""Reconciliation through heartbeats: what a host reports of its guests moves their computes."""

from __future__ import annotations

from sqlalchemy import select

from occistack.model import EventRecord, Job, UsageRecord, VirtualMachine
from occistack.model.states import JobState, VmState
from occistack.api.orchestration import server_plane
from tests.api.occi_face import (
    attributes,
    entity_id,
    path_of,
)
from tests.api.test_management_plane import TEXT, create


def heartbeats(world) -> None:
    server_plane(world.wsgi_app.registry).plane.agents.heartbeat()


def running_usage_open(world, vm_id) -> bool:
    with world.session_factory() as session:
        return session.scalar(select(UsageRecord.id).where(
            UsageRecord.resource_id == vm_id, UsageRecord.usage_type == "vm_running",
            UsageRecord.ended_at.is_(None))) is not None


def guest_of(world, vm_id) -> dict:
    with world.session_factory() as session:
        name = session.get(VirtualMachine, vm_id).instance_name
    return world.drivers.compute.guests[name]


def test_a_guest_powered_off_from_inside_becomes_inactive_and_back(world, client):
    vm = entity_id(path_of(create(client).headers["Location"]))
    assert running_usage_open(world, vm)
    guest_of(world, vm)["state"] = "stopped"  # 'poweroff' typed in the guest
    heartbeats(world)
    shown = attributes(client.get(f"/compute/{vm}", headers=TEXT).text)
    assert shown["occi.compute.state"] == "inactive"
    assert not running_usage_open(world, vm)
    with world.session_factory() as session:
        events = session.scalars(select(EventRecord.description).where(
            EventRecord.resource_id == vm, EventRecord.action == "vm.reconcile")).all()
    assert events and "reports the guest stopped" in events[-1]

    guest_of(world, vm)["state"] = "running"  # 'virsh start' by an administrator
    heartbeats(world)
    assert attributes(client.get(f"/compute/{vm}", headers=TEXT).text)["occi.compute.state"] == "active"
    assert running_usage_open(world, vm)
    client.delete(f"/compute/{vm}", status=200)


def test_a_vanished_guest_puts_its_compute_in_error_with_the_reason(world, client):
    vm = entity_id(path_of(create(client).headers["Location"]))
    with world.session_factory() as session:
        name = session.get(VirtualMachine, vm).instance_name
    del world.drivers.compute.guests[name]
    heartbeats(world)
    shown = attributes(client.get(f"/compute/{vm}", headers=TEXT).text)
    assert shown["occi.compute.state"] == "error"
    assert f"the guest {name} is no longer defined on host" in shown["occi.compute.state.message"]
    client.delete(f"/compute/{vm}", status=200)


def test_a_compute_with_a_job_under_way_is_left_to_its_job(world, client):
    vm = entity_id(path_of(create(client).headers["Location"]))
    with world.session_factory() as session, session.begin():
        # A job of this VM still waiting for its agent (an attachment, say): its reading of the
        # host will be newer than the heartbeat's.
        job = Job(operation="attach_volume", entity_id=vm, state=JobState.WAITING, arguments={})
        session.add(job)
        session.flush()
        job_id = job.id
    guest_of(world, vm)["state"] = "stopped"
    heartbeats(world)
    with world.session_factory() as session:
        assert session.get(VirtualMachine, vm).state == VmState.RUNNING
    with world.session_factory() as session, session.begin():
        session.get(Job, job_id).state = JobState.DONE
    heartbeats(world)
    with world.session_factory() as session:
        assert session.get(VirtualMachine, vm).state == VmState.STOPPED
    client.delete(f"/compute/{vm}", status=200)
