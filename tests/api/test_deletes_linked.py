"""Issue 12, point 3, continued (helpers and races of a compute in test_deletes.py): storage
and networks whose compute is being deleted or still uses them, links in every state,
collection deletes, the admin API, requests that really arrive at once, and the sweep."""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from occistack.model import Entity, EventRecord, VirtualMachine, utcnow
from tests.api.occi_face import (
    entity_id,
)
from tests.api.test_deletes import (
    TEXT,
    act,
    assert_gone,
    compute_body,
    deleting_then_gone,
    jobs_of,
    link_line,
    listed,
    new,
    new_link,
    new_network,
    new_volume,
    ready_compute,
    state_and_message,
)


# --- storage and networks whose compute is being deleted --------------------------------------------

def test_a_volume_deleted_right_after_its_compute(world, client, plane, plain):
    volume = new_volume(client)
    vm = new(client, "/compute/", compute_body(link_line(volume, "storage", "storagelink")))
    plain.delete(vm, status=200)
    plain.delete(volume, status=200)  # was 409 until the detach finished
    assert state_and_message(plain, volume, "storage") == ("online", "being deleted")
    plain.delete(volume, status=200)  # was 404 while GET answered 200
    plane.settle()
    assert_gone(plain, vm)
    assert_gone(plain, volume)


def test_a_volume_attached_to_a_live_compute_is_detached_then_deleted(world, client, plane, plain):
    volume = new_volume(client)
    vm = new(client, "/compute/", compute_body(link_line(volume, "storage", "storagelink")))
    plain.delete(volume, status=200)
    deleting_then_gone(world, plane, plain, volume, "storage")
    rendered = plain.get(vm, headers=TEXT).text
    assert 'occi.compute.state="active"' in rendered and volume not in rendered


def test_a_network_deleted_right_after_its_compute(world, client, plane, plain):
    network = new_network(client)
    vm = new(client, "/compute/", compute_body(link_line(network, "network", "networkinterface")))
    plain.delete(vm, status=200)
    plain.delete(network, status=200)
    plane.settle()
    assert_gone(plain, vm)
    assert_gone(plain, network)


def test_a_network_in_use_by_a_live_compute_is_unplugged_then_deleted(world, client, plane, plain):
    network = new_network(client, "10.32.0.0/24")
    vm = new(client, "/compute/", compute_body(link_line(network, "network", "networkinterface")))
    plain.delete(network, status=200)
    assert state_and_message(plain, network, "network")[1] == "being deleted"
    refused = plain.post("/compute/", compute_body(link_line(network, "network", "networkinterface")),
                         headers=TEXT, status=409)
    assert "being deleted" in refused.text
    deleting_then_gone(world, plane, plain, network, "network")
    rendered = plain.get(vm, headers=TEXT).text
    assert 'occi.compute.state="active"' in rendered and network not in rendered


def test_a_network_whose_interface_cannot_be_unplugged_ends_in_error_and_a_delete_retries(world, client, plane,
                                                                                           plain):
    network = new_network(client, "10.33.0.0/24")
    vm = new(client, "/compute/", compute_body(link_line(network, "network", "networkinterface")))
    world.drivers.network.failures.fail_next("unplug", "the bridge is gone")
    plain.delete(network, status=200)
    plane.settle()
    state, message = state_and_message(plain, network, "network")
    assert state == "error" and "the bridge is gone" in message
    plain.delete(network, status=200)
    plane.settle()
    assert_gone(plain, network)
    plain.get(vm, status=200)


# --- links in every state -------------------------------------------------------------------------

@pytest.mark.parametrize("link_kind", ["networkinterface", "storagelink"])
@pytest.mark.parametrize("phase", ["attaching", "active", "error"])
def test_a_link_delete_in_every_state(world, client, plane, plain, link_kind, phase):
    vm = ready_compute(client, None)
    target = new_network(client, "10.34.0.0/24") if link_kind == "networkinterface" else new_volume(client)
    if phase == "error":
        failures = world.drivers.network.failures if link_kind == "networkinterface" else world.drivers.storage.failures
        failures.fail_next("plug" if link_kind == "networkinterface" else "attach", "refused by the host")
    app = plain if phase == "attaching" else client
    link = new_link(app, link_kind, vm, target)
    kind = link_kind
    expected = {"attaching": "inactive", "active": "active", "error": "error"}[phase]
    assert state_and_message(plain, link, kind)[0] == expected
    plain.delete(link, status=200)
    deleting_then_gone(world, plane, plain, link, kind)
    assert link not in plain.get(vm, headers=TEXT).text
    plain.get(target, status=200)  # only the link went


def test_a_link_of_a_compute_being_deleted_goes_with_it(world, client, plane, plain):
    network = new_network(client, "10.35.0.0/24")
    vm = new(client, "/compute/", compute_body(link_line(network, "network", "networkinterface")))
    [nic] = listed(plain, "/networkinterface/")
    plain.delete(vm, status=200)
    assert state_and_message(plain, nic, "networkinterface")[1] == "being deleted"
    plain.delete(nic, status=200)
    plane.settle()
    assert_gone(plain, nic)
    assert_gone(plain, vm)
    plain.get(network, status=200)


# --- collections ------------------------------------------------------------------------------------

def test_a_collection_delete_takes_every_compute_whatever_it_is_doing(world, client, plane, plain):
    settled = ready_compute(client, None)
    restarting = ready_compute(client, None)
    act(plain, restarting, "restart")
    plane.worker.drain()
    creating = new(plain, "/compute/", compute_body())
    plain.delete("/compute/", status=200)
    for vm in (settled, restarting, creating):
        assert state_and_message(plain, vm, "compute")[1] == "being deleted"
    plain.delete("/compute/", status=200)
    plane.settle()
    assert listed(plain, "/compute/") == []
    with world.session_factory() as session:
        assert session.scalar(select(VirtualMachine.id).where(VirtualMachine.id.in_(
            [entity_id(vm) for vm in (settled, restarting, creating)]))) is None
        actors = set(session.scalars(select(EventRecord.actor).where(
            EventRecord.action == "vm.destroy", EventRecord.state == "scheduled",
            EventRecord.resource_id == entity_id(settled))))
    assert actors == {client.user_name}


# --- the admin API --------------------------------------------------------------------------------

def test_an_administrator_deletes_any_project_s_compute_in_any_state_by_the_same_rules(world, client, plane,
                                                                                       plain, root):
    volume = new_volume(client)
    vm = new(client, "/compute/", compute_body(link_line(volume, "storage", "storagelink")))
    act(plain, vm, "restart")
    plane.worker.drain()  # rebooting on its host
    admin = TestApp(world.wsgi_app, extra_environ=root.extra_environ)  # lets no job run either
    admin_path = f"/admin/resources/compute/{entity_id(vm)}"
    answer = admin.delete(admin_path, status=200).json
    assert (answer["state"], answer["state_message"]) == ("rebooting", "being deleted")
    assert admin.delete(f"/admin/resources/storage/{entity_id(volume)}", status=200).json["state_message"] == \
        "being deleted"
    admin.delete(admin_path, status=200)
    assert state_and_message(plain, vm, "compute") == ("active", "being deleted")
    plane.settle()
    for path in (admin_path, f"/admin/resources/storage/{entity_id(volume)}"):
        admin.get(path, status=404)
        admin.delete(path, status=404)
    assert_gone(plain, vm)
    assert_gone(plain, volume)
    with world.session_factory() as session:
        actors = set(session.scalars(select(EventRecord.actor).where(EventRecord.resource_id == entity_id(vm),
                                                                     EventRecord.state == "scheduled",
                                                                     EventRecord.action == "vm.destroy")))
    assert actors == {f"admin:{admin_name(root)}"}
    refused = admin.delete("/admin/resources/network/public", status=409).json["error"]["message"]
    assert "shared by the whole cloud" in refused
    admin.get("/admin/resources/compute/" + "x" * 300, status=404)
    unknown = admin.delete("/admin/resources/vm/x", status=404).json["error"]["message"]
    assert "compute, storage, network, networkinterface, storagelink" in unknown


def admin_name(admin_client) -> str:
    credentials = admin_client.extra_environ["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    return base64.b64decode(credentials).decode().split(":", 1)[0]


# --- really at once ---------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["restart", "stop", "suspend"])
def test_deletes_and_an_action_sent_at_once(world, client, plane, plain, action):
    """Threads send three DELETEs and the action together: every DELETE is 200, the action is
    200 (it came first) or 409 (the compute was being deleted), and one teardown runs."""
    vm = ready_compute(client, None)
    start = threading.Barrier(4)
    answers: dict[str, list[int]] = {"delete": [], "action": []}

    def send(kind: str) -> None:
        start.wait()
        if kind == "delete":
            answers[kind].append(plain.delete(vm, status="*").status_int)
        else:
            answers[kind].append(act(plain, vm, action, status="*").status_int)

    threads = [threading.Thread(target=send, args=(kind,)) for kind in ("delete", "delete", "delete", "action")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers["delete"] == [200, 200, 200]
    assert answers["action"] in ([200], [409])
    assert [operation for operation, _ in jobs_of(world, entity_id(vm))].count("destroy_vm") == 1
    plane.settle()
    assert_gone(plain, vm)


def test_a_compute_and_its_storage_and_network_deleted_at_once(world, client, plane, plain):
    volume, network = new_volume(client), new_network(client, "10.36.0.0/24")
    vm = new(client, "/compute/", compute_body(link_line(volume, "storage", "storagelink"),
                                               link_line(network, "network", "networkinterface")))
    start = threading.Barrier(3)
    answers: list[int] = []

    def delete(path: str) -> None:
        start.wait()
        answers.append(plain.delete(path, status="*").status_int)

    threads = [threading.Thread(target=delete, args=(path,)) for path in (vm, volume, network)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200, 200, 200]
    plane.settle()
    for path in (vm, volume, network):
        assert_gone(plain, path)


def test_the_sweep_submits_a_waiting_delete_whose_link_went_unseen(world, client, plane, plain):
    """A volume's delete waits for its link; when the link goes in a transaction that could
    not see the mark, nothing submits the delete there -- the workers' sweep does."""
    volume = new_volume(client)
    with world.session_factory() as session, session.begin():
        session.execute(update(Entity.__table__).where(Entity.__table__.c.id == entity_id(volume))
                        .values(delete_requested_at=utcnow()))
    assert state_and_message(plain, volume, "storage")[1] == "being deleted"
    plane.worker.sweep()
    assert jobs_of(world, entity_id(volume))[-1] == ("delete_volume", "queued")
    plane.settle()
    assert_gone(plain, volume)
