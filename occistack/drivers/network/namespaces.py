"""A DHCP server's foot on a guest network: a veth pair whose one end is a port of the switch and
whose other end, carrying the server address, lives in a network namespace of its own.

Why a namespace and not an OVS internal port: with the userspace (netdev) datapath an internal
port is a tap device that ovs-vswitchd drives by name in its own namespace, so it cannot be moved
elsewhere; left in the host's namespace it would put every guest subnet into the host's routing
table, and isolated networks routinely reuse the same CIDR (CloudStack gives each its own
10.1.1.0/24). A veth end in a per-network namespace works with both datapaths and keeps each
network's addresses apart, as CloudStack's virtual router does by being a separate VM.

The switch's end is made in the network namespace the switch (ovs-vswitchd) runs in: the
agent's own, usually; when the agent runs in another (a container with a network of its own),
``switch_netns`` names the switch's by path (``/proc/1/ns/net``).
"""

from __future__ import annotations

import errno
import subprocess

from pyroute2 import IPRoute, NetlinkError, NetNS, netns

from occistack.drivers.base import DriverError

ETHTOOL_TIMEOUT = 10.0


def ensure_server_port(namespace: str, bridge_side: str, namespace_side: str, address: str,
                       prefixlen: int, switch_netns: str | None = None) -> bool:
    """Make the veth pair and namespace exist with ``address`` on ``namespace_side``; True when
    they had to be (re)created, so whatever ran in an older namespace must be restarted."""
    if _port_in_place(namespace, namespace_side, address, prefixlen):
        return False
    remove_server_port(namespace, bridge_side, switch_netns)
    try:
        netns.create(namespace)
        with _switch_side(switch_netns) as host:
            host.link("add", ifname=bridge_side, kind="veth", peer=namespace_side)
            host.link("set", index=_index(host, namespace_side), net_ns_fd=namespace)
            host.link("set", index=_index(host, bridge_side), state="up")
        with _opened(namespace) as inside:
            index = _index(inside, namespace_side)
            inside.addr("add", index=index, address=address, prefixlen=prefixlen)
            inside.link("set", index=index, state="up")
            inside.link("set", index=_index(inside, "lo"), state="up")
    except (NetlinkError, OSError) as error:
        remove_server_port(namespace, bridge_side, switch_netns)
        raise DriverError(f"cannot create the DHCP port {bridge_side} / namespace {namespace}: {error}") from error
    # The userspace datapath forwards frames from veths as they are, partial checksums included,
    # and guests drop such DHCP replies: have the kernel compute checksums before sending.
    _disable_tx_offload(bridge_side, ["nsenter", f"--net={switch_netns}"] if switch_netns else [])
    _disable_tx_offload(namespace_side, ["ip", "netns", "exec", namespace])
    return True


def remove_server_port(namespace: str, bridge_side: str, switch_netns: str | None = None) -> None:
    """Remove the namespace and the veth pair; parts already gone are not an error."""
    try:
        if namespace in netns.listnetns():
            # Removing the namespace destroys the veth end inside it, and with it the pair.
            netns.remove(namespace)
        with _switch_side(switch_netns) as host:
            for index in host.link_lookup(ifname=bridge_side):
                _delete_link(host, index)
    except (NetlinkError, OSError) as error:
        raise DriverError(f"cannot remove the DHCP port {bridge_side} / namespace {namespace}: {error}") from error


def _delete_link(host: IPRoute, index: int) -> None:
    try:
        host.link("del", index=index)
    except NetlinkError as error:
        # The pair may vanish on its own between lookup and delete, as its namespace goes.
        if error.code != errno.ENODEV:
            raise


def _port_in_place(namespace: str, interface: str, address: str, prefixlen: int) -> bool:
    if namespace not in netns.listnetns():
        return False
    with _opened(namespace) as inside:
        indexes = inside.link_lookup(ifname=interface)
        if not indexes:
            return False
        addresses = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"]) for a in inside.get_addr(index=indexes[0])}
    return (address, prefixlen) in addresses


def _switch_side(switch_netns: str | None):
    return NetNS(switch_netns, flags=0) if switch_netns else IPRoute()


def _opened(namespace: str) -> NetNS:
    # flags=0: open an existing namespace, never create one by accident.
    return NetNS(namespace, flags=0)


def _index(ipr, name: str) -> int:
    indexes = ipr.link_lookup(ifname=name)
    if not indexes:
        raise DriverError(f"interface {name} vanished while it was being set up")
    return indexes[0]


def _disable_tx_offload(interface: str, entering: list[str]) -> None:
    """``ethtool`` on ``interface``, run through ``entering`` (a command that enters its
    namespace, or nothing for the agent's own)."""
    command = [*entering, "ethtool", "-K", interface, "tx", "off"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=ETHTOOL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DriverError(f"{' '.join(command)} failed: {error} (is ethtool installed?)") from error
    if result.returncode != 0:
        raise DriverError(f"{' '.join(command)} failed: {result.stderr.strip()}")
