"""Guest networks as Linux bridges, the way CloudStack's KVM agent builds them.

A tagged network gets an 802.1Q subinterface ``<uplink>.<vlan>`` enslaved to a bridge
``br<uplink>-<vlan>``; an untagged one a bridge ``br<uplink>`` holding the uplink itself. libvirt
adds the guests' taps to the bridge, so the guest never sees a tag. Networks sharing a VLAN share
its bridge, which goes when the last of them is deleted.

The kernel has no place to note which network a bridge serves, so networks and NICs are kept in
a small JSON file (``state_file``) that outlives the agent process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyroute2 import IPRoute, NetlinkError, NetNS

from occistack.drivers.base import DriverError, NetworkDriver
from occistack.drivers.libvirt.domain import Interface
from occistack.drivers.network.common import MAX_INTERFACE_NAME, checked_interface_name, checked_vlan, normalized_mac


class LinuxBridgeNetworkDriver(NetworkDriver):
    """Bridges on ``uplink``; ``namespace`` (a named network namespace) confines everything to it,
    which is how the tests keep the host untouched."""

    def __init__(self, uplink: str, state_file: str | Path, *, nic_model: str = "virtio",
                 namespace: str | None = None) -> None:
        self.uplink = checked_interface_name(uplink, "uplink")
        self.state_file = Path(state_file)
        self.nic_model = nic_model
        self.namespace = namespace
        self._lock = threading.RLock()

    def bridge_for(self, vlan: int | None) -> str:
        """The bridge that carries ``vlan`` (None: untagged) on this uplink."""
        name = f"br{self.uplink}" if vlan is None else f"br{self.uplink}-{vlan}"
        if len(name) > MAX_INTERFACE_NAME:
            raise DriverError(f"bridge name {name} would be longer than {MAX_INTERFACE_NAME} characters; "
                              "use an uplink with a shorter name")
        return name

    # --- the contract ------------------------------------------------------------------------

    def create_network(self, name: str, vlan: int | None) -> None:
        vlan = checked_vlan(name, vlan)
        with self._lock:
            state = self._load()
            if name in state["networks"] and state["networks"][name] != vlan:
                raise DriverError(f"network {name} exists with VLAN {state['networks'][name]}, not {vlan}")
            self._ensure_bridge(vlan)
            state["networks"][name] = vlan
            self._save(state)

    def delete_network(self, name: str) -> None:
        with self._lock:
            state = self._load()
            plugged = sorted(mac for mac, nic in state["nics"].items() if nic["network"] == name)
            if plugged:
                raise DriverError(f"network {name} still has NICs plugged ({', '.join(plugged)}); unplug them first")
            if name not in state["networks"]:
                return
            vlan = state["networks"].pop(name)
            if vlan not in state["networks"].values():
                self._remove_bridge(vlan)
            self._save(state)

    def plug(self, guest: str, network: str, mac: str, address: str | None = None,
             hostname: str | None = None) -> None:
        """Record the NIC; libvirt adds the tap to the bridge. (No DHCP here: on Linux bridges
        the addresses come from the physical network's own DHCP, as on CloudStack shared networks.)"""
        mac = normalized_mac(mac)
        with self._lock:
            state = self._load()
            if network not in state["networks"]:
                raise DriverError(f"no network named {network} on uplink {self.uplink}")
            if mac in state["nics"]:
                nic = state["nics"][mac]
                raise DriverError(f"MAC {mac} is already plugged (guest {nic['guest']}, network {nic['network']})")
            state["nics"][mac] = {"guest": guest, "network": network, "address": address, "hostname": hostname}
            self._save(state)

    def unplug(self, guest: str, mac: str) -> None:
        mac = normalized_mac(mac)
        with self._lock:
            state = self._load()
            if state["nics"].get(mac, {}).get("guest") == guest:
                del state["nics"][mac]
                self._save(state)

    # --- libvirt's hook ----------------------------------------------------------------------

    def interface_for(self, network: str, mac: str) -> Interface:
        """A plain bridged NIC: the bridge already is the VLAN, so libvirt sets no tag."""
        networks = self._load()["networks"]
        if network not in networks:
            raise DriverError(f"no network named {network} on uplink {self.uplink}")
        return Interface(mac=normalized_mac(mac), bridge=self.bridge_for(networks[network]), model=self.nic_model)

    def networks(self) -> dict[str, int | None]:
        return dict(self._load()["networks"])

    # --- the kernel --------------------------------------------------------------------------

    def _ensure_bridge(self, vlan: int | None) -> None:
        bridge = self.bridge_for(vlan)
        with self._netlink(f"setting up bridge {bridge}") as ipr:
            uplink = self._index(ipr, self.uplink)
            if uplink is None:
                raise DriverError(f"uplink {self.uplink} does not exist")
            if vlan is None:
                member = uplink
            else:
                subinterface = f"{self.uplink}.{vlan}"
                if len(subinterface) > MAX_INTERFACE_NAME:
                    raise DriverError(f"VLAN interface name {subinterface} would be longer than "
                                      f"{MAX_INTERFACE_NAME} characters; use an uplink with a shorter name")
                member = self._index(ipr, subinterface)
                if member is None:
                    ipr.link("add", ifname=subinterface, kind="vlan", link=uplink, vlan_id=vlan)
                    member = self._index(ipr, subinterface)
            bridge_index = self._index(ipr, bridge)
            if bridge_index is None:
                ipr.link("add", ifname=bridge, kind="bridge")
                bridge_index = self._index(ipr, bridge)
            ipr.link("set", index=member, master=bridge_index, state="up")
            ipr.link("set", index=uplink, state="up")
            ipr.link("set", index=bridge_index, state="up")

    def _remove_bridge(self, vlan: int | None) -> None:
        bridge = self.bridge_for(vlan)
        with self._netlink(f"removing bridge {bridge}") as ipr:
            names = [bridge] if vlan is None else [bridge, f"{self.uplink}.{vlan}"]
            for name in names:
                index = self._index(ipr, name)
                if index is not None:
                    ipr.link("del", index=index)

    @staticmethod
    def _index(ipr, name: str) -> int | None:
        indexes = ipr.link_lookup(ifname=name)
        return indexes[0] if indexes else None

    @contextmanager
    def _netlink(self, doing: str) -> Iterator[IPRoute]:
        """A netlink socket in our namespace; kernel refusals become DriverError here, and only
        here. The NetlinkError stays the cause, so callers can tell "no 8021q" (EOPNOTSUPP) apart."""
        try:
            ipr = NetNS(self.namespace, flags=0) if self.namespace else IPRoute()
        except (NetlinkError, OSError) as error:
            raise DriverError(f"{doing}: cannot open netlink in namespace {self.namespace}: {error}") from error
        try:
            yield ipr
        except NetlinkError as error:
            raise DriverError(f"{doing} on uplink {self.uplink}: the kernel said {error.args[-1]} "
                              f"(errno {error.code})") from error
        finally:
            ipr.close()

    # --- the state file ----------------------------------------------------------------------

    def _load(self) -> dict:
        try:
            state = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {"networks": {}, "nics": {}}
        except ValueError as error:
            raise DriverError(f"state file {self.state_file} is not valid JSON: {error}") from error
        return state

    def _save(self, state: dict) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_name(self.state_file.name + ".new")
        temporary.write_text(json.dumps(state, indent=1, sort_keys=True))
        temporary.replace(self.state_file)  # atomic: a crash leaves the old state or the new
