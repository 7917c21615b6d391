"""The libvirt drivers (QEMU/KVM, and libvirt's test driver for the embedded default)."""

from __future__ import annotations

from occistack.drivers.libvirt.compute import LibvirtComputeDriver, bridge_named_after_network, disk_in_pool
from occistack.drivers.libvirt.domain import DirectBoot, Disk, Domain, Interface, parse_domain_devices, render_domain
from occistack.drivers.libvirt.errors import translate, translated

__all__ = [
    "DirectBoot", "Disk", "Domain", "Interface", "LibvirtComputeDriver", "bridge_named_after_network",
    "disk_in_pool", "parse_domain_devices", "render_domain", "translate", "translated",
]
