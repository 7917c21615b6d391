"""Real network drivers: guest VLANs on an Open vSwitch bridge or on Linux bridges, and DHCP.

Both drivers only *record* a NIC when it is plugged: libvirt creates the guest's tap device and
attaches it to the bridge (with its VLAN tag) when the guest starts, using the
:class:`~occistack.drivers.libvirt.Interface` that the driver's ``interface_for`` returns.
"""

from __future__ import annotations

from occistack.drivers.network.dhcp import DhcpService
from occistack.drivers.network.linux_bridge import LinuxBridgeNetworkDriver
from occistack.drivers.network.ovs import OvsNetworkDriver

__all__ = ["DhcpService", "LinuxBridgeNetworkDriver", "OvsNetworkDriver"]
