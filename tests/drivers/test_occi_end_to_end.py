"""End to end through OCCI onto two hosts: the management server under waitress (PostgreSQL, its
worker) and two ``occistack-agent`` processes, each in a network namespace of its own, reaching
the server over a veth. host1 is a real host: libvirtd with QEMU/TCG, Open vSwitch on its
userspace datapath, a dir storage pool; host2 is simulated (libvirt's test driver). Secondary
storage is nfs-ganesha, which host1's agent reads and writes over the NFS protocol.

What a user of the cloud does, in order:

* the site registers a template by URL (a boot disk built from Debian's kernel and busybox
  packages): host1 downloads it into secondary storage, checksum verified;
* two OCCI networks with one subnet on two VLANs; a compute A on the first boots on host1 from a
  qcow2 root disk backed by the template, takes the address the plane allocated by DHCP, says so
  on its serial console;
* a volume is attached to A while it runs; A is stopped and started; A is saved: its disk lands
  in secondary storage, checksummed, as a new os_tpl;
* a compute B made from the saved template boots on the first network and reaches A; a compute
  C on the second network (where a compute on host2 holds A's address) cannot reach A, though it
  reaches its own network's DHCP server;
* everything is deleted, and nothing is left: no domain, volume, config drive, port, VLAN on the
  trunk, DHCP server or namespace.

Each guest's PID 1 reports on its console what it reached (see GUEST_INIT); three TCG boots are
what this costs, the fewest that show all of it.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import signal
import subprocess
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from functools import partial
from pathlib import Path

import libvirt
import pytest
from pyroute2 import netns
import requests
import transaction
from sqlalchemy import select, update

from occistack.demo import seed_demo
from occistack.drivers.network.ovs import OvsNetworkDriver
from occistack.model import (Host, NetworkInterface, OsTemplate, SecondaryStorage, TemplateCopy, VirtualMachine,
                             make_engine)
from occistack.model.session import get_tm_session, make_session_factory
from occistack.model.states import HostStatus
from occistack.plane import admin
from occistack.plane.jobs.commands import network_name
from occistack.api.orchestration import plane_services
from tests.conftest import basic, empty_database, missing_component
from tests.drivers.guest_image import GuestImageUnavailable, build_boot_disk, build_guest_image
from tests.drivers.netfixtures import SESSION_TOKEN
from tests.drivers.test_real_host import NET_MARKER, NET_SETUP, STAY_UP, wait_for_console
from tests.integration.test_agent_http import Served, free_port, host_tokens, wait_for

AGENT = Path(sys.executable).parent / "occistack-agent"
INFRA = "http://schemas.ogf.org/occi/infrastructure#"
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
SMALL = 'Category: small; scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"; class="mixin"'
ACTIONS = INFRA.replace("#", "/compute/action#")
TEXT = {"Content-Type": "text/plain", "Accept": "text/plain", "Authorization": basic("demo", "demo")}
SUBNET = "10.233.0.0/24"
#: The first address the plane gives on a fresh network of SUBNET (.1 is its gateway, .254 its
#: DHCP server): A's on the first network, the host2 compute's on the second.
FIRST_ADDRESS = "10.233.0.2"
PING_MARKER = "OCCISTACK-PING"
#: PID 1 of every guest: take the address DHCP offers and report it, then ping the DHCP server
#: and FIRST_ADDRESS and report each.
GUEST_INIT = NET_SETUP + f"""for target in $(cat /dhcp-server) {FIRST_ADDRESS}; do
  if ping -c 3 -W 2 "$target" >/dev/null 2>&1; then result=ok; else result=unreachable; fi
  echo "{PING_MARKER} $target $result" > /dev/console
done
""" + STAY_UP
#: The server's side of each agent namespace's veth, and the agent's side.
SERVER_SIDE, AGENT_SIDE = {"host1": "10.251.0.1", "host2": "10.251.0.5"}, {"host1": "10.251.0.2",
                                                                          "host2": "10.251.0.6"}


@pytest.fixture
def boot_disk():
    try:
        return build_boot_disk(build_guest_image(GUEST_INIT, kernel_modules=("e1000.ko",)))
    except GuestImageUnavailable as error:
        missing_component(str(error))


@pytest.fixture
def image_server(boot_disk):
    """The boot disk over HTTP, on every address: host1's agent fetches it from its namespace."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(boot_disk.parent))
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{SERVER_SIDE['host1']}:{server.server_port}/{boot_disk.name}"
    server.shutdown()
    server.server_close()


def agent_namespace(plumbing, host: str) -> str:
    """A namespace whose eth0 reaches the server over a /30 veth."""
    namespace = plumbing.namespace(host)
    outside = f"{plumbing.prefix}{host[-1]}"
    plumbing.veth(outside, "eth0", namespace)
    subprocess.run(["ip", "addr", "add", f"{SERVER_SIDE[host]}/30", "dev", outside], check=True)
    subprocess.run(["ip", "-n", namespace, "addr", "add", f"{AGENT_SIDE[host]}/30", "dev", "eth0"], check=True)
    subprocess.run(["ip", "-n", namespace, "link", "set", "eth0", "up"], check=True)
    return namespace


class AgentProcess:
    """``occistack-agent`` under ``ip netns exec``, its output in a file beside its config."""

    def __init__(self, namespace: str, directory: Path, host: str, port: int, token: str, drivers: str):
        directory.mkdir(parents=True)
        (directory / "token").write_text(token + "\n")
        (directory / "agent.conf").write_text(
            f"[agent]\nserver = http://{SERVER_SIDE[host]}:{port}\nhost = {host}\n"
            f"token_file = {directory / 'token'}\n\n[drivers]\n{drivers}\nwork_dir = {directory / 'work'}\n")
        self.work = directory / "work"
        self.output = directory / "agent.log"
        with open(self.output, "w") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", namespace, str(AGENT), "-c", str(directory / "agent.conf")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def cloud(postgres_database, nfs_export, libvirtd, qemu_pool, switch, plumbing, tmp_path):
    url, problem = postgres_database
    if problem:
        missing_component(problem)
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    namespaces = {host: agent_namespace(plumbing, host) for host in ("host1", "host2")}
    engine = make_engine({"sqlalchemy.url": url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(make_session_factory(engine), manager)
        seed_demo(session)
        # Secondary storage as host1's agent sees it from its namespace.
        session.execute(update(SecondaryStorage).values(
            url=nfs_export.v3_url.replace("nfs://127.0.0.1/", f"nfs://{SERVER_SIDE['host1']}/")))
    engine.dispose()
    port = free_port()
    served = Served(url, port, host="0.0.0.0", **{"occistack.power": "none"})
    served.url = f"http://127.0.0.1:{port}"
    bridge = f"ot{SESSION_TOKEN}e2e{uuid.uuid4().hex[:3]}"
    tokens = host_tokens(served.session_factory)
    agents = {
        "host1": AgentProcess(namespaces["host1"], tmp_path / "host1", "host1", port, tokens["host1"], "\n".join([
            f"libvirt_uri = {running.uri}", "domain_type = qemu", "network = ovs", f"ovs_bridge = {bridge}",
            f"ovs_db_socket = {switch.db_socket}", "ovs_datapath = netdev", "nic_model = e1000", "storage = pool",
            # The agent has a network namespace of its own; the switch runs in this process's.
            f"switch_netns = /proc/{os.getpid()}/ns/net",
            f"pool = {qemu_pool}", "stop_timeout = 3"])),
        "host2": AgentProcess(namespaces["host2"], tmp_path / "host2", "host2", port, tokens["host2"], "\n".join([
            "libvirt_uri = test:///default", "domain_type = test", "network = fake", "storage = fake"])),
    }
    try:
        def both_up() -> bool:
            with served.session_factory() as session:
                return all(status == HostStatus.UP for status in session.scalars(select(Host.status)))

        wait_for(both_up, timeout=60, what="both agents registering")
        yield served, agents, running, qemu_pool, switch, bridge, nfs_export
    finally:
        codes = {host: agent.stop() for host, agent in agents.items()}
        served.close()
        switch.vsctl("--if-exists", "del-br", bridge)
        empty_database(url)
    logs = {host: agent.output.read_text(errors="replace")[-3000:] for host, agent in agents.items()}
    assert codes == {"host1": 0, "host2": 0}, f"the agents did not stop cleanly: {codes}\n{logs}"


def occi(served, method: str, path: str, body: str = "", status: int = 200) -> requests.Response:
    response = requests.request(method, served.url + path, data=body, headers=TEXT, timeout=60)
    assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
    return response


def attribute(text: str, name: str) -> str:
    prefix = f"X-OCCI-Attribute: {name}="
    return next(line[len(prefix):].strip('"') for line in text.splitlines() if line.startswith(prefix))


def state_of(served, path: str, kind: str = "compute") -> str:
    return attribute(occi(served, "GET", path).text, f"occi.{kind}.state")


def path_of(location: str) -> str:
    return "/" + location.split("/", 3)[3]


def create(served, kind: str, *lines: str) -> str:
    return path_of(occi(served, "POST", f"/{kind}/", "\n".join(
        [f'Category: {kind}; scheme="{INFRA}"; class="kind"', *lines]), status=201).headers["Location"])


def act(served, path: str, action: str, *attributes: str) -> requests.Response:
    return occi(served, "POST", f"{path}?action={action}", "\n".join(
        [f'Category: {action}; scheme="{ACTIONS}"; class="action"', *attributes]))


def compute_on(served, network: str, template: str) -> str:
    return create(served, "compute", f'Category: {template}; scheme="{OS_TPL}"; class="mixin"', SMALL,
                  f'Link: <{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"')


def wait_for_state(served, path: str, wanted: str, kind: str = "compute", timeout: float = 240.0) -> None:
    wait_for(lambda: state_of(served, path, kind) in (wanted, "error"), timeout=timeout,
             what=f"{path} becoming {wanted}")
    shown = occi(served, "GET", path).text
    assert state_of(served, path, kind) == wanted, shown


def guest(served, compute: str) -> tuple[str, str, str, str]:
    """(libvirt name, host, address, MAC) of a compute."""
    with served.session_factory() as session:
        vm = session.get(VirtualMachine, compute.rsplit("/", 1)[1])
        nic = session.scalar(select(NetworkInterface).where(NetworkInterface.vm_id == vm.id))
        return vm.instance_name, session.get(Host, vm.host_id).name, nic.address, nic.mac


def in_db(served, change) -> None:
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        change(get_tm_session(served.session_factory, manager))


def test_occi_computes_on_two_hosts_boot_reach_their_vlan_only_save_attach_and_leave_nothing(
        cloud, image_server, boot_disk):
    served, agents, libvirtd, pool, switch, bridge, nfs = cloud
    console = agents["host1"].work / "consoles"
    checksum = "sha256:" + hashlib.sha256(boot_disk.read_bytes()).hexdigest()
    in_db(served, lambda session: admin.register_template(
        session, term="tiny-linux", url=image_server, checksum=checksum, zone="zone1", os_family="linux",
        size_gib=0.0625, dispatcher=plane_services(served.app.registry).dispatcher))

    def template(term: str) -> OsTemplate | None:
        with served.session_factory() as session:
            return session.scalar(select(OsTemplate).where(OsTemplate.term == term))

    wait_for(lambda: template("tiny-linux").state in ("ready", "error"), timeout=120, what="the template download")
    assert template("tiny-linux").state == "ready", template("tiny-linux").description

    networks = []
    for _ in range(2):
        networks.append(create(served, "network",
                               f'Category: ipnetwork; scheme="{INFRA.replace("#", "/network#")}"; class="mixin"',
                               f'X-OCCI-Attribute: occi.network.address="{SUBNET}"'))
        wait_for_state(served, networks[-1], "active", kind="network")
    first, second = networks
    assert len({attribute(occi(served, "GET", network).text, "occi.network.vlan") for network in networks}) == 2

    # A boots on host1 with the plane's address.
    a = compute_on(served, first, "tiny-linux")
    wait_for_state(served, a, "active")
    a_name, a_host, a_address, _mac = guest(served, a)
    assert (a_host, a_address) == ("host1", FIRST_ADDRESS), agents["host1"].output.read_text()[-3000:]
    line = wait_for_console(console / f"{a_name}.log", NET_MARKER, timeout=240)
    assert f"{a_address}/24" in line, f"A did not get the address the plane allocated: {line}"

    # A volume attached to A while it runs shows in its definition as the device OCCI reports.
    volume = create(served, "storage", "X-OCCI-Attribute: occi.storage.size=1")
    wait_for_state(served, volume, "online", kind="storage")
    link = create(served, "storagelink", f'X-OCCI-Attribute: occi.core.source="{a}"',
                  f'X-OCCI-Attribute: occi.core.target="{volume}"')
    wait_for_state(served, link, "active", kind="storagelink")
    device = attribute(occi(served, "GET", link).text, "occi.storagelink.deviceid")
    volume_name = f"vol-{volume.rsplit('/', 1)[1]}"
    connection = libvirt.open(libvirtd.uri)
    try:
        disks = ET.fromstring(connection.lookupByName(a_name).XMLDesc(0)).findall("devices/disk")
        attached = {(disk.find("source").get("volume"), disk.find("target").get("dev"))
                    for disk in disks if disk.find("source") is not None}
        assert (volume_name, device.rsplit("/", 1)[-1]) in attached, f"{volume_name} is not {device}: {attached}"
    finally:
        connection.close()

    # Stop and start; then save A's disk as a new template, copied to secondary storage.
    act(served, a, "stop")
    wait_for_state(served, a, "inactive", timeout=60)
    act(served, a, "start")
    wait_for_state(served, a, "active", timeout=60)
    act(served, a, "save", 'X-OCCI-Attribute: name="tiny-saved"')
    wait_for(lambda: template("tiny-saved") is not None and template("tiny-saved").state in ("ready", "error"),
             timeout=180, what="the save")
    saved = template("tiny-saved")
    assert saved.state == "ready", saved.description
    with served.session_factory() as session:
        [saved_path] = session.scalars(select(TemplateCopy.secondary_path)
                                       .where(TemplateCopy.template_id == saved.id)).all()
    copy = nfs.directory / saved_path
    assert copy.exists() and saved.checksum == "sha256:" + hashlib.sha256(copy.read_bytes()).hexdigest()
    assert "tiny-saved" in occi(served, "GET", "/-/").text  # a new os_tpl of the project

    # host2 takes a compute on the second network (host1 disabled meanwhile): it holds the
    # address A has on the first, on a VLAN where no guest answers for it.
    in_db(served, lambda session: admin.disable_host(session, "host1"))
    held = compute_on(served, second, "tiny-linux")
    wait_for_state(served, held, "active", timeout=60)
    in_db(served, lambda session: admin.enable_host(session, "host1"))
    assert guest(served, held)[1:3] == ("host2", FIRST_ADDRESS)

    # B, from the saved template, on A's network reaches A; C on the other VLAN does not.
    b = compute_on(served, first, "tiny-saved")
    c = compute_on(served, second, "tiny-linux")
    for compute in (b, c):
        wait_for_state(served, compute, "active")
    reached = {}
    for compute in (b, c):
        name, host, _address, _mac = guest(served, compute)
        assert host == "host1", f"{compute} went to {host}: " + agents["host1"].output.read_text()[-3000:]
        reached[compute] = [wait_for_console(console / f"{name}.log", f"{PING_MARKER} {target} ", timeout=240)
                            for target in ("10.233.0.254", FIRST_ADDRESS)]
    assert all(line.endswith(" ok") for line in reached[b]), f"B (same VLAN as A, saved template): {reached[b]}"
    assert reached[c][0].endswith(" ok"), f"C does not reach its own network's DHCP server: {reached[c]}"
    assert reached[c][1].endswith(" unreachable"), f"C reaches A across VLANs: {reached[c]}"

    # Delete everything; nothing stays behind.
    guests = {compute: guest(served, compute) for compute in (a, b, c)}
    for compute in (a, b, c, held):
        occi(served, "DELETE", compute)
    for compute in (a, b, c, held):
        wait_for(lambda: requests.get(served.url + compute, headers=TEXT, timeout=30).status_code == 404,
                 timeout=90, what=f"{compute} going away")
    occi(served, "DELETE", volume)
    for network in networks:
        occi(served, "DELETE", network)
    for gone in (volume, *networks):
        wait_for(lambda: requests.get(served.url + gone, headers=TEXT, timeout=30).status_code == 404,
                 timeout=60, what=f"{gone} going away")
    connection = libvirt.open(libvirtd.uri)
    try:
        domains = {domain.name() for domain in connection.listAllDomains(0)}
        volumes = set(connection.storagePoolLookupByName(pool).listVolumes())
    finally:
        connection.close()
    names = [name for name, _host, _address, _mac in guests.values()]
    assert not domains & set(names), f"domains left behind: {domains & set(names)}"
    assert not [v for v in volumes if v.startswith(tuple(names)) or v in (volume_name, "tiny-saved")], volumes
    assert not list((agents["host1"].work / "config-drives").glob("*.iso"))
    for _name, _host, _address, mac in guests.values():
        assert not switch.vsctl("--bare", "--columns=name", "find", "Interface",
                                f'external_ids:attached-mac="{mac}"').split(), f"the port of {mac} was left behind"
    # The bridge's records of networks, NICs and DHCP servers (the VLANs it implements) are empty.
    recorded = switch.vsctl("--bare", "--columns=external_ids", "find", "Bridge", f"name={bridge}")
    assert "occistack-" not in recorded, f"host1 still implements: {recorded}"
    dhcp_namespaces = {OvsNetworkDriver.dhcp_namespace_of(bridge, network_name(network.rsplit("/", 1)[1]))
                       for network in networks}
    assert not dhcp_namespaces & set(netns.listnetns()), "a DHCP server's namespace was left behind"
