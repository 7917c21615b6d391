"""Storage pool and volume XML from small objects, rendered with ElementTree.

A pool is either a ``dir`` pool (a host directory; on production hosts a directory on a
cluster file system, in tests a temp directory) or a ``netfs`` pool (libvirt mounts an NFS
export with the kernel client, then treats the mount like a directory). netfs pools cannot be
tested on machines without a kernel NFS client (``mount.nfs: No such device``), which is why
the tests use dir pools; the driver code above the pool is the same for both.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from occistack.drivers import base

VOLUME_FORMATS = ("qcow2", "raw")
GIB = 1024 ** 3


@dataclass(frozen=True, slots=True)
class DirPool:
    path: str

    def render(self, name: str) -> str:
        root = ET.Element("pool", type="dir")
        ET.SubElement(root, "name").text = name
        ET.SubElement(ET.SubElement(root, "target"), "path").text = self.path
        return ET.tostring(root, encoding="unicode")


@dataclass(frozen=True, slots=True)
class NetfsPool:
    """An NFS export that libvirt mounts at ``mount_path`` on the host."""

    server: str
    export: str
    mount_path: str
    nfs_version: int = 4

    def render(self, name: str) -> str:
        root = ET.Element("pool", type="netfs")
        ET.SubElement(root, "name").text = name
        source = ET.SubElement(root, "source")
        ET.SubElement(source, "host", name=self.server)
        ET.SubElement(source, "dir", path=self.export)
        ET.SubElement(source, "format", type="nfs")
        ET.SubElement(source, "protocol", ver=str(self.nfs_version))
        ET.SubElement(ET.SubElement(root, "target"), "path").text = self.mount_path
        return ET.tostring(root, encoding="unicode")


def bytes_for(size_gib: float) -> int:
    """``size_gib`` in bytes, rounded up to whole 512-byte sectors (qcow2 refuses others)."""
    if size_gib <= 0:
        raise base.DriverError(f"a volume size must be positive, not {size_gib} GiB")
    exact = int(size_gib * GIB + 0.5)
    return -(-exact // 512) * 512


def volume_xml(name: str, capacity_bytes: int, volume_format: str = "qcow2",
               backing_path: str | None = None, backing_format: str | None = None) -> str:
    """A sparse volume (allocation 0), optionally a copy-on-write overlay on ``backing_path``."""
    if volume_format not in VOLUME_FORMATS:
        raise base.DriverError(f"volume format must be one of {VOLUME_FORMATS}, not {volume_format!r}")
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "capacity", unit="bytes").text = str(capacity_bytes)
    ET.SubElement(root, "allocation", unit="bytes").text = "0"
    ET.SubElement(ET.SubElement(root, "target"), "format", type=volume_format)
    if backing_path is not None:
        backing = ET.SubElement(root, "backingStore")
        ET.SubElement(backing, "path").text = backing_path
        ET.SubElement(backing, "format", type=backing_format or "raw")
    return ET.tostring(root, encoding="unicode")


def volume_format_of(xml: str) -> str:
    """The format libvirt reports for a volume (raw when it says nothing)."""
    found = ET.fromstring(xml).find("target/format")
    return found.get("type", "raw") if found is not None else "raw"


def disk_xml(pool: str, volume: str, target: str, bus: str, volume_format: str) -> str:
    """The ``<disk type='volume'>`` device that hot-plugs ``volume`` as ``target``."""
    root = ET.Element("disk", type="volume", device="disk")
    ET.SubElement(root, "driver", name="qemu", type=volume_format)
    ET.SubElement(root, "source", pool=pool, volume=volume)
    ET.SubElement(root, "target", dev=target, bus=bus)
    return ET.tostring(root, encoding="unicode")


def find_disk(domain_xml: str, pool: str, volume: str, path: str | None) -> tuple[str, str] | None:
    """(the ``<disk>`` element as XML, its target device) of the disk that uses the volume --
    named through the pool or by its file path -- or None."""
    for element in ET.fromstring(domain_xml).iterfind("devices/disk"):
        source, target = element.find("source"), element.find("target")
        if source is None or target is None:
            continue
        by_volume = source.get("pool") == pool and source.get("volume") == volume
        by_path = path is not None and source.get("file") == path
        if by_volume or by_path:
            return ET.tostring(element, encoding="unicode"), target.get("dev", "")
    return None
