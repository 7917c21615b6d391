"""Domain XML from small frozen dataclasses, rendered with ElementTree (never string templates).

Only what occistack's guests use is modelled: direct kernel boot or disk boot, disks from storage
pools or files, bridged NICs with an optional VLAN tag and Open vSwitch port, a serial console
written to a log file, and ACPI (without which a guest cannot power itself off).
:func:`parse_domain_devices` reads back the parts the driver needs from a defined domain.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

DOMAIN_TYPES = ("qemu", "kvm", "test")
DISK_DEVICES = ("disk", "cdrom")
DISK_FORMATS = ("qcow2", "raw")


@dataclass(frozen=True, slots=True)
class Disk:
    """A disk from a storage pool volume (``pool`` + ``volume``; libvirt resolves the path) or
    from a file (``path``)."""

    target: str  # vda, sda, hdc
    bus: str = "virtio"
    pool: str | None = None
    volume: str | None = None
    path: str | None = None
    device: str = "disk"
    format: str = "qcow2"
    readonly: bool = False

    def __post_init__(self) -> None:
        from_volume = self.pool is not None and self.volume is not None
        if from_volume == (self.path is not None):
            raise ValueError(f"disk {self.target} needs either pool and volume or a path, not both or neither")
        if self.device not in DISK_DEVICES:
            raise ValueError(f"disk {self.target}: device must be one of {DISK_DEVICES}, not {self.device!r}")
        if self.format not in DISK_FORMATS:
            raise ValueError(f"disk {self.target}: format must be one of {DISK_FORMATS}, not {self.format!r}")


@dataclass(frozen=True, slots=True)
class Interface:
    """A NIC on a host bridge (a Linux bridge, or an OVS bridge with ``openvswitch``)."""

    mac: str
    bridge: str
    model: str = "virtio"
    vlan: int | None = None
    openvswitch: bool = False

    def __post_init__(self) -> None:
        if self.vlan is not None and not 1 <= self.vlan <= 4094:
            raise ValueError(f"interface {self.mac}: VLAN {self.vlan} is outside 1-4094")


@dataclass(frozen=True, slots=True)
class DirectBoot:
    """Boot a kernel (and initramfs) from host files instead of from a disk."""

    kernel: str
    initrd: str | None = None
    cmdline: str | None = None


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    vcpus: int
    memory_mib: int
    domain_type: str = "qemu"
    uuid: str | None = None
    arch: str = "x86_64"
    machine: str | None = "pc"
    os_type: str = "hvm"
    boot: DirectBoot | None = None
    disks: tuple[Disk, ...] = field(default=())
    interfaces: tuple[Interface, ...] = field(default=())
    console_log: str | None = None  # a host file collecting the serial console's output

    def __post_init__(self) -> None:
        if self.domain_type not in DOMAIN_TYPES:
            raise ValueError(f"domain {self.name}: type must be one of {DOMAIN_TYPES}, not {self.domain_type!r}")
        if self.vcpus < 1 or self.memory_mib < 1:
            raise ValueError(f"domain {self.name}: needs at least one vCPU and 1 MiB, got "
                             f"{self.vcpus} vCPUs and {self.memory_mib} MiB")
        targets = [disk.target for disk in self.disks]
        if len(set(targets)) != len(targets):
            raise ValueError(f"domain {self.name}: disk targets repeat: {targets}")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def render_domain(domain: Domain) -> str:
    """The domain XML libvirt's defineXML takes."""
    root = ET.Element("domain", type=domain.domain_type)
    _sub(root, "name", domain.name)
    if domain.uuid:
        _sub(root, "uuid", domain.uuid)
    _sub(root, "memory", str(domain.memory_mib), unit="MiB")
    _sub(root, "vcpu", str(domain.vcpus))
    _render_os(_sub(root, "os"), domain)
    _sub(_sub(root, "features"), "acpi")
    # A guest that powers itself off or crashes ends; reboots restart it, as on real hardware.
    _sub(root, "on_poweroff", "destroy")
    _sub(root, "on_reboot", "restart")
    _sub(root, "on_crash", "destroy")
    devices = _sub(root, "devices")
    for disk in domain.disks:
        _render_disk(devices, disk)
    for interface in domain.interfaces:
        _render_interface(devices, interface)
    if domain.console_log:
        serial = _sub(devices, "serial", type="file")
        # Appended to, not truncated: a guest migrated to another host keeps one log, and the
        # log of a guest started again keeps what it said before.
        _sub(serial, "source", path=domain.console_log, append="on")
        _sub(serial, "target", port="0")
        console = _sub(devices, "console", type="file")
        _sub(console, "source", path=domain.console_log, append="on")
        _sub(console, "target", type="serial", port="0")
    if domain.domain_type != "test":
        # The balloon is of no use to occistack's fixed-size guests and costs a PCI slot.
        _sub(devices, "memballoon", model="none")
    return ET.tostring(root, encoding="unicode")


def _render_os(os_element: ET.Element, domain: Domain) -> None:
    type_attributes = {"arch": domain.arch}
    if domain.machine:
        type_attributes["machine"] = domain.machine
    _sub(os_element, "type", domain.os_type, **type_attributes)
    if domain.boot is None:
        _sub(os_element, "boot", dev="hd")
        return
    _sub(os_element, "kernel", domain.boot.kernel)
    if domain.boot.initrd:
        _sub(os_element, "initrd", domain.boot.initrd)
    if domain.boot.cmdline:
        _sub(os_element, "cmdline", domain.boot.cmdline)


def _render_disk(devices: ET.Element, disk: Disk) -> None:
    element = _sub(devices, "disk", type="file" if disk.path else "volume", device=disk.device)
    _sub(element, "driver", name="qemu", type=disk.format)
    if disk.path:
        _sub(element, "source", file=disk.path)
    else:
        _sub(element, "source", pool=disk.pool, volume=disk.volume)
    _sub(element, "target", dev=disk.target, bus=disk.bus)
    if disk.readonly:
        _sub(element, "readonly")


def _render_interface(devices: ET.Element, interface: Interface) -> None:
    element = _sub(devices, "interface", type="bridge")
    _sub(element, "mac", address=interface.mac)
    _sub(element, "source", bridge=interface.bridge)
    if interface.vlan is not None:
        _sub(_sub(element, "vlan"), "tag", id=str(interface.vlan))
    if interface.openvswitch:
        _sub(element, "virtualport", type="openvswitch")
    _sub(element, "model", type=interface.model)


@dataclass(frozen=True, slots=True)
class DefinedDevices:
    """What the driver reads back from a defined domain's XML."""

    disks: tuple[Disk, ...]
    macs: tuple[str, ...]


def parse_domain_devices(xml: str) -> DefinedDevices:
    """The disks (pool volumes and files; others are skipped) and NIC MACs of a domain's XML."""
    root = ET.fromstring(xml)
    disks = []
    for element in root.iterfind("devices/disk"):
        source, target = element.find("source"), element.find("target")
        if source is None or target is None:
            continue  # an empty CD-ROM drive
        driver = element.find("driver")
        disk_format = driver.get("type", "raw") if driver is not None else "raw"
        common = dict(target=target.get("dev", ""), bus=target.get("bus", "virtio"),
                      device=element.get("device", "disk"),
                      format=disk_format if disk_format in DISK_FORMATS else "raw",
                      readonly=element.find("readonly") is not None)
        if element.get("type") == "volume":
            disks.append(Disk(pool=source.get("pool"), volume=source.get("volume"), **common))
        elif element.get("type") == "file" and source.get("file"):
            disks.append(Disk(path=source.get("file"), **common))
    macs = tuple(mac.get("address", "") for mac in root.iterfind("devices/interface/mac"))
    return DefinedDevices(disks=tuple(disks), macs=macs)
