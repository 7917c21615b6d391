"""Guest networks as VLANs on one Open vSwitch bridge per physical network.

The bridge's uplink is a trunk carrying exactly the VLANs of the networks this host has, so a
host never floods traffic of VLANs it has no guest on. Guest ports are libvirt's: it adds the
tap as an access port with the tag from :meth:`OvsNetworkDriver.interface_for` when the guest
starts, and removes it when the guest goes. The driver records networks, NICs and DHCP servers
as ``external_ids`` of the bridge, so a restarted agent finds everything in OVS itself.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import threading
from dataclasses import dataclass, field

from occistack.drivers.base import DhcpDriver, DriverError, NetworkDriver
from occistack.drivers.libvirt.domain import Interface
from occistack.drivers.network import namespaces
from occistack.drivers.network.common import checked_interface_name, checked_vlan, normalized_mac, short_digest
from occistack.drivers.network.dhcp import DhcpService

DATAPATH_TYPES = ("system", "netdev")
NETWORK_KEY = "occistack-network-"  # + network name → {"vlan": int | None}
NIC_KEY = "occistack-nic-"  # + MAC → {"guest", "network", "address", "hostname"}
DHCP_KEY = "occistack-dhcp-"  # + network name → {"cidr", "server_address", "gateway"}
#: ovs-vsctl exits 0 when vswitchd cannot open a port's device; it only says so on stderr.
PORT_SETUP_FAILED = "Error detected while setting up"


@dataclass
class BridgeState:
    """What the bridge's external_ids say this host has."""

    exists: bool = False
    datapath_type: str | None = None
    networks: dict[str, int | None] = field(default_factory=dict)
    nics: dict[str, dict] = field(default_factory=dict)
    dhcp: dict[str, dict] = field(default_factory=dict)


class OvsNetworkDriver(NetworkDriver, DhcpDriver):
    """One OVS bridge (``bridge``) with an optional trunk ``uplink``, reached through the
    ovsdb-server socket ``db_socket``. ``datapath_type`` is ``system`` (the kernel module) or
    ``netdev`` (userspace, for hosts without the module). With a :class:`DhcpService`,
    :meth:`configure_dhcp` gives a network a DHCP server."""

    def __init__(self, bridge: str, uplink: str | None, db_socket: str, datapath_type: str = "system", *,
                 nic_model: str = "virtio", dhcp: DhcpService | None = None, vsctl: str = "ovs-vsctl",
                 timeout: float = 10.0, switch_netns: str | None = None) -> None:
        """``switch_netns``: the path of the network namespace ovs-vswitchd runs in, when it
        is not this process's (an agent in a container); DHCP ports are made there."""
        if datapath_type not in DATAPATH_TYPES:
            raise DriverError(f"datapath type {datapath_type!r} is not one of {', '.join(DATAPATH_TYPES)}")
        self.switch_netns = switch_netns or None
        self.bridge = checked_interface_name(bridge, "bridge")
        self.uplink = checked_interface_name(uplink, "uplink") if uplink is not None else None
        self.db_socket = db_socket
        self.datapath_type = datapath_type
        self.nic_model = nic_model
        self.dhcp = dhcp
        self.vsctl = vsctl
        self.timeout = timeout
        # Each change reads the bridge's records and writes them back; one at a time per driver.
        self._lock = threading.RLock()

    # --- the contract ------------------------------------------------------------------------

    def create_network(self, name: str, vlan: int | None) -> None:
        vlan = checked_vlan(name, vlan)
        with self._lock:
            state = self.state()
            if name in state.networks and state.networks[name] != vlan:
                raise DriverError(f"network {name} exists with VLAN {state.networks[name]}, not {vlan}")
            # OVS treats an unset datapath type as "system". Switching a live bridge's datapath
            # would cut every port on it, so a mismatch is the operator's to resolve.
            if state.exists and (state.datapath_type or "system") != self.datapath_type:
                raise DriverError(f"bridge {self.bridge} uses datapath type {state.datapath_type or 'system'}, "
                                  f"but this host is configured for {self.datapath_type}")
            networks = {**state.networks, name: vlan}
            self._run(["--may-exist", "add-br", self.bridge],
                      ["set", "Bridge", self.bridge, f"datapath_type={self.datapath_type}"],
                      ["br-set-external-id", self.bridge, NETWORK_KEY + name, json.dumps({"vlan": vlan})],
                      *self._uplink_commands(networks))

    def delete_network(self, name: str) -> None:
        with self._lock:
            state = self.state()
            plugged = sorted(mac for mac, nic in state.nics.items() if nic["network"] == name)
            if plugged:
                raise DriverError(f"network {name} still has NICs plugged ({', '.join(plugged)}); unplug them first")
            if name in state.dhcp:
                self._remove_dhcp(name)
            if name not in state.networks:
                return
            networks = {key: vlan for key, vlan in state.networks.items() if key != name}
            self._run(["br-set-external-id", self.bridge, NETWORK_KEY + name], *self._uplink_commands(networks))

    def plug(self, guest: str, network: str, mac: str, address: str | None = None,
             hostname: str | None = None) -> None:
        """Record the NIC (libvirt adds its port). With ``address`` and a DHCP server on the
        network, the server hands that address (and ``hostname``) to ``mac``."""
        mac = normalized_mac(mac)
        with self._lock:
            state = self.state()
            if network not in state.networks:
                raise DriverError(f"no network named {network} on bridge {self.bridge}")
            if mac in state.nics:
                raise DriverError(f"MAC {mac} is already plugged (guest {state.nics[mac]['guest']}, "
                                  f"network {state.nics[mac]['network']})")
            if address is not None and network in state.dhcp:
                self._dhcp().add_host(network, mac, address, hostname)
            record = {"guest": guest, "network": network, "address": address, "hostname": hostname}
            try:
                self._run(["br-set-external-id", self.bridge, NIC_KEY + mac, json.dumps(record)])
            except DriverError:
                if address is not None and network in state.dhcp:
                    self._dhcp().remove_host(network, mac)
                raise

    def unplug(self, guest: str, mac: str) -> None:
        mac = normalized_mac(mac)
        with self._lock:
            state = self.state()
            nic = state.nics.get(mac)
            if nic is None or nic["guest"] != guest:
                return
            if nic["network"] in state.dhcp and self.dhcp is not None:
                self.dhcp.remove_host(nic["network"], mac)
            self._run(["br-set-external-id", self.bridge, NIC_KEY + mac])

    # --- libvirt's hook ----------------------------------------------------------------------

    def interface_for(self, network: str, mac: str) -> Interface:
        """The NIC as libvirt must define it: an OVS port on our bridge with the network's tag."""
        networks = self.state().networks
        if network not in networks:
            raise DriverError(f"no network named {network} on bridge {self.bridge}")
        return Interface(mac=normalized_mac(mac), bridge=self.bridge, model=self.nic_model,
                         vlan=networks[network], openvswitch=True)

    # --- DHCP --------------------------------------------------------------------------------

    def configure_dhcp(self, network: str, cidr: str, server_address: str, gateway: str | None = None) -> None:
        """Serve DHCP on ``network`` from ``server_address`` (inside ``cidr``): a veth port with
        the network's tag, its other end in a namespace of its own, and dnsmasq there handing
        out the addresses given to :meth:`plug`. Idempotent; a changed subnet rebuilds it."""
        self._dhcp()
        try:
            subnet = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise DriverError(f"network {network}: {cidr!r} is not a CIDR such as 10.1.1.0/24") from None
        wanted = {"cidr": str(subnet), "server_address": server_address, "gateway": gateway}
        with self._lock:
            state = self.state()
            if network not in state.networks:
                raise DriverError(f"no network named {network} on bridge {self.bridge}; create it first")
            if state.dhcp.get(network) not in (None, wanted):
                self._remove_dhcp(network)
            self._run(["br-set-external-id", self.bridge, DHCP_KEY + network, json.dumps(wanted)])
            try:
                self._start_dhcp(network, state.networks[network], wanted, state.nics)
            except DriverError:
                self._remove_dhcp(network)
                raise

    def restore_dhcp(self) -> None:
        """Bring back every DHCP server the bridge records (after a reboot or an agent crash);
        servers still running with the right hosts are left alone."""
        with self._lock:
            state = self.state()
            for network, wanted in state.dhcp.items():
                self._start_dhcp(network, state.networks.get(network), wanted, state.nics)

    def dhcp_namespace(self, network: str) -> str:
        """The namespace holding the network's DHCP server (the test and operators look inside)."""
        return self.dhcp_namespace_of(self.bridge, network)

    @staticmethod
    def dhcp_namespace_of(bridge: str, network: str) -> str:
        return f"occi-dhcp-{short_digest(bridge, network)}"

    def _start_dhcp(self, network: str, vlan: int | None, wanted: dict, nics: dict[str, dict]) -> None:
        dhcp = self._dhcp()
        namespace, bridge_side, inside = self._dhcp_names(network)
        subnet = ipaddress.ip_network(wanted["cidr"])
        rebuilt = namespaces.ensure_server_port(namespace, bridge_side, inside, wanted["server_address"],
                                                subnet.prefixlen, self.switch_netns)
        if rebuilt:
            dhcp.stop(network)  # a dnsmasq in a namespace that is gone serves nobody
        tag = [f"tag={vlan}"] if vlan is not None else []
        self._run(["--may-exist", "add-port", self.bridge, bridge_side, *tag])
        dhcp.serve(network, inside, wanted["cidr"], wanted["server_address"], namespace=namespace,
                   gateway=wanted["gateway"])
        # The NIC records are the truth; the hosts file may be older (or gone with the server).
        wanted_hosts = {mac: (nic["address"], nic.get("hostname")) for mac, nic in nics.items()
                        if nic["network"] == network and nic.get("address")}
        served = dhcp.hosts(network)
        for mac in served.keys() - wanted_hosts.keys():
            dhcp.remove_host(network, mac)
        for mac, (address, hostname) in wanted_hosts.items():
            if served.get(mac) != (address, hostname):
                dhcp.add_host(network, mac, address, hostname)

    def _remove_dhcp(self, network: str) -> None:
        namespace, bridge_side, _inside = self._dhcp_names(network)
        if self.dhcp is not None:
            self.dhcp.stop(network)
        self._run(["--if-exists", "del-port", self.bridge, bridge_side],
                  ["br-set-external-id", self.bridge, DHCP_KEY + network])
        namespaces.remove_server_port(namespace, bridge_side, self.switch_netns)

    def _dhcp_names(self, network: str) -> tuple[str, str, str]:
        digest = short_digest(self.bridge, network)
        return self.dhcp_namespace(network), f"dhb{digest}", f"dhn{digest}"

    def _dhcp(self) -> DhcpService:
        if self.dhcp is None:
            raise DriverError(f"the driver of bridge {self.bridge} was configured without a DHCP service")
        return self.dhcp

    # --- OVS ---------------------------------------------------------------------------------

    def state(self) -> BridgeState:
        """The bridge's networks, NICs and DHCP servers as its external_ids record them."""
        output = self._run(["--format=json", "--if-exists", "--columns=datapath_type,external_ids",
                            "list", "Bridge", self.bridge])
        rows = json.loads(output)["data"]
        if not rows:
            return BridgeState()
        datapath_type, (_map, pairs) = rows[0]
        state = BridgeState(exists=True, datapath_type=datapath_type)
        for key, value in pairs:
            if key.startswith(NETWORK_KEY):
                state.networks[key[len(NETWORK_KEY):]] = json.loads(value)["vlan"]
            elif key.startswith(NIC_KEY):
                state.nics[key[len(NIC_KEY):]] = json.loads(value)
            elif key.startswith(DHCP_KEY):
                state.dhcp[key[len(DHCP_KEY):]] = json.loads(value)
        return state

    def trunks(self) -> list[int]:
        """The VLANs the uplink carries ([] when there is no uplink port)."""
        if self.uplink is None:
            return []
        output = self._run(["--format=json", "--if-exists", "--columns=trunks", "list", "Port", self.uplink])
        rows = json.loads(output)["data"]
        if not rows:
            return []
        value = rows[0][0]
        # OVSDB encodes a one-element set as the bare value and others as ["set", [...]].
        return sorted(value[1]) if isinstance(value, list) else [value]

    def _uplink_commands(self, networks: dict[str, int | None]) -> list[list[str]]:
        if self.uplink is None:
            return []
        if not networks:
            # An empty trunk list means "every VLAN" to OVS: an uplink with nothing to carry goes.
            return [["--if-exists", "del-port", self.bridge, self.uplink]]
        # VLAN 0 is how OVS names untagged frames on a trunk.
        vlans = sorted({vlan if vlan is not None else 0 for vlan in networks.values()})
        return [["--may-exist", "add-port", self.bridge, self.uplink],
                ["set", "Port", self.uplink, "vlan_mode=trunk", "trunks=" + ",".join(map(str, vlans))]]

    def _run(self, *commands: list[str]) -> str:
        """Run ``commands`` as one ovs-vsctl transaction; every OVS failure surfaces here."""
        argv = [self.vsctl, f"--db=unix:{self.db_socket}", f"--timeout={max(1, int(self.timeout))}"]
        for index, command in enumerate(commands):
            argv += (["--"] if index else []) + command
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout + 5)
        except subprocess.TimeoutExpired:
            raise DriverError(f"{' '.join(argv)} did not finish within {self.timeout} s") from None
        except OSError as error:
            raise DriverError(f"cannot run {self.vsctl}: {error} (is openvswitch-switch installed?)") from error
        stderr = result.stderr.strip()
        if result.returncode != 0 or PORT_SETUP_FAILED in stderr:
            raise DriverError(f"{' '.join(argv)} failed (exit {result.returncode}): {stderr or 'no message'}")
        return result.stdout
