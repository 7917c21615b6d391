"""End to end through OCCI onto a real host: the management server under waitress (PostgreSQL,
its worker), one ``occistack-agent`` over HTTP on the real drivers (libvirtd with QEMU/TCG, Open
vSwitch on its userspace datapath, a dir storage pool), secondary storage on nfs-ganesha.

A template is registered by URL (a boot disk built from Debian's kernel and busybox packages,
served over HTTP): a worker has the host download it into secondary storage over NFS, checksum
verified. An OCCI network with a subnet and a compute linked to it follow: the host copies the
template into its pool on first use, gives the guest a qcow2 root disk backed by it, a port with
the network's VLAN and a DHCP server. The guest boots from its disk, takes the address the
management plane allocated and says so on its serial console; a neighbour on its VLAN reaches
it, one on another VLAN does not. Stop, start and delete work, and nothing is left behind.

(The other host of the demo cloud has no agent here, so it never comes up and placement avoids
it; the agents do not run in network namespaces of their own yet.)
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import uuid
from functools import partial

import pytest
import requests
import transaction
from sqlalchemy import select, update

from occistack.demo import seed_demo
from occistack.drivers.base import DriverError
from occistack.hostagent.agent import Agent
from occistack.hostagent.config import DriverConfig
from occistack.hostagent.main import host_facts
from occistack.hostagent.transport import HttpTransport
from occistack.hostagent.wiring import libvirt_host_drivers
from occistack.model import Host, NetworkInterface, OsTemplate, SecondaryStorage, VirtualMachine, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.orchestrator import admin
from tests.conftest import basic, empty_database, missing_component
from tests.drivers.guest_image import GuestImageUnavailable, build_boot_disk, build_guest_image
from tests.drivers.netfixtures import SESSION_TOKEN
from tests.drivers.test_real_host import NET_INIT, NET_MARKER, add_neighbour, pings, wait_for_console
from tests.integration.test_agent_http import Served, free_port, host_tokens, wait_for

pytest_plugins = ("tests.drivers.netfixtures", "tests.drivers.nfsfixtures")

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
TEXT = {"Content-Type": "text/plain", "Accept": "text/plain", "Authorization": basic("demo", "demo")}
SUBNET = "10.233.0.0/24"


@pytest.fixture
def boot_disk():
    try:
        return build_boot_disk(build_guest_image(NET_INIT, kernel_modules=("e1000.ko",)))
    except GuestImageUnavailable as error:
        missing_component(str(error))


@pytest.fixture
def image_server(boot_disk):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(boot_disk.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/{boot_disk.name}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def cloud(postgres_database, nfs_export, libvirtd, qemu_pool, switch, tmp_path):
    url, problem = postgres_database
    if problem:
        missing_component(problem)
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    engine = make_engine({"sqlalchemy.url": url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(make_session_factory(engine), manager)
        seed_demo(session)
        session.execute(update(SecondaryStorage).values(url=nfs_export.v3_url))
    engine.dispose()
    served = Served(url, free_port(), **{"occistack.power": "none"})
    bridge = f"ot{SESSION_TOKEN}e2e{uuid.uuid4().hex[:3]}"
    drivers = libvirt_host_drivers(DriverConfig(
        libvirt_uri=running.uri, domain_type="qemu", network="ovs", ovs_bridge=bridge,
        ovs_db_socket=switch.db_socket, ovs_datapath="netdev", nic_model="e1000", storage="pool",
        pool=qemu_pool, work_dir=str(tmp_path / "agent"), stop_timeout="3"))
    token = host_tokens(served.session_factory)["host1"]
    agent = Agent("host1", token, host_facts(drivers), drivers, HttpTransport(served.url, token))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: agent.host_id, what="the agent registering")
    try:
        yield served, agent, drivers, switch, bridge, tmp_path / "agent"
    finally:
        stop.set()
        thread.join(timeout=30)
        agent.transport.close()
        served.close()
        drivers.compute.close()
        switch.vsctl("--if-exists", "del-br", bridge)
        empty_database(url)


def occi(served, method: str, path: str, body: str = "", status: int = 200) -> requests.Response:
    response = requests.request(method, served.url + path, data=body, headers=TEXT, timeout=60)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response


def attribute(text: str, name: str) -> str:
    prefix = f"X-OCCI-Attribute: {name}="
    return next(line[len(prefix):].strip('"') for line in text.splitlines() if line.startswith(prefix))


def test_an_occi_compute_boots_on_a_real_host_on_its_vlan_and_goes_away_cleanly(cloud, image_server, boot_disk,
                                                                               plumbing):
    served, agent, drivers, switch, bridge, work = cloud
    checksum = "sha256:" + hashlib.sha256(boot_disk.read_bytes()).hexdigest()
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(served.session_factory, manager)
        admin.register_template(session, term="tiny-linux", url=image_server, checksum=checksum, zone="zone1",
                                os_family="linux", size_gib=0.0625,
                                dispatcher=served.app.registry["occistack.dispatcher"])

    def template_state():
        with served.session_factory() as session:
            return session.scalar(select(OsTemplate.state).where(OsTemplate.term == "tiny-linux"))

    wait_for(lambda: template_state() in ("ready", "error"), timeout=120, what="the template download")
    assert template_state() == "ready"

    network = occi(served, "POST", "/network/", "\n".join([
        f'Category: network; scheme="{INFRA}"; class="kind"',
        f'Category: ipnetwork; scheme="{INFRA.replace("#", "/network#")}"; class="mixin"',
        f'X-OCCI-Attribute: occi.network.address="{SUBNET}"']), status=201).headers["Location"]
    network_path = "/" + network.split("/", 3)[3]
    wait_for(lambda: attribute(occi(served, "GET", network_path).text, "occi.network.state") == "active",
             what="the network becoming active")
    vlan = int(attribute(occi(served, "GET", network_path).text, "occi.network.vlan"))

    compute = occi(served, "POST", "/compute/", "\n".join([
        f'Category: compute; scheme="{INFRA}"; class="kind"',
        'Category: tiny-linux; scheme="http://occistack.local/occi/infrastructure/os_tpl#"; class="mixin"',
        'Category: small; scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"; class="mixin"',
        f'Link: <{network_path}>; rel="{INFRA}network"; category="{INFRA}networkinterface"']),
        status=201).headers["Location"]
    compute_path = "/" + compute.split("/", 3)[3]
    vm_id = compute_path.rsplit("/", 1)[1]
    wait_for(lambda: attribute(occi(served, "GET", compute_path).text, "occi.compute.state") in ("active", "error"),
             timeout=180, what="the compute becoming active")
    shown = occi(served, "GET", compute_path).text
    assert attribute(shown, "occi.compute.state") == "active", shown
    with served.session_factory() as session:
        vm = session.get(VirtualMachine, vm_id)
        nic = session.scalar(select(NetworkInterface).where(NetworkInterface.vm_id == vm_id))
        name, address, mac = vm.instance_name, nic.address, nic.mac
        assert session.get(Host, vm.host_id).name == "host1"
    line = wait_for_console(work / "consoles" / f"{name}.log", NET_MARKER, timeout=150)
    assert f"{address}/24" in line, f"the guest did not get the address the plane allocated ({address}): {line}"

    # Neighbours: one on the guest's VLAN reaches it, one on another VLAN does not.
    for suffix, tag, neighbour in (("same", vlan, "10.233.0.200"), ("other", vlan + 1, "10.233.0.201")):
        add_neighbour(plumbing, switch, bridge, suffix, tag, neighbour)
    try:
        assert pings(plumbing.namespaces[0], address), "a neighbour on the guest's VLAN cannot reach it"
        assert not pings(plumbing.namespaces[1], address), "another VLAN reaches the guest"
    finally:
        for port in plumbing.links:
            switch.vsctl("--if-exists", "del-port", bridge, port)

    stop = f'Category: stop; scheme="{INFRA.replace("#", "/compute/action#")}"; class="action"'
    occi(served, "POST", compute_path + "?action=stop", stop)
    wait_for(lambda: attribute(occi(served, "GET", compute_path).text, "occi.compute.state") == "inactive",
             timeout=60, what="the compute stopping")
    assert drivers.compute.state(name) == "stopped"
    start = f'Category: start; scheme="{INFRA.replace("#", "/compute/action#")}"; class="action"'
    occi(served, "POST", compute_path + "?action=start", start)
    wait_for(lambda: attribute(occi(served, "GET", compute_path).text, "occi.compute.state") == "active",
             timeout=60, what="the compute starting again")
    assert drivers.compute.state(name) == "running"

    occi(served, "DELETE", compute_path)
    wait_for(lambda: requests.get(served.url + compute_path, headers=TEXT, timeout=30).status_code == 404,
             timeout=60, what="the compute going away")
    assert drivers.compute.state(name) == "absent"
    occi(served, "DELETE", network_path)
    wait_for(lambda: not switch.vsctl("--bare", "--columns=name", "find", "Interface",
                                      f'external_ids:attached-mac="{mac}"').split(),
             timeout=30, what="the guest's port going away")
    # The host took the network down with its last guest: no VLAN on the trunk, no DHCP server.
    assert drivers.network.state().networks == {} and drivers.network.state().dhcp == {}, drivers.network.state()
    with pytest.raises(DriverError):
        drivers.storage.volume_size_gib(f"{name}-root")  # the guest's root disk went with it
    assert not (work / "config-drives" / f"{name}-config.iso").exists()
