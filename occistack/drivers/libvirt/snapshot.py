"""Copying a guest's root disk into a new image volume (the compute driver's ``snapshot``).

The copy is libvirt's ``createXMLFrom`` into the root disk's own pool (``qemu-img convert``
underneath, so the image is standalone even when the root disk has a backing template). The disk
must not change while it is copied:

* a stopped guest is copied as it is;
* a running QEMU guest gets a temporary external overlay: its writes go to the overlay while the
  root disk, now read-only, is copied; then the overlay is committed back and the guest pivots to
  its root disk again. Pausing alone is not enough on QEMU -- a paused QEMU still holds the write
  lock on the image, and qemu-img refuses to read it ("Failed to get shared 'write' lock"). The
  overlay gives the same point-in-time copy without freezing the guest for the copy's duration;
* on other drivers (libvirt's test driver, whose volumes are not files) a running guest is
  paused for the copy and resumed after.
"""

from __future__ import annotations

import logging
import posixpath
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from typing import Iterator

import libvirt

from occistack.drivers.base import DriverError
from occistack.drivers.libvirt.domain import Disk, parse_domain_devices

log = logging.getLogger(__name__)

OVERLAY_SUFFIX = ".occistack-snapshot-overlay"
COMMIT_TIMEOUT = 600.0


def root_disk_of(domain_xml: str, guest: str) -> Disk:
    """The guest's first hard disk, which occistack always defines as the root disk."""
    for disk in parse_domain_devices(domain_xml).disks:
        if disk.device == "disk":
            return disk
    raise DriverError(f"guest {guest} has no root disk to save as an image")


def image_volume_xml(image: str, capacity_bytes: int, disk_format: str) -> str:
    root = ET.Element("volume")
    ET.SubElement(root, "name").text = image
    ET.SubElement(root, "capacity", unit="bytes").text = str(capacity_bytes)
    target = ET.SubElement(root, "target")
    ET.SubElement(target, "format", type=disk_format)
    return ET.tostring(root, encoding="unicode")


def copy_root_disk(connection, domain, guest: str, image: str, live_overlay: bool) -> str:
    """Clone the root disk of ``domain`` into a volume named ``image`` in the same pool; return
    the new volume's path. ``live_overlay``: the hypervisor supports disk-only external
    snapshots and block commit (QEMU), so a running guest need not be paused."""
    domain_xml = domain.XMLDesc(0)
    disk = root_disk_of(domain_xml, guest)
    if disk.path is not None:
        source = connection.storageVolLookupByPath(disk.path)
    else:
        source = connection.storagePoolLookupByName(disk.pool).storageVolLookupByName(disk.volume)
    pool = source.storagePoolLookupByVolume()
    # Listing names rather than looking the image up: a failed lookup would be a libvirtError
    # that means "good, free" here but "missing" everywhere else.
    if image in pool.listVolumes():
        raise DriverError(f"an image named {image} already exists in storage pool {pool.name()}")
    _kind, capacity, _allocation = source.info()
    if not domain.isActive():
        frozen = _nothing_to_freeze()
    elif live_overlay:
        frozen = _overlay(domain, domain_xml, disk, source.path(), pool)
    else:
        frozen = _paused(domain)
    with frozen:
        created = pool.createXMLFrom(image_volume_xml(image, capacity, disk.format), source, 0)
    return created.path()


@contextmanager
def _nothing_to_freeze() -> Iterator[None]:
    yield


@contextmanager
def _paused(domain) -> Iterator[None]:
    """Paused inside the block if it was running; resumed after, also when the copy failed, so a
    failed snapshot never leaves a frozen guest."""
    state, _reason = domain.state()
    paused_here = state == libvirt.VIR_DOMAIN_RUNNING
    if paused_here:
        domain.suspend()
    try:
        yield
    finally:
        if paused_here:
            domain.resume()


def live_overlay(domain, target: str, path: str, pool, quiesce: bool = True):
    """A context inside which the running guest ``domain`` writes its disk ``target`` (the file
    ``path`` of ``pool``) to a temporary overlay, so ``path`` holds still and can be copied;
    after it the overlay is committed back and removed. ``quiesce``: first ask the guest's
    agent to freeze its file systems for the instant of the snapshot; a guest without an
    answering agent gets a crash-consistent one instead."""
    domain_xml = domain.XMLDesc(0)
    for disk in parse_domain_devices(domain_xml).disks:
        if disk.target == target:
            return _overlay(domain, domain_xml, disk, path, pool, quiesce=quiesce)
    raise DriverError(f"guest {domain.name()} has no disk {target}")


@contextmanager
def _overlay(domain, domain_xml: str, root: Disk, root_path: str, pool, quiesce: bool = False) -> Iterator[None]:
    """Inside the block the guest writes to a temporary overlay and ``root_path`` is read-only."""
    overlay_path = root_path + OVERLAY_SUFFIX
    snapshot_xml = _overlay_snapshot_xml(domain_xml, root, overlay_path)
    flags = (libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
             | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
    quiesced = False
    if quiesce:
        try:
            domain.snapshotCreateXML(snapshot_xml, flags | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE)
            quiesced = True
        except libvirt.libvirtError as error:
            # No guest agent channel, or nobody answering on it: atomic, so nothing was made.
            log.info("guest %s did not freeze its file systems (%s); its snapshot is crash-consistent",
                     domain.name(), error.get_error_message())
    if not quiesced:
        domain.snapshotCreateXML(snapshot_xml, flags)
    try:
        yield
    finally:
        _commit_overlay(domain, root.target)
        pool.refresh(0)
        overlay_name = posixpath.basename(overlay_path)
        if overlay_name in pool.listVolumes():
            pool.storageVolLookupByName(overlay_name).delete(0)


def _overlay_snapshot_xml(domain_xml: str, root: Disk, overlay_path: str) -> str:
    snapshot = ET.Element("domainsnapshot")
    disks = ET.SubElement(snapshot, "disks")
    for disk in parse_domain_devices(domain_xml).disks:
        if disk.target == root.target:
            element = ET.SubElement(disks, "disk", name=disk.target, snapshot="external")
            ET.SubElement(element, "driver", type="qcow2")
            ET.SubElement(element, "source", file=overlay_path)
        elif not disk.readonly:
            ET.SubElement(disks, "disk", name=disk.target, snapshot="no")
    return ET.tostring(snapshot, encoding="unicode")


def _commit_overlay(domain, target: str) -> None:
    """Merge the overlay back into the root disk and make the guest use the root disk again.

    Shallow: into the overlay's own backing file, the root disk. Without it libvirt commits
    down to the bottom of the chain -- into the template the root disk is backed by, which
    other guests share and which must never change."""
    domain.blockCommit(target, None, None, 0,
                       libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE | libvirt.VIR_DOMAIN_BLOCK_COMMIT_SHALLOW)
    deadline = time.monotonic() + COMMIT_TIMEOUT
    while True:
        job = domain.blockJobInfo(target, 0)
        # An active commit never ends by itself: it turns "ready" (cur == end) and waits for
        # the pivot.
        if job and job["end"] and job["cur"] == job["end"]:
            break
        if not job:
            raise DriverError(f"committing the snapshot overlay of disk {target} stopped unexpectedly")
        if time.monotonic() > deadline:
            domain.blockJobAbort(target, 0)
            raise DriverError(f"committing the snapshot overlay of disk {target} took longer than "
                              f"{COMMIT_TIMEOUT:.0f} s; the guest still writes to the overlay")
        time.sleep(0.1)
    domain.blockJobAbort(target, libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
    while domain.blockJobInfo(target, 0):  # the pivot finishes asynchronously
        if time.monotonic() > deadline:
            raise DriverError(f"the pivot of disk {target} back to its root disk did not finish")
        time.sleep(0.05)
    log.info("committed the snapshot overlay of disk %s back into the disk", target)
