"""Issue 12, point 3: a DELETE always works -- a compute raced against its actions and its
create, and deletes that fail on the host (storage, networks, links, collections, the admin
API and truly concurrent requests are in test_deletes_linked.py).

Through the real WSGI stack, on SQLite and PostgreSQL. The races are driven by hand: ``plain``
is a client that settles nothing, so a test decides when the worker runs a job's step
(``plane.worker.drain()``) and when the hosts' agents carry out the commands
(``plane.agents.run_once()``); a DELETE sent from inside a fake driver's call arrives while the
host is doing the step.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.model import AgentCommand, Job, OsTemplate
from tests.api.occi_face import (
    INFRA,
    attributes,
    entity_id,
    path_of,
)
from tests.occi import CRTP, OS_TPL, TEXT

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
    assert state == "error" and f"its compute {entity_id(vm)} could not be deleted" in message
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
