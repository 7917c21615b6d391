"""The NetworkDriver contract, run against the fake, Open vSwitch (real daemons, userspace
datapath) and Linux bridges (in a namespace of their own); then real 802.1Q isolation and DHCP on
OVS with network namespaces standing in for guests."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import time

import pytest
from pyroute2 import NetlinkError, NetNS, netns

pytest.register_assert_rewrite("tests.drivers.netfixtures")

from occistack.drivers.base import DriverError  # noqa: E402 - after the rewrite hook
from occistack.drivers.network import DhcpService, OvsNetworkDriver  # noqa: E402
from tests.conftest import missing_component  # noqa: E402
from tests.drivers.netfixtures import OvsSwitch, Plumbing, our_namespaces, remove_ovs_networks, tx_off  # noqa: E402

MAC_A = "52:54:00:00:00:0a"
MAC_B = "52:54:00:00:00:0b"


# --- the contract, for every driver ------------------------------------------------------------

def test_create_network_is_idempotent(network_backend):
    vlan, _ = network_backend.vlans
    network_backend.driver.create_network("net-a", vlan)
    network_backend.driver.create_network("net-a", vlan)
    assert network_backend.carries(vlan)


def test_the_same_name_with_another_vlan_is_refused(network_backend):
    vlan, _ = network_backend.vlans
    network_backend.driver.create_network("net-a", vlan)
    with pytest.raises(DriverError, match="net-a exists with VLAN"):
        network_backend.driver.create_network("net-a", 333 if vlan is None else None)


def test_plugging_into_an_unknown_network_is_refused(network_backend):
    with pytest.raises(DriverError, match="no network named nowhere"):
        network_backend.driver.plug("guest-1", "nowhere", MAC_A)


def test_plugging_a_mac_twice_is_refused(network_backend):
    vlan, _ = network_backend.vlans
    network_backend.driver.create_network("net-a", vlan)
    network_backend.driver.plug("guest-1", "net-a", MAC_A)
    with pytest.raises(DriverError, match="already plugged"):
        network_backend.driver.plug("guest-2", "net-a", MAC_A)


def test_unplug_is_idempotent_and_frees_the_mac(network_backend):
    vlan, _ = network_backend.vlans
    driver = network_backend.driver
    driver.create_network("net-a", vlan)
    driver.plug("guest-1", "net-a", MAC_A)
    driver.unplug("guest-2", MAC_A)  # another guest's MAC stays plugged
    with pytest.raises(DriverError, match="already plugged"):
        driver.plug("guest-3", "net-a", MAC_A)
    driver.unplug("guest-1", MAC_A)
    driver.unplug("guest-1", MAC_A)
    driver.plug("guest-3", "net-a", MAC_A)


def test_a_network_with_nics_cannot_be_deleted(network_backend):
    vlan, _ = network_backend.vlans
    driver = network_backend.driver
    driver.create_network("net-a", vlan)
    driver.plug("guest-1", "net-a", MAC_A)
    with pytest.raises(DriverError, match="net-a still has"):
        driver.delete_network("net-a")
    assert network_backend.carries(vlan)
    driver.unplug("guest-1", MAC_A)
    driver.delete_network("net-a")
    assert not network_backend.carries(vlan)


def test_deleting_an_absent_network_is_fine(network_backend):
    network_backend.driver.delete_network("never-was")
    network_backend.driver.delete_network("never-was")


def test_a_deleted_network_leaves_the_others(network_backend):
    first, second = network_backend.vlans
    driver = network_backend.driver
    driver.create_network("net-a", first)
    driver.create_network("net-b", second)
    driver.delete_network("net-a")
    assert network_backend.carries(second)
    driver.plug("guest-1", "net-b", MAC_B)
    with pytest.raises(DriverError, match="no network named net-a"):
        driver.plug("guest-1", "net-a", MAC_A)


# --- what only real drivers have: the libvirt hook, persistence, tagged VLANs ---------------

def test_interface_for_names_the_bridge_and_tag(real_network_backend):
    vlan, _ = real_network_backend.vlans
    driver = real_network_backend.driver
    driver.create_network("net-a", vlan)
    interface = driver.interface_for("net-a", MAC_A.upper())
    assert interface.mac == MAC_A
    assert interface.model == "virtio"
    if isinstance(driver, OvsNetworkDriver):
        assert (interface.bridge, interface.vlan, interface.openvswitch) == (driver.bridge, vlan, True)
    else:
        assert (interface.bridge, interface.vlan, interface.openvswitch) == ("brup0", None, False)
    with pytest.raises(DriverError, match="no network named nowhere"):
        driver.interface_for("nowhere", MAC_A)


def test_state_survives_an_agent_restart(real_network_backend):
    vlan, _ = real_network_backend.vlans
    real_network_backend.driver.create_network("net-a", vlan)
    real_network_backend.driver.plug("guest-1", "net-a", MAC_A)
    restarted = real_network_backend.recreate()
    with pytest.raises(DriverError, match="already plugged"):
        restarted.plug("guest-1", "net-a", MAC_A)
    with pytest.raises(DriverError, match="exists with VLAN"):
        restarted.create_network("net-a", 333 if vlan is None else None)
    restarted.unplug("guest-1", MAC_A)
    restarted.delete_network("net-a")
    assert not real_network_backend.carries(vlan)


def test_tagged_networks_come_and_go(real_network_backend):
    driver = real_network_backend.driver
    try:
        driver.create_network("tagged-a", 100)
    except DriverError as error:
        cause = error.__cause__
        if isinstance(cause, NetlinkError) and cause.code == errno.EOPNOTSUPP:
            pytest.skip(f"this kernel has no 8021q (VLAN links are not supported): {error}")
        raise
    driver.create_network("tagged-b", 200)
    driver.create_network("tagged-c", 200)  # a second network on a VLAN shares its bridge
    assert real_network_backend.carries(100) and real_network_backend.carries(200)
    driver.delete_network("tagged-b")
    assert real_network_backend.carries(200)
    driver.delete_network("tagged-c")
    assert not real_network_backend.carries(200)
    assert real_network_backend.carries(100)
    interface = driver.interface_for("tagged-a", MAC_A)
    if isinstance(driver, OvsNetworkDriver):
        assert interface.vlan == 100
    else:
        assert (interface.bridge, interface.vlan) == ("brup0-100", None)


def test_ovs_uplink_trunks_exactly_the_vlans_in_use(ovs_backend):
    driver = ovs_backend.driver
    driver.create_network("net-a", 101)
    driver.create_network("net-b", 102)
    assert driver.trunks() == [101, 102]
    driver.create_network("net-u", None)
    assert driver.trunks() == [0, 101, 102]  # VLAN 0: the untagged frames
    switch = ovs_backend.switch
    assert switch.vsctl("get", "Bridge", driver.bridge, "datapath_type").strip() == "netdev"
    driver.delete_network("net-a")
    driver.delete_network("net-u")
    assert driver.trunks() == [102]
    driver.delete_network("net-b")
    # With no VLAN left the uplink leaves the bridge: an empty trunk list would carry every VLAN.
    assert driver.uplink not in switch.vsctl("list-ports", driver.bridge).split()


def test_ovs_failures_name_the_command(switch):
    driver = OvsNetworkDriver("otnosuch", None, switch.db_socket + ".absent", "netdev", timeout=1)
    with pytest.raises(DriverError, match="ovs-vsctl .*failed"):
        driver.create_network("net-a", 100)


def test_ovs_refuses_a_bridge_on_another_datapath(ovs_backend):
    ovs_backend.driver.create_network("net-a", 101)  # makes the bridge, on netdev
    kernel = OvsNetworkDriver(ovs_backend.driver.bridge, None, ovs_backend.switch.db_socket, "system")
    with pytest.raises(DriverError, match="uses datapath type netdev, but this host is configured for system"):
        kernel.create_network("net-b", 102)


def test_ovs_refuses_a_missing_uplink(switch, plumbing):
    driver = OvsNetworkDriver(f"{plumbing.prefix}b", f"{plumbing.prefix}x", switch.db_socket, "netdev")
    try:
        with pytest.raises(DriverError, match="could not open network device"):
            driver.create_network("net-a", 101)
    finally:
        switch.vsctl("--if-exists", "del-br", driver.bridge)


# --- real isolation and DHCP on OVS -------------------------------------------------------------

GUESTS = {  # namespace suffix → (network, MAC, address handed out by DHCP or set by hand)
    "h1": ("iso-100", "52:54:00:10:00:01", "10.201.0.11"),
    "h2": ("iso-100", "52:54:00:10:00:02", "10.201.0.12"),
    "h3": ("iso-200", "52:54:00:20:00:03", "10.201.0.13"),
}

UDHCPC_SCRIPT = """#!/bin/sh
# udhcpc calls this with the lease in its environment; only "bound" needs an address set.
if [ "$1" = bound ]; then ip addr add "$ip/$mask" dev "$interface"; fi
exit 0
"""


@pytest.fixture
def isolated_networks(switch, plumbing: Plumbing, tmp_path):
    """An OVS bridge with networks iso-100 (VLAN 100, DHCP on 10.201.0.0/24) and iso-200, and
    a namespace per guest whose veth is an access port of the bridge, as libvirt makes for a tap."""
    for tool, package in (("busybox", "busybox"), ("dnsmasq", "dnsmasq-base"), ("ethtool", "ethtool")):
        if shutil.which(tool) is None:
            missing_component(f"{tool} is not installed (apt-get install {package})")
    dhcp = DhcpService(tmp_path / "dhcp", ready_timeout=5)
    driver = OvsNetworkDriver(f"{plumbing.prefix}b", None, switch.db_socket, "netdev", dhcp=dhcp)
    try:
        driver.create_network("iso-100", 100)
        driver.create_network("iso-200", 200)
        driver.configure_dhcp("iso-100", "10.201.0.0/24", "10.201.0.1")
        namespaces = {}
        for suffix, (network, mac, address) in GUESTS.items():
            driver.plug(f"guest-{suffix}", network, mac, address=address, hostname=f"guest-{suffix}")
            namespaces[suffix] = attach_guest(switch, plumbing, driver, suffix, network, mac)
        yield driver, namespaces
    finally:
        try:
            remove_ovs_networks(driver, switch)
        finally:
            plumbing.remove()
        assert not [n for n in our_namespaces() if plumbing.prefix in n]
        assert driver.dhcp_namespace("iso-100") not in netns.listnetns()
        assert driver.bridge not in switch.bridges()
        assert dhcp.pid("iso-100") is None
        assert not (tmp_path / "dhcp" / "iso-100").exists()


def attach_guest(switch: OvsSwitch, plumbing: Plumbing, driver: OvsNetworkDriver, suffix: str, network: str,
                 mac: str) -> str:
    namespace = plumbing.namespace(suffix)
    port = f"{plumbing.prefix}{suffix}"
    plumbing.veth(port, "eth0", peer_namespace=namespace)
    with NetNS(namespace, flags=0) as inside:
        index = inside.link_lookup(ifname="eth0")[0]
        inside.link("set", index=index, address=mac, state="up")
    tx_off(port)
    tx_off("eth0", namespace)
    interface = driver.interface_for(network, mac)
    switch.vsctl("add-port", interface.bridge, port, f"tag={interface.vlan}", "--",
                 "set", "Interface", port, f"external_ids:attached-mac=\"{mac}\"")
    return namespace


def in_namespace(namespace: str, *command: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", namespace, *command], capture_output=True, text=True,
                          timeout=timeout)


def lease(namespace: str, script, tries: int) -> subprocess.CompletedProcess:
    return in_namespace(namespace, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", str(tries),
                        "-T", "1", "-s", str(script))


def addresses(namespace: str) -> str:
    return in_namespace(namespace, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout


def test_vlans_isolate_and_dhcp_hands_out_the_allocated_addresses(isolated_networks, tmp_path):
    driver, namespaces = isolated_networks
    script = tmp_path / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)

    started = time.monotonic()
    for suffix in ("h1", "h2"):
        result = lease(namespaces[suffix], script, tries=5)
        assert result.returncode == 0, f"{suffix} got no lease: {result.stdout} {result.stderr}"
        assert f"inet {GUESTS[suffix][2]}/24" in addresses(namespaces[suffix])
    assert time.monotonic() - started < 15

    # VLAN 200 reaches no DHCP server (none serves it, and VLAN 100's must not hear it).
    assert lease(namespaces["h3"], script, tries=2).returncode != 0
    in_namespace(namespaces["h3"], "ip", "addr", "add", f"{GUESTS['h3'][2]}/24", "dev", "eth0")

    def ping(source: str, target: str) -> bool:
        # busybox, as iputils' ping is not installed everywhere; -A: the next echo on each reply.
        return in_namespace(namespaces[source], "busybox", "ping", "-c", "3", "-A", "-w", "2",
                            GUESTS[target][2]).returncode == 0

    assert ping("h1", "h2")
    assert ping("h2", "h1")
    # Same subnet, other VLAN: only the tag keeps h3 out.
    assert not ping("h3", "h1")
    assert not ping("h1", "h3")

    # A MAC the management plane did not allocate gets nothing (the range is static).
    driver.unplug("guest-h2", GUESTS["h2"][1])
    assert GUESTS["h2"][1] not in driver.dhcp.hosts("iso-100")
    in_namespace(namespaces["h2"], "ip", "addr", "flush", "dev", "eth0")
    assert lease(namespaces["h2"], script, tries=2).returncode != 0


def test_dhcp_survives_a_driver_restart_and_rejects_bad_hosts(isolated_networks):
    driver, _namespaces = isolated_networks
    pid = driver.dhcp.pid("iso-100")
    assert pid is not None
    restarted = OvsNetworkDriver(driver.bridge, None, driver.db_socket, "netdev",
                                 dhcp=DhcpService(driver.dhcp.state_dir))
    restarted.restore_dhcp()
    assert restarted.dhcp.pid("iso-100") == pid  # the running server was adopted, not restarted
    restarted.configure_dhcp("iso-100", "10.201.0.0/24", "10.201.0.1")
    assert restarted.dhcp.pid("iso-100") == pid
    with pytest.raises(DriverError, match="outside 10.201.0.0/24"):
        restarted.plug("guest-x", "iso-100", "52:54:00:10:00:09", address="10.9.9.9")
    with pytest.raises(DriverError, match="already handed to"):
        restarted.plug("guest-x", "iso-100", "52:54:00:10:00:09", address=GUESTS["h1"][2])
    assert "52:54:00:10:00:09" not in restarted.state().nics
    # A crashed server comes back on restore with the NICs recorded, none that left meanwhile.
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while restarted.dhcp.pid("iso-100") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    restarted.unplug("guest-h2", GUESTS["h2"][1])
    restarted.restore_dhcp()
    assert restarted.dhcp.pid("iso-100") not in (None, pid)
    assert restarted.dhcp.hosts("iso-100") == {GUESTS["h1"][1]: (GUESTS["h1"][2], "guest-h1")}


# --- the libvirt hook, end to end ---------------------------------------------------------------

def test_libvirt_attaches_the_guest_to_the_network_vlan(ovs_backend, libvirtd, tmp_path):
    """libvirt, given interface_for as its hook, adds the guest's tap to our bridge with the tag."""
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    from occistack.drivers.base import GuestSpec
    from occistack.drivers.libvirt import LibvirtComputeDriver

    network = ovs_backend.driver
    switch = ovs_backend.switch
    network.create_network("net-a", 101)
    guest = GuestSpec(name=f"occitest-{network.bridge}-nic", cores=1, memory_mib=64, image="tiny",
                      nics=((MAC_A, "net-a"),))
    network.plug(guest.name, "net-a", MAC_A)
    compute = LibvirtComputeDriver(running.uri, interface_for=network.interface_for,
                                   console_log_dir=tmp_path / "consoles", stop_timeout=1.5, poll_interval=0.1)
    try:
        compute.deploy(guest)
        ports = switch.vsctl("--bare", "--columns=name", "find", "Interface",
                             f'external_ids:attached-mac="{MAC_A}"').split()
        assert len(ports) == 1, ports
        assert ports[0] in switch.vsctl("list-ports", network.bridge).split()
        assert switch.vsctl("get", "Port", ports[0], "tag").strip() == "101"
    finally:
        compute.destroy(guest.name)
        compute.close()
    network.unplug(guest.name, MAC_A)
    assert not switch.vsctl("--bare", "--columns=name", "find", "Interface", f'external_ids:attached-mac="{MAC_A}"').split()
