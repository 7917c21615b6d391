"""The embedded default survives a restart: the server is started twice on one database and one
``var/simulated-hosts`` directory, with its in-process agents on libvirt's test driver, and
what ran before runs again -- an active compute is active, a stopped one stays stopped, an
attached volume stays attached -- and every action still works on them."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select
from webtest import TestApp

from occistack.model import Host, VirtualMachine
from occistack.api.orchestration import server_plane
from tests.conftest import basic, close_app, make_app, SettlingTestApp
from tests.occi import (
    TEXT, action, attribute, attributes_of, compute_body, kind, path_of, storage_body)


@contextmanager
def running_server(db_url: str, state_directory, **extra):
    """One life of the server: the application with its plane and in-process agents, shut
    down at the end as the process's exit would (the plane stops, the nodes are saved)."""
    settings = {"occistack.drivers": "libvirt-test", **extra}
    if state_directory is not None:
        settings["occistack.simulated_hosts.directory"] = str(state_directory)
    application = make_app(db_url, **settings)
    client = type("Client", (SettlingTestApp, TestApp), {})(
        application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    try:
        yield application, client
    finally:
        close_app(application)
        server_plane(application.registry).drivers.simulated.close()


def first_heartbeats(application) -> None:
    """What each agent sends first after registering: its guests' states, reconciled."""
    server_plane(application.registry).plane.agents.heartbeat()


def create_compute(client, title: str) -> str:
    return path_of(client.post("/compute/", compute_body(template="cirros-0.6", title=title), headers=TEXT,
                               status=201).headers["Location"])


def attach(client, compute: str, volume: str) -> str:
    body = "\n".join([kind("storagelink"), attribute("occi.core.source", compute),
                      attribute("occi.core.target", volume)])
    return path_of(client.post("/link/storagelink/", body, headers=TEXT, status=201).headers["Location"])


def describe(client, path: str) -> dict[str, str]:
    return attributes_of(client.get(path, headers=TEXT).text)


def act(client, path: str, name: str) -> None:
    client.post(f"{path}?action={name}", action(name), headers=TEXT, status=200)


def vm_of(application, path: str) -> VirtualMachine:
    with application.registry["occistack.session_factory"]() as session:
        return session.get(VirtualMachine, path.rsplit("/", 1)[1])


def test_computes_volumes_and_their_states_survive_a_restart(db_url, demo_data, tmp_path):
    state = tmp_path / "simulated-hosts"
    with running_server(db_url, state) as (application, client):
        running = create_compute(client, "runs")
        stopped = create_compute(client, "stopped")
        act(client, stopped, "stop")
        volume = path_of(client.post("/storage/", storage_body(1.0), headers=TEXT, status=201).headers["Location"])
        link = attach(client, running, volume)
        assert describe(client, link)["occi.storagelink.state"] == "active"
        host = vm_of(application, running).host_id
    assert any((state / name / "node.xml").exists() for name in ("host1", "host2")), list(state.iterdir())

    with running_server(db_url, state) as (application, client):
        first_heartbeats(application)
        assert describe(client, running)["occi.compute.state"] == "active", vm_of(application, running).state_message
        assert describe(client, stopped)["occi.compute.state"] == "inactive", vm_of(application, stopped).state_message
        assert vm_of(application, running).state_message is None
        assert vm_of(application, running).host_id == host
        assert describe(client, link)["occi.storagelink.state"] == "active"
        assert describe(client, volume)["occi.storage.state"] == "online"
        # Every action works on what came back: the hypervisor and the storage know them.
        act(client, running, "stop")
        act(client, stopped, "start")
        assert describe(client, running)["occi.compute.state"] == "inactive"
        assert describe(client, stopped)["occi.compute.state"] == "active"
        client.delete(link, status=200)
        link = attach(client, stopped, volume)
        assert describe(client, link)["occi.storagelink.state"] == "active"

    with running_server(db_url, state) as (application, client):  # and once more, after those changes
        first_heartbeats(application)
        assert describe(client, running)["occi.compute.state"] == "inactive"
        assert describe(client, stopped)["occi.compute.state"] == "active"
        act(client, running, "start")
        assert describe(client, running)["occi.compute.state"] == "active"
        for path in (link, running, stopped, volume):
            client.delete(path, status=200)


def test_a_suspended_compute_is_suspended_again_after_a_restart(db_url, demo_data, tmp_path):
    state = tmp_path / "simulated-hosts"
    with running_server(db_url, state) as (application, client):
        suspended = create_compute(client, "suspended")
        act(client, suspended, "suspend")
    with running_server(db_url, state) as (application, client):
        first_heartbeats(application)
        assert describe(client, suspended)["occi.compute.state"] == "suspended"
        act(client, suspended, "start")
        assert describe(client, suspended)["occi.compute.state"] == "active"


def test_without_a_state_directory_the_guests_are_forgotten(db_url, demo_data):
    """The control: the tests above would see the failure the issue reports if the nodes were
    not kept (libvirt's test driver starts every node from its file)."""
    with running_server(db_url, None) as (application, client):
        running = create_compute(client, "runs")
    with running_server(db_url, None) as (application, client):
        first_heartbeats(application)
        assert describe(client, running)["occi.compute.state"] == "error"
        assert "is no longer defined on host" in vm_of(application, running).state_message


def test_a_saved_node_that_cannot_be_loaded_is_set_aside(db_url, demo_data, tmp_path):
    """A damaged node file does not keep the server from starting: the host starts empty, the
    file is kept beside for a post-mortem, and the computes it held are reported gone."""
    state = tmp_path / "simulated-hosts"
    with running_server(db_url, state) as (application, client):
        running = create_compute(client, "runs")
        with application.registry["occistack.session_factory"]() as session:
            host = session.scalar(select(Host.name).where(Host.id == vm_of(application, running).host_id))
    (state / host / "node.xml").write_text("<node><domain>not a domain")
    with running_server(db_url, state) as (application, client):
        first_heartbeats(application)
        assert describe(client, running)["occi.compute.state"] == "error"
        assert [path.name.startswith("node.unloadable-") for path in (state / host).glob("node.unloadable-*")] == [True]
        client.delete(running, status=200)
