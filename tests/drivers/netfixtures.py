"""Fixtures for the network driver tests: a real Open vSwitch (ovsdb-server and ovs-vswitchd on
the userspace datapath) for the session, and one backend per network driver.

Everything a test creates is named ``ot<session><hex>...`` (bridges, veths) or
``occitest-ot<session>...`` (namespaces) and is removed after the test; the session's teardown
then checks that no bridge and no namespace of ours is left, and stops the daemons.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyroute2 import IPRoute, NetlinkError, NetNS, netns

from occistack.drivers.base import NetworkDriver
from occistack.drivers.fake import FakeNetworkDriver
from occistack.drivers.network import DhcpService, LinuxBridgeNetworkDriver, OvsNetworkDriver
from tests.conftest import missing_component

OVS_BINARIES = ("ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl")
OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
#: libvirt runs plain ovs-vsctl, which talks to the database at this path.
LIBVIRT_DB_SOCKET = Path("/run/openvswitch/db.sock")
#: In every name this session gives a bridge, veth or namespace, so that teardown can tell its
#: leftovers from those of a test session running beside it.
SESSION_TOKEN = uuid.uuid4().hex[:2]


class OvsUnavailable(Exception):
    pass


@dataclass
class OvsSwitch:
    """The session's ovsdb-server and ovs-vswitchd, living in ``directory``."""

    directory: Path
    saved_socket: Path | None = None
    #: started by another test session, which also stops it
    shared: bool = False

    @property
    def db_socket(self) -> str:
        return str(self.directory / "db.sock")

    def vsctl(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["ovs-vsctl", f"--db=unix:{self.db_socket}", "--timeout=10", *args],
                                capture_output=True, text=True, timeout=20)
        if check and result.returncode != 0:
            raise AssertionError(f"ovs-vsctl {' '.join(args)}: {result.stderr}")
        return result.stdout

    def bridges(self) -> list[str]:
        return self.vsctl("list-br").split()


def start_ovs(directory: Path) -> OvsSwitch:
    missing = [name for name in OVS_BINARIES if shutil.which(name) is None]
    if missing or not OVS_SCHEMA.exists():
        raise OvsUnavailable(f"Open vSwitch is not installed (missing {', '.join(missing) or OVS_SCHEMA}); "
                             "apt-get install openvswitch-switch")
    # Keep the daemons' pid, log and control files in our directory, never in /var/run/openvswitch.
    environment = {**os.environ, "OVS_RUNDIR": str(directory), "OVS_LOGDIR": str(directory),
                   "OVS_DBDIR": str(directory), "OVS_SYSCONFDIR": str(directory)}
    switch = OvsSwitch(directory)

    def run(*command: str) -> None:
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            stop_ovs(switch)
            raise OvsUnavailable(f"{' '.join(command)} failed: {result.stderr.strip()}")

    run("ovsdb-tool", "create", str(directory / "conf.db"), str(OVS_SCHEMA))
    run("ovsdb-server", str(directory / "conf.db"), f"--remote=punix:{switch.db_socket}",
        f"--pidfile={directory / 'ovsdb-server.pid'}", "--detach", f"--log-file={directory / 'ovsdb-server.log'}")
    run("ovs-vsctl", f"--db=unix:{switch.db_socket}", "--no-wait", "init")
    run("ovs-vswitchd", f"unix:{switch.db_socket}", f"--pidfile={directory / 'ovs-vswitchd.pid'}", "--detach",
        f"--log-file={directory / 'ovs-vswitchd.log'}")
    LIBVIRT_DB_SOCKET.parent.mkdir(parents=True, exist_ok=True)
    if LIBVIRT_DB_SOCKET.exists() or LIBVIRT_DB_SOCKET.is_symlink():
        switch.saved_socket = LIBVIRT_DB_SOCKET.with_name(f"db.sock.occitest-saved-{os.getpid()}")
        LIBVIRT_DB_SOCKET.rename(switch.saved_socket)
    LIBVIRT_DB_SOCKET.symlink_to(switch.db_socket)
    return switch


def stop_ovs(switch: OvsSwitch) -> None:
    if LIBVIRT_DB_SOCKET.is_symlink() and os.readlink(LIBVIRT_DB_SOCKET) == switch.db_socket:
        LIBVIRT_DB_SOCKET.unlink()
    saved = switch.saved_socket
    if saved is not None and saved.is_symlink() and not saved.exists():
        saved.unlink()  # it pointed at a test session that has ended meanwhile
    elif saved is not None and saved.exists() and not (LIBVIRT_DB_SOCKET.exists() or LIBVIRT_DB_SOCKET.is_symlink()):
        saved.rename(LIBVIRT_DB_SOCKET)
    for daemon in ("ovs-vswitchd", "ovsdb-server"):
        pid_file = switch.directory / f"{daemon}.pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 5
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)


def running(pid: int) -> bool:
    """Whether ``pid`` still runs; a zombie (a detached daemon whose reaper is slow) does not."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def our_namespaces() -> list[str]:
    return [name for name in netns.listnetns() if name.startswith(f"occitest-ot{SESSION_TOKEN}")]


def switch_of_another_session() -> OvsSwitch | None:
    """The OVS another test session on this host runs, if /run/openvswitch/db.sock leads to one.

    Two userspace-datapath vswitchds on one host break each other (both want the datapath's
    ``ovs-netdev`` device), so concurrent sessions share the first one's daemons."""
    if not LIBVIRT_DB_SOCKET.is_symlink():
        return None
    target = Path(os.readlink(LIBVIRT_DB_SOCKET))
    if not target.parent.name.startswith("occitest-ovs-") or not target.exists():
        return None
    switch = OvsSwitch(target.parent, shared=True)
    try:
        switch.vsctl("show")
    except (AssertionError, subprocess.TimeoutExpired):
        return None
    return switch


@pytest.fixture(scope="session")
def ovs_switch():
    """The session's Open vSwitch; ``(None, reason)`` when it cannot run here."""
    shared = switch_of_another_session()
    if shared is not None:
        yield shared, None
        remove_leftovers(shared)
        return
    # Unix socket paths are limited to 108 bytes: a short directory, not pytest's deep tmp tree.
    directory = Path(f"/tmp/occitest-ovs-{os.getpid()}")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    try:
        switch = start_ovs(directory)
    except OvsUnavailable as error:
        shutil.rmtree(directory, ignore_errors=True)
        yield None, str(error)
        return
    try:
        yield switch, None
    finally:
        try:
            remove_leftovers(switch)
        finally:
            stop_ovs(switch)
            shutil.rmtree(directory, ignore_errors=True)


def remove_leftovers(switch: OvsSwitch) -> None:
    """Remove this session's bridges, then fail if the tests had left any (or a namespace)."""
    leftovers = [bridge for bridge in switch.bridges() if bridge.startswith(f"ot{SESSION_TOKEN}")]
    for bridge in leftovers:
        switch.vsctl("--if-exists", "del-br", bridge)
    assert not leftovers, f"bridges left behind by the tests: {leftovers}"
    assert not our_namespaces(), f"namespaces left behind by the tests: {our_namespaces()}"


@pytest.fixture
def switch(ovs_switch) -> OvsSwitch:
    running, reason = ovs_switch
    if running is None:
        missing_component(reason)
    return running


# --- host plumbing the tests make, and remove --------------------------------------------------

@dataclass
class Plumbing:
    """veths and namespaces one test made; :meth:`remove` takes them all away again."""

    prefix: str = field(default_factory=lambda: f"ot{SESSION_TOKEN}{uuid.uuid4().hex[:3]}")
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def namespace(self, suffix: str) -> str:
        name = f"occitest-{self.prefix}-{suffix}"
        netns.create(name)
        self.namespaces.append(name)
        with NetNS(name, flags=0) as inside:
            inside.link("set", index=inside.link_lookup(ifname="lo")[0], state="up")
        return name

    def veth(self, name: str, peer: str, peer_namespace: str | None = None) -> None:
        """A veth pair in the host namespace, ``peer`` moved into ``peer_namespace`` (where it
        may take a name, like eth0, that the host already uses)."""
        transit = f"{name}t" if peer_namespace is not None else peer
        with IPRoute() as host:
            host.link("add", ifname=name, kind="veth", peer=transit)
            self.links.append(name)
            host.link("set", index=host.link_lookup(ifname=name)[0], state="up")
            if peer_namespace is None:
                host.link("set", index=host.link_lookup(ifname=peer)[0], state="up")
                return
            host.link("set", index=host.link_lookup(ifname=transit)[0], net_ns_fd=peer_namespace)
        with NetNS(peer_namespace, flags=0) as inside:
            inside.link("set", index=inside.link_lookup(ifname=transit)[0], ifname=peer)

    def remove(self) -> None:
        for name in self.namespaces:
            if name in netns.listnetns():
                netns.remove(name)
        with IPRoute() as host:
            for name in self.links:
                for index in host.link_lookup(ifname=name):
                    try:
                        host.link("del", index=index)
                    except NetlinkError as error:
                        if error.code != errno.ENODEV:  # gone with its namespace meanwhile
                            raise


def tx_off(interface: str, namespace: str | None = None) -> None:
    """The userspace datapath passes partial checksums through; make veths send whole ones."""
    command = ["ethtool", "-K", interface, "tx", "off"]
    if namespace is not None:
        command = ["ip", "netns", "exec", namespace, *command]
    subprocess.run(command, check=True, capture_output=True, timeout=10)


@pytest.fixture
def plumbing():
    made = Plumbing()
    yield made
    made.remove()


# --- one backend per driver ------------------------------------------------------------------

@dataclass
class NetworkBackend:
    """A network driver under test plus how to look behind it at the real switch."""

    kind: str
    driver: NetworkDriver
    #: two VLANs that tests may use; the Linux-bridge backend uses untagged networks because this
    #: kernel may lack 8021q (its tagged test says so and skips).
    vlans: tuple[int | None, int | None]
    switch: OvsSwitch | None = None
    namespace: str | None = None
    recreate: object = None  # a fresh driver on the same backend, as after an agent restart

    def carries(self, vlan: int | None) -> bool:
        """Whether the real switch (not the driver's records) is set up for ``vlan``."""
        if isinstance(self.driver, FakeNetworkDriver):
            return any(network["vlan"] == vlan for network in self.driver.networks.values())
        if isinstance(self.driver, OvsNetworkDriver):
            return (vlan if vlan is not None else 0) in self.driver.trunks()
        bridge = self.driver.bridge_for(vlan)
        with NetNS(self.namespace, flags=0) as inside:
            return bool(inside.link_lookup(ifname=bridge))


def make_backend(kind: str, request, plumbing: Plumbing, tmp_path: Path):
    """Build the ``kind`` backend; a generator so the caller's fixture can clean up after."""
    if kind == "fake":
        yield NetworkBackend(kind, FakeNetworkDriver(), vlans=(101, 102))
        return
    if kind == "ovs":
        switch: OvsSwitch = request.getfixturevalue("switch")
        bridge, uplink = f"{plumbing.prefix}b", f"{plumbing.prefix}u"
        plumbing.veth(uplink, f"{plumbing.prefix}p")

        def new_driver() -> OvsNetworkDriver:
            return OvsNetworkDriver(bridge, uplink, switch.db_socket, "netdev",
                                    dhcp=DhcpService(tmp_path / "dhcp"))

        driver = new_driver()
        try:
            yield NetworkBackend(kind, driver, vlans=(101, 102), switch=switch, recreate=new_driver)
        finally:
            remove_ovs_networks(driver, switch)
        return
    namespace = plumbing.namespace("lb")
    with NetNS(namespace, flags=0) as inside:
        inside.link("add", ifname="up0", kind="veth", peer="up0peer")
        inside.link("set", index=inside.link_lookup(ifname="up0peer")[0], state="up")

    def new_driver() -> LinuxBridgeNetworkDriver:
        return LinuxBridgeNetworkDriver("up0", tmp_path / "linux-bridge.json", namespace=namespace)

    yield NetworkBackend(kind, new_driver(), vlans=(None, None), namespace=namespace, recreate=new_driver)
    # The namespace goes with the plumbing, and every bridge in it with the namespace.


def remove_ovs_networks(driver: OvsNetworkDriver, switch: OvsSwitch) -> None:
    """Take down what a test left on its bridge (DHCP namespaces and dnsmasq included), then the bridge."""
    try:
        state = driver.state()
        for mac, nic in state.nics.items():
            driver.unplug(nic["guest"], mac)
        for network in set(state.networks) | set(state.dhcp):
            driver.delete_network(network)
    finally:
        switch.vsctl("--if-exists", "del-br", driver.bridge)


@pytest.fixture(params=["fake", "ovs", "linux-bridge"])
def network_backend(request, plumbing, tmp_path):
    yield from make_backend(request.param, request, plumbing, tmp_path)


@pytest.fixture(params=["ovs", "linux-bridge"])
def real_network_backend(request, plumbing, tmp_path):
    yield from make_backend(request.param, request, plumbing, tmp_path)


@pytest.fixture
def ovs_backend(request, plumbing, tmp_path):
    yield from make_backend("ovs", request, plumbing, tmp_path)
