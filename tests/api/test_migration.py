"""Moving guests between hosts on the in-process plane with fake drivers: the admin API's
migrate action (placement picks the target, or the one named), the capacity that moves with the
guest, a failure that leaves it running where it was, a host's maintenance that migrates its
guests away, and the admin view of guests with its filters and lifecycle actions.

(The same migration between two real libvirtd hosts is tests/drivers/test_live_migration.py.)
"""

from __future__ import annotations

import pytest
import transaction
from sqlalchemy import select, update

from occistack.api.orchestration import server_plane
from occistack.model import AffinityGroup, EventRecord, Host, VirtualMachine
from occistack.model.session import get_tm_session
from occistack.plane.context import PlaneContext
from occistack.plane.tenant import admin_vms
from tests.api.admin_client import error_of
from tests.api.occi_face import entity_id, path_of
from tests.api.test_management_plane import create


def new_vm(client) -> str:
    return entity_id(path_of(create(client).headers["Location"]))


def row(world, model, key):
    with world.session_factory() as session:
        return session.get(model, key)


def hosts_by_name(world) -> dict[str, Host]:
    with world.session_factory() as session:
        return {host.name: host for host in session.scalars(select(Host))}


def usage(world, host_id: int) -> tuple[int, int]:
    host = row(world, Host, host_id)
    return host.cpu_used_mhz, host.memory_used_mib


@pytest.fixture
def fakes(world):
    yield world.drivers
    world.drivers.compute.migrations.clear()


def test_a_running_compute_migrates_to_the_host_placement_picks_and_its_capacity_follows(world, client, root,
                                                                                        fakes):
    vm_id = new_vm(client)
    vm = row(world, VirtualMachine, vm_id)
    source = vm.host_id
    before_source = usage(world, source)
    answer = root.post_json(f"/admin/vms/{vm_id}/actions/migrate", {}).json
    assert answer["id"] == vm_id
    moved = row(world, VirtualMachine, vm_id)
    assert moved.state == "running" and moved.host_id != source and moved.state_message is None
    # The source gave back what the guest held, the target holds it now.
    assert usage(world, source) == (before_source[0] - vm.reserved_cpu_mhz,
                                    before_source[1] - vm.reserved_memory_mib)
    assert fakes.compute.migrations[-1][0] == vm.instance_name
    assert fakes.compute.migrations[-1][2] is True  # live
    shown = root.get(f"/admin/vms/{vm_id}").json
    assert (shown["host_id"], shown["state"]) == (moved.host_id, "running")
    assert shown["host_name"] == row(world, Host, moved.host_id).name


def test_a_compute_migrates_to_the_host_named_and_not_to_its_own(world, client, root, fakes):
    vm_id = new_vm(client)
    source = row(world, VirtualMachine, vm_id).host_id
    other = next(host for host in hosts_by_name(world).values() if host.id != source and host.name.startswith("host"))
    root.post_json(f"/admin/vms/{vm_id}/actions/migrate", {"to": other.name})
    assert row(world, VirtualMachine, vm_id).host_id == other.id
    message = error_of(root.post_json(f"/admin/vms/{vm_id}/actions/migrate", {"to_id": other.id}, status=400), 400)
    assert "already" in message and other.name in message


def test_a_failed_migration_leaves_the_compute_running_on_its_host_and_says_why(world, client, root, fakes):
    vm_id = new_vm(client)
    source = row(world, VirtualMachine, vm_id).host_id
    used = {host.id: usage(world, host.id) for host in hosts_by_name(world).values()}
    fakes.compute.failures.fail_next("migrate", "the target's libvirtd refused the connection")
    root.post_json(f"/admin/vms/{vm_id}/actions/migrate", {})
    vm = row(world, VirtualMachine, vm_id)
    assert (vm.state, vm.host_id) == ("running", source)
    assert "refused the connection" in vm.state_message and "stays on host" in vm.state_message
    # Nothing stays claimed on the target.
    assert {host.id: usage(world, host.id) for host in hosts_by_name(world).values()} == used
    with world.session_factory() as session:
        failed = session.scalars(select(EventRecord).where(EventRecord.action == "vm.migrate",
                                                           EventRecord.resource_id == vm_id)
                                 .order_by(EventRecord.id.desc())).first()
    assert failed.state == "failed"


def test_a_migration_is_refused_where_no_host_has_room_or_the_compute_is_not_running(world, client, root, fakes):
    vm_id = new_vm(client)
    source = row(world, VirtualMachine, vm_id).host_id
    others = [host for host in hosts_by_name(world).values() if host.id != source]
    for host in others:
        root.post(f"/admin/hosts/{host.id}/actions/disable")
    try:
        message = error_of(root.post_json(f"/admin/vms/{vm_id}/actions/migrate", {}, status=409), 409)
        assert "disabled" in message or "no host" in message.lower() or "capacity" in message.lower(), message
    finally:
        for host in others:
            root.post(f"/admin/hosts/{host.id}/actions/enable")
    assert row(world, VirtualMachine, vm_id).state == "running"
    root.post(f"/admin/vms/{vm_id}/actions/stop")
    assert row(world, VirtualMachine, vm_id).state == "stopped"
    # A stopped compute moves cold, and stays stopped.
    root.post_json(f"/admin/vms/{vm_id}/actions/migrate", {})
    vm = row(world, VirtualMachine, vm_id)
    assert vm.state == "stopped" and vm.host_id != source
    assert fakes.compute.migrations[-1][2] is False
    root.post(f"/admin/vms/{vm_id}/actions/start")
    assert row(world, VirtualMachine, vm_id).state == "running"


def test_maintenance_migrates_every_guest_away_and_ends_in_maintenance(world, client, root, fakes):
    first = new_vm(client)
    host_id = row(world, VirtualMachine, first).host_id
    second = new_vm(client)
    assert row(world, VirtualMachine, second).host_id == host_id  # first fit: the same host
    answer = root.post(f"/admin/hosts/{host_id}/actions/maintenance").json
    try:
        host = row(world, Host, host_id)
        assert host.resource_state == "maintenance"
        assert root.get(f"/admin/hosts/{host_id}").json["resource_state"] == "maintenance"
        for vm_id in (first, second):
            vm = row(world, VirtualMachine, vm_id)
            assert vm.state == "running" and vm.host_id != host_id
        assert answer["resource_state"] in ("prepare_for_maintenance", "maintenance")
        # Placement keeps off it now.
        assert row(world, VirtualMachine, new_vm(client)).host_id != host_id
    finally:
        root.post(f"/admin/hosts/{host_id}/actions/cancel-maintenance")
    assert row(world, Host, host_id).resource_state == "enabled"


def test_the_admin_lists_guests_by_host_project_and_state(world, client, root, fakes):
    vm_id = new_vm(client)
    vm = row(world, VirtualMachine, vm_id)
    assert root.get("/admin/").json["resources"]["vms"].endswith("/admin/vms")
    on_host = root.get("/admin/vms", {"host_id": vm.host_id}).json
    assert vm_id in [item["id"] for item in on_host]
    assert all(item["host_id"] == vm.host_id for item in on_host)
    in_project = root.get("/admin/vms", {"project_id": vm.project_id}).json
    assert [item["id"] for item in in_project] == [vm_id]
    assert vm_id not in [item["id"] for item in root.get("/admin/vms", {"state": "stopped"}).json]
    message = error_of(root.get("/admin/vms", {"state": "sleeping"}, status=400), 400)
    assert "running" in message
    assert "no compute" in error_of(root.get("/admin/vms/not-a-vm", status=404), 404)
    assert "migrate" in error_of(root.post(f"/admin/vms/{vm_id}/actions/fly", status=404), 404)


def test_only_administrators_see_and_move_guests(member, client):
    vm_id = new_vm(client)
    member.get("/admin/vms", status=403)
    member.post(f"/admin/vms/{vm_id}/actions/migrate", status=403)


def test_a_guest_that_cannot_move_keeps_its_host_preparing_and_the_host_says_why(world, client, root, fakes):
    vm_id = new_vm(client)
    host_id = row(world, VirtualMachine, vm_id).host_id
    with world.session_factory() as session, session.begin():
        session.execute(update(VirtualMachine).where(VirtualMachine.id == vm_id).values(state="suspended"))
    try:
        answer = root.post(f"/admin/hosts/{host_id}/actions/maintenance").json
        assert answer["resource_state"] == "prepare_for_maintenance" and answer["guests"] >= 1
        with world.session_factory() as session:
            told = session.scalars(select(EventRecord).where(EventRecord.action == "host.maintenance",
                                                             EventRecord.resource_id == str(host_id))
                                   .order_by(EventRecord.id.desc())).first()
        assert "cannot move now" in told.description and "suspended" in told.description
        assert row(world, VirtualMachine, vm_id).host_id == host_id
        # Given again, it tries again (the guest still cannot move) rather than refusing.
        assert root.post(f"/admin/hosts/{host_id}/actions/maintenance").json["resource_state"] == \
            "prepare_for_maintenance"
    finally:
        root.post(f"/admin/hosts/{host_id}/actions/cancel-maintenance")
        with world.session_factory() as session, session.begin():
            session.execute(update(VirtualMachine).where(VirtualMachine.id == vm_id).values(state="running"))
    assert row(world, Host, host_id).resource_state == "enabled"


def test_a_migration_keeps_to_the_anti_affinity_group(world, client, root, fakes):
    first, second = new_vm(client), new_vm(client)
    root.post_json(f"/admin/vms/{second}/actions/migrate", {})
    first_host, second_host = row(world, VirtualMachine, first).host_id, row(world, VirtualMachine, second).host_id
    assert first_host != second_host
    with world.session_factory() as session, session.begin():
        group = AffinityGroup(project_id=row(world, VirtualMachine, first).project_id, name="apart",
                              kind="host anti-affinity")
        session.add(group)
        session.flush()
        session.execute(update(VirtualMachine).where(VirtualMachine.id.in_([first, second]))
                        .values(affinity_group_id=group.id))
    second_host_name = row(world, Host, second_host).name
    message = error_of(root.post_json(f"/admin/vms/{first}/actions/migrate", {"to": second_host_name},
                                      status=409), 409)
    assert second_host_name in message and "affinity" in message, message
    assert row(world, VirtualMachine, first).host_id == first_host


def test_a_compute_deleted_before_its_migration_began_gives_back_the_target_s_room(world, client, fakes):
    used = {host.id: usage(world, host.id) for host in hosts_by_name(world).values()}
    vm_id = new_vm(client)
    services = server_plane(world.wsgi_app.registry).services
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        # Asked, not run: no settle follows this commit.
        ctx = PlaneContext(get_tm_session(world.session_factory, manager), None, services, operator="cli:test")
        assert admin_vms.migrate(ctx, vm_id).state == "migrating"
    client.delete(f"/compute/{vm_id}")
    assert row(world, VirtualMachine, vm_id) is None
    assert {host.id: usage(world, host.id) for host in hosts_by_name(world).values()} == used
