"""A bare-metal compute on a real BMC: virtualbmc in front of a QEMU (TCG) domain on
qemu:///system stands for the node, the management server speaks IPMI to it with pyghmi.

The administrator's steps are the real ones (a BareMetal cluster, the node, its BMC with the
password sealed, a BareMetal offering); the worker reads the node's power state over IPMI and
the node comes Up. An OCCI create then really starts the domain, with the boot device the user
asked for written into its definition before it started; the delete powers it off, and the node
is free again. One boot, of a diskless guest that sits in SeaBIOS (nothing to boot is needed:
what is proven is who switched it on, and from which device).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import libvirt
import pytest
import transaction
from sqlalchemy import select
from webtest import TestApp

from occistack.demo import seed_demo
from occistack.model import EventRecord, Host, VirtualMachine, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane import admin
from occistack.api.orchestration import plane_services, server_plane
from tests.conftest import basic, empty_database, make_app, missing_component, SettlingTestApp
from tests.drivers.bmcfixtures import USERNAME, domain_behind_vbmc
from tests.drivers.conftest import GUEST_PREFIX

TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}
COMPUTE = "\n".join([
    'Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
    'Category: cirros-0.6; scheme="http://occistack.local/occi/infrastructure/os_tpl#"; class="mixin"',
    'Category: metal; scheme="http://occistack.local/occi/infrastructure/resource_tpl#"; class="mixin"',
    'X-OCCI-Attribute: occistack.compute.boot_device="cdrom"',
])


@pytest.fixture
def node(libvirtd, tmp_path):
    """A defined, switched-off QEMU domain with virtualbmc answering for it."""
    with domain_behind_vbmc(libvirtd, tmp_path / "vbmc", f"{GUEST_PREFIX}metal-{uuid.uuid4().hex[:8]}") as (
            _connection, domain, vbmc):
        yield domain, vbmc


@pytest.fixture
def cloud(postgres_database, node):
    """The server in this process on PostgreSQL, speaking IPMI, with the node in a BareMetal
    cluster of the demo zone and an offering for it; a client that settles each request."""
    url, problem = postgres_database
    if problem:
        missing_component(problem)
    engine = make_engine({"sqlalchemy.url": url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        seed_demo(get_tm_session(make_session_factory(engine), manager))
    engine.dispose()
    application = make_app(url, **{"occistack.power": "ipmi", "occistack.power.timeout_seconds": "20"})
    registry = application.registry
    domain, vbmc = node
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(registry["occistack.session_factory"], manager)
        cluster = admin.create_cluster(session, pod="pod1", zone="zone1", name="metal", hypervisor="BareMetal")
        host = admin.add_host(session, cluster=cluster.id, name="metal1", address="10.0.0.41", cpu_cores=1,
                              cpu_mhz=2000, memory_mib=1024).host
        admin.set_host_bmc(session, host.id, address=vbmc.bmc.address, port=vbmc.bmc.port, username=USERNAME,
                           password=vbmc.bmc.password, sealer=server_plane(registry).sealer,
                           dispatcher=plane_services(registry).dispatcher)
        admin.create_offering(session, term="metal", cores=1, memory_gib=1, hypervisor="BareMetal")
        host_id = host.id
    server_plane(registry).plane.settle()   # the worker reads the node's power state over IPMI
    client = type("Client", (SettlingTestApp, TestApp), {})(
        application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    try:
        yield client, registry["occistack.session_factory"], host_id
    finally:
        server_plane(registry).plane.stop()
        registry["occistack.engine"].dispose()
        empty_database(url)


def boot_device_of(xml: str) -> str | None:
    boot = ET.fromstring(xml).find("os/boot")
    return None if boot is None else boot.get("dev")


def test_an_occi_create_powers_the_node_on_from_the_asked_device_and_delete_powers_it_off(cloud, node):
    client, session_factory, host_id = cloud
    domain, vbmc = node
    with session_factory() as session:
        host = session.get(Host, host_id)
        assert (host.status, host.state_message) == (
            "up", f"its BMC at {vbmc.bmc.address}:{vbmc.bmc.port} answered: the node is off")
    assert not domain.isActive()
    assert boot_device_of(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == "hd"   # libvirt's default

    vm = client.post("/compute/", COMPUTE, headers=TEXT, status=201).headers["Location"].rsplit("/", 1)[1]
    shown = client.get(f"/compute/{vm}", headers=TEXT).text
    assert 'occi.compute.state="active"' in shown, shown
    assert domain.isActive(), "the domain was not started through its BMC"
    assert boot_device_of(domain.XMLDesc(0)) == "cdrom", "it did not start from the device the user asked for"
    with session_factory() as session:
        assert session.get(VirtualMachine, vm).host_id == host_id
        assert (session.get(Host, host_id).cpu_used_mhz, session.get(Host, host_id).memory_used_mib) == (2000, 1024)

    client.delete(f"/compute/{vm}", status=200)
    client.get(f"/compute/{vm}", status=404)
    assert not domain.isActive(), "delete did not power the node off"
    with session_factory() as session:
        host = session.get(Host, host_id)
        assert (host.cpu_used_mhz, host.memory_used_mib) == (0, 0)
        completed = session.scalar(select(EventRecord.description).where(
            EventRecord.resource_id == vm, EventRecord.action == "vm.destroy", EventRecord.state == "completed"))
    assert completed == "deleted; bare-metal node metal1 powered off and free again"
