"""Issue 12, point 3: a DELETE always works.

Through the real WSGI stack, on SQLite and PostgreSQL. The races are driven by hand: ``plain``
is a client that settles nothing, so a test decides when the worker runs a job's step
(``plane.worker.drain()``) and when the hosts' agents carry out the commands
(``plane.agents.run_once()``); a DELETE sent from inside a fake driver's call arrives while the
host is doing the step.
"""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from occistack.model import AgentCommand, Entity, EventRecord, Job, OsTemplate, VirtualMachine, utcnow
from tests.functional.admin_client import root  # noqa: F401 - fixture
from tests.functional.occi_face import (
    INFRA,
    attributes,
    client,  # noqa: F401 - fixture
    entity_id,
    path_of,
    world,  # noqa: F401 - fixture
)

TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
CRTP = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"
ACTION = "http://schemas.ogf.org/occi/infrastructure/compute/action#"


def kind_line(term: str) -> str:
    return f'Category: {term}; scheme="{INFRA}"; class="kind"'


def link_line(target: str, target_kind: str, link_kind: str) -> str:
    return (f'Link: <{target}>; rel="{INFRA}{target_kind}"; '
            f'category="{INFRA}{link_kind}"')


def compute_body(*extra: str) -> str:
    return "\n".join([kind_line("compute"), f'Category: cirros-0.6; scheme="{OS_TPL}"; class="mixin"',
                      f'Category: small; scheme="{CRTP}"; class="mixin"', *extra])


def new(client, collection: str, body: str) -> str:
    return path_of(client.post(collection, body, headers=TEXT, status=201).headers["Location"])


def new_volume(client) -> str:
    return new(client, "/storage/", "\n".join([kind_line("storage"), "X-OCCI-Attribute: occi.storage.size=1"]))


def new_network(client, address: str = "10.31.0.0/24") -> str:
    return new(client, "/network/", "\n".join([
        kind_line("network"),
        'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; class="mixin"',
        f'X-OCCI-Attribute: occi.network.address="{address}"']))


def new_link(client, link_kind: str, source: str, target: str) -> str:
    return new(client, f"/{link_kind}/", "\n".join([kind_line(link_kind), f'X-OCCI-Attribute: occi.core.source="{source}"',
                                                  f'X-OCCI-Attribute: occi.core.target="{target}"']))


def act(app, path: str, term: str, *attrs: str, status=200):
    body = "\n".join([f'Category: {term}; scheme="{ACTION}"; class="action"', *attrs])
    return app.post(f"{path}?action={term}", body, headers=TEXT, status=status)


def shown(app, path: str) -> dict[str, str]:
    return attributes(app.get(path, headers=TEXT, status=200).text)


def state_and_message(app, path: str, kind: str) -> tuple[str, str | None]:
    rendered = shown(app, path)
    message = rendered.get(f"occi.{kind}.state.message")
    return rendered[f"occi.{kind}.state"].strip('"'), message.strip('"') if message else None


def listed(app, collection: str) -> list[str]:
    body = app.get(collection, headers={"Accept": "text/uri-list"}).text
    return [path_of(line.strip()) for line in body.splitlines() if line.strip() and not line.startswith("#")]


def linked_to(app, path: str) -> int:
    """How many links (not action links) a resource's rendering carries."""
    return sum(1 for line in app.get(path, headers=TEXT).text.splitlines()
               if line.startswith("Link:") and "self=" in line)


def assert_gone(app, path: str) -> None:
    """GET, DELETE and the collection agree that it is gone."""
    app.get(path, status=404)
    app.delete(path, status=404)
    assert path not in listed(app, path.rsplit("/", 1)[0] + "/")


@pytest.fixture
def plane(world):
    return world.wsgi_app.registry["occistack.plane"]


@pytest.fixture
def plain(world, client):
    """The test's user, through a client that lets no job run by itself."""
    return TestApp(world.wsgi_app, extra_environ=client.extra_environ)


def jobs_of(world, entity: str) -> list[tuple[str, str]]:
    with world.session_factory() as session:
        return [(job.operation, job.state) for job in
                session.scalars(select(Job).where(Job.entity_id == entity).order_by(Job.id))]


def commands_of(world, entity: str) -> list[str]:
    with world.session_factory() as session:
        return list(session.scalars(select(AgentCommand.name).join(Job, Job.id == AgentCommand.job_id)
                                    .where(Job.entity_id == entity).order_by(AgentCommand.id)))


def deleting_then_gone(world, plane, plain, path: str, kind: str = "compute") -> None:
    """While the teardown waits or runs: rendered "being deleted", a repeated DELETE is 200,
    the entity is still listed; once it ran: gone everywhere."""
    state, message = state_and_message(plain, path, kind)
    assert message == "being deleted", (state, message)
    plain.delete(path, status=200)
    assert path in listed(plain, path.rsplit("/", 1)[0] + "/")
    plane.settle()
    assert_gone(plain, path)


# --- a compute, raced against every action ------------------------------------------------------

#: action → what must hold before it, and the attributes it takes.
ACTIONS = {
    "start": ("stop", ()),
    "stop": (None, ()),
    "restart": (None, ()),
    "suspend": (None, ()),
    "save": (None, ('X-OCCI-Attribute: method="hot"',)),
}


def ready_compute(client, before: str | None) -> str:
    vm = new(client, "/compute/", compute_body())
    if before is not None:
        act(client, vm, before)
    return vm


@pytest.mark.parametrize("action", ACTIONS)
def test_a_delete_before_an_action_started_cancels_it(world, client, plane, plain, action):
    before, extra = ACTIONS[action]
    vm = ready_compute(client, before)
    sent_before = len(commands_of(world, entity_id(vm)))
    act(plain, vm, action, *extra)  # queued; no worker has run it
    plain.delete(vm, status=200)
    jobs = jobs_of(world, entity_id(vm))
    assert jobs[-2][1] == "cancelled" and jobs[-1] == ("destroy_vm", "queued"), jobs
    deleting_then_gone(world, plane, plain, vm)
    # The action never reached the host; the teardown did.
    assert commands_of(world, entity_id(vm))[sent_before:] == ["destroy_guest"]
    if action == "save":
        with world.session_factory() as session:
            saved = session.scalar(select(OsTemplate).where(OsTemplate.saved_from == entity_id(vm)))
            assert saved.state == "error" and "deleted before" in saved.description


@pytest.mark.parametrize("action", ACTIONS)
def test_a_delete_before_the_host_fetched_the_action_withdraws_it(world, client, plane, plain, action):
    before, extra = ACTIONS[action]
    vm = ready_compute(client, before)
    sent_before = len(commands_of(world, entity_id(vm)))
    act(plain, vm, action, *extra)
    plane.worker.drain()  # the worker sent the action's command; no host has fetched it yet
    plain.delete(vm, status=200)
    jobs = jobs_of(world, entity_id(vm))
    assert jobs[-2][1] == "cancelled" and jobs[-1] == ("destroy_vm", "queued"), jobs
    deleting_then_gone(world, plane, plain, vm)
    with world.session_factory() as session:
        withdrawn = session.scalars(select(AgentCommand).join(Job, Job.id == AgentCommand.job_id)
                                    .where(Job.entity_id == entity_id(vm)).order_by(AgentCommand.id)).all()
    assert [(c.name, c.state, c.deliveries) for c in withdrawn[sent_before:]] == [
        ("snapshot_guest" if action == "save" else "power_guest", "failed", 0), ("destroy_guest", "done", 1)]


#: action → the fake compute driver's method that carries it out on the host.
DRIVER_METHODS = {"start": "power", "stop": "power", "restart": "power", "suspend": "power", "save": "snapshot"}


@pytest.mark.parametrize("action", ACTIONS)
def test_a_delete_while_the_host_carries_out_the_action_waits_for_it(world, client, plane, plain, action,
                                                                     monkeypatch):
    before, extra = ACTIONS[action]
    vm = ready_compute(client, before)
    driver = world.drivers.compute
    original, seen = getattr(driver, DRIVER_METHODS[action]), []

    def carry_out_and_be_deleted_meanwhile(*arguments):
        state_during = state_and_message(plain, vm, "compute")[0]
        seen.append(plain.delete(vm, status=200).status_int)  # not 409 "cannot destroy … while it is active"
        seen.append(state_and_message(plain, vm, "compute") == (state_during, "being deleted"))
        seen.append(jobs_of(world, entity_id(vm))[-1])
        original(*arguments)

    monkeypatch.setattr(driver, DRIVER_METHODS[action], carry_out_and_be_deleted_meanwhile)
    act(plain, vm, action, *extra)
    plane.settle()
    assert seen == [200, True, ("destroy_vm", "held")]
    assert_gone(plain, vm)
    names = commands_of(world, entity_id(vm))
    assert names[-1] == "destroy_guest" and names[-2] in ("power_guest", "snapshot_guest")
    assert not any(entity_id(vm) in name for name in driver.guests)
    if action == "save":
        with world.session_factory() as session:
            saved = session.scalar(select(OsTemplate).where(OsTemplate.saved_from == entity_id(vm)))
            assert saved.state == "ready", "the save the host carried out is kept"


def test_a_resize_then_a_delete_and_no_change_once_deleting(world, client, plane, plain):
    vm = ready_compute(client, "stop")
    plain.post(vm, f'Category: medium; scheme="{CRTP}"; class="mixin"', headers=TEXT, status=200)
    plain.delete(vm, status=200)
    refused = plain.post(vm, f'Category: large; scheme="{CRTP}"; class="mixin"', headers=TEXT, status=409)
    assert "being deleted" in refused.text
    refused = act(plain, vm, "start", status=409)
    assert "being deleted" in refused.text
    deleting_then_gone(world, plane, plain, vm)


# --- a compute, raced against its create ---------------------------------------------------------

def test_a_delete_before_the_deploy_ran_cancels_it(world, client, plane, plain, monkeypatch):
    deployed = []
    monkeypatch.setattr(world.drivers.compute, "deploy", deployed.append)
    vm = new(plain, "/compute/", compute_body())  # the deploy command waits for its host
    plain.delete(vm, status=200)
    assert state_and_message(plain, vm, "compute") == ("inactive", "being deleted")
    assert jobs_of(world, entity_id(vm)) == [("deploy_vm", "cancelled"), ("destroy_vm", "queued")]
    deleting_then_gone(world, plane, plain, vm)
    assert deployed == [], "the host never received the deploy"
    assert commands_of(world, entity_id(vm)) == ["deploy_guest", "destroy_guest"]  # withdrawn, then the teardown


def test_a_delete_after_the_host_fetched_the_deploy_waits_for_it(world, client, plane, plain, monkeypatch):
    vm_holder: list[str] = []
    driver = world.drivers.compute
    original, seen = driver.deploy, []

    def deploy_and_be_deleted_meanwhile(guest):
        seen.append(plain.delete(vm_holder[0], status=200).status_int)
        seen.append(jobs_of(world, entity_id(vm_holder[0])))
        original(guest)

    monkeypatch.setattr(driver, "deploy", deploy_and_be_deleted_meanwhile)
    vm_holder.append(new(plain, "/compute/", compute_body()))
    plane.settle()
    assert seen == [200, [("deploy_vm", "waiting"), ("destroy_vm", "held")]]
    assert_gone(plain, vm_holder[0])
    assert not any(entity_id(vm_holder[0]) in name for name in driver.guests)


def test_a_delete_of_a_compute_whose_deploy_fails_meanwhile(world, client, plane, plain):
    world.drivers.compute.failures.fail_next("deploy", "the hypervisor refused the domain")
    vm = new(plain, "/compute/", compute_body())
    plain.delete(vm, status=200)
    plane.settle()  # the failed deploy is not retried on another host: the compute is going
    assert_gone(plain, vm)


# --- failures and retries ------------------------------------------------------------------------

def test_a_delete_that_fails_on_the_host_leaves_error_with_the_reason_and_a_delete_retries(world, client, plane,
                                                                                          plain):
    vm = ready_compute(client, None)
    volume = new_volume(client)
    new_link(client, "storagelink", vm, volume)
    links_before = linked_to(plain, vm)
    world.drivers.compute.failures.fail_next("destroy", "the hypervisor is wedged")
    plain.delete(vm, status=200)
    plain.delete(volume, status=200)  # waits for the compute to let go of it
    plane.settle()
    state, message = state_and_message(plain, vm, "compute")
    assert state == "error" and "the hypervisor is wedged" in message
    # Nothing half-deleted: its links are still there, and the storage says why it stayed.
    assert linked_to(plain, vm) == links_before == 2
    state, message = state_and_message(plain, volume, "storage")
    assert state == "error" and f"its compute {vm} could not be deleted" in message
    plain.delete(vm, status=200)
    plane.settle()
    assert_gone(plain, vm)
    plain.delete(volume, status=200)
    plane.settle()
    assert_gone(plain, volume)


def test_a_volume_delete_that_fails_on_the_host_is_retried_by_a_delete(world, client, plane, plain):
    volume = new_volume(client)
    world.drivers.storage.failures.fail_next("delete_volume", "the pool is read-only")
    plain.delete(volume, status=200)
    plane.settle()
    state, message = state_and_message(plain, volume, "storage")
    assert state == "error" and "the pool is read-only" in message
    plain.delete(volume, status=200)
    plane.settle()
    assert_gone(plain, volume)


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
