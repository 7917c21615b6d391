"""The embedded default's hosts on libvirt's test driver (``occistack.drivers = libvirt-test``):
a compute's whole life through OCCI goes through domain XML and libvirt, on a node per host."""

from __future__ import annotations

import pytest
import transaction
from sqlalchemy import select
from webtest import TestApp

from occistack.model import Host, OsTemplate, VirtualMachine
from occistack.model.session import get_tm_session
from occistack.plane.context import PlaneContext
from occistack.plane.tenant import admin_vms
from occistack.api.orchestration import server_plane
from tests.conftest import basic, running_app, SettlingTestApp
from tests.api.test_management_plane import TEXT, compute_body

ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"


@pytest.fixture
def cloud(db_url, demo_data):
    with running_app(db_url, **{"occistack.drivers": "libvirt-test"}) as application:
        client = type("Client", (SettlingTestApp, TestApp), {})(
            application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
        yield application, client


def action(client, location: str, name: str, *attributes: str) -> None:
    client.post(f"{location}?action={name}", "\n".join(
        [f'Category: {name}; scheme="{ACTIONS}"; class="action"', *attributes]), headers=TEXT, status=200)


def state_of(client, location: str) -> str:
    text = client.get(location, headers=TEXT).text
    return next(line.split("=", 1)[1].strip('"') for line in text.splitlines()
                if line.startswith("X-OCCI-Attribute: occi.compute.state="))


def test_a_compute_lives_and_dies_on_a_libvirt_test_node(cloud):
    application, client = cloud
    location = client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"]
    location = "/" + location.split("/", 3)[3]
    assert state_of(client, location) == "active"
    sessions = application.registry["occistack.session_factory"]
    with sessions() as session:
        vm = session.get(VirtualMachine, location.rsplit("/", 1)[1])
        host = session.get(Host, vm.host_id).name
        name = vm.instance_name
    compute = server_plane(application.registry).drivers.by_host[host].compute
    assert type(compute).__name__ == "LibvirtComputeDriver" and compute.uri.startswith("test:///")
    assert compute.guest_states()[name] == "running"
    action(client, location, "stop")
    assert state_of(client, location) == "inactive" and compute.state(name) == "stopped"
    action(client, location, "start")
    action(client, location, "suspend")
    assert state_of(client, location) == "suspended" and compute.state(name) == "suspended"
    action(client, location, "start")
    action(client, location, "save", 'X-OCCI-Attribute: name="simulated-save"')
    with sessions() as session:
        saved = session.scalar(select(OsTemplate).where(OsTemplate.term == "simulated-save"))
        assert saved is not None and saved.state == "ready", f"the saved image did not become a template: {vars(saved)}"
    client.delete(location, status=200)
    assert compute.state(name) == "absent"


def test_a_simulated_host_takes_more_guests_than_its_pool_would_at_real_sizes(cloud):
    """libvirt's test driver gives every pool 100 GiB whatever the node file says: the simulated
    root volumes are small enough that a host is never full of disks before it is full of
    guests (at 10 GiB each, the eleventh compute on a host ended in error)."""
    application, client = cloud
    locations = [client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"]
                 for _ in range(24)]
    assert {state_of(client, location) for location in locations} == {"active"}
    for location in locations:
        client.delete(location, status=200)


def test_a_compute_migrates_between_libvirt_test_nodes(cloud):
    application, client = cloud
    location = "/" + client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"].split("/", 3)[3]
    vm_id = location.rsplit("/", 1)[1]
    sessions = application.registry["occistack.session_factory"]
    with sessions() as session:
        vm = session.get(VirtualMachine, vm_id)
        source, name = vm.host_id, vm.instance_name
    services = server_plane(application.registry)
    with transaction.manager:
        ctx = PlaneContext(get_tm_session(sessions, transaction.manager), None, services.services, operator="cli:test")
        admin_vms.migrate(ctx, vm_id)
    services.plane.settle()
    with sessions() as session:
        vm = session.get(VirtualMachine, vm_id)
        hosts = {host.id: host.name for host in session.scalars(select(Host))}
    assert vm.state == "running" and vm.host_id != source, vm.state_message
    nodes = services.drivers.by_host
    assert nodes[hosts[vm.host_id]].compute.state(name) == "running"
    assert nodes[hosts[source]].compute.state(name) == "absent"
    assert state_of(client, location) == "active"
    client.delete(location, status=200)
