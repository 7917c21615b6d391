"""The storage driver on one libvirt storage pool: data volumes, root disks from templates,
templates copied in from secondary storage, and images saved from root disks.

Every libvirt call runs through :meth:`Connection.run`, so libvirt errors become DriverErrors
in one place (``occistack/drivers/libvirt/errors.py``). Absences that callers may expect
(a missing volume, an unknown guest on detach) are found by listing names first, not by
interpreting lookup errors.

Volumes are qcow2 and sparse. A root disk is a qcow2 overlay whose backing file is a template
volume in the same pool, so deploying from a template costs no copy. Templates arrive through
``virStorageVol.upload`` under a temporary name and are copied to their final name only once
their checksum matched, so a half-written or corrupt template is never found and reused.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Iterator

import libvirt

from occistack.drivers.base import DriverError, RootDiskBuilder, StorageDriver
from occistack.drivers.libvirt.compute import disk_in_pool
from occistack.drivers.libvirt.connection import Connection, Opener
from occistack.drivers.libvirt.errors import translated
from occistack.drivers.storage.checksums import parse_checksum
from occistack.drivers.storage.pool_snapshots import PoolSnapshots
from occistack.drivers.storage.secondary import NfsSecondaryStorage, open_source, store_hashed
from occistack.drivers.storage.volumes import GIB, DirPool, NetfsPool, bytes_for, disk_xml, find_disk, volume_format_of, volume_xml

log = logging.getLogger(__name__)

ROOT_DISK_SUFFIX = "-root"
STREAM_CHUNK = 1024 * 1024


class LibvirtPoolStorageDriver(PoolSnapshots, StorageDriver, RootDiskBuilder):
    def __init__(self, connection: str | Connection, pool: str, *,
                 pool_definition: DirPool | NetfsPool | None = None,
                 secondary: NfsSecondaryStorage | None = None,
                 detach_timeout: float = 30.0,
                 poll_interval: float = 0.2,
                 opener: Opener = libvirt.open) -> None:
        """Use storage pool ``pool`` on ``connection`` (a libvirt URI, or a shared
        :class:`Connection` that :meth:`close` leaves open). When the pool does not exist and
        ``pool_definition`` is given, it is defined, built, started and set to autostart.
        ``secondary`` is the secondary storage saved images are copied into (default: whatever NFS
        directory the destination URL names). ``detach`` waits ``detach_timeout`` seconds for a
        running guest to release a disk."""
        self._owns_connection = isinstance(connection, str)
        self.connection = Connection(connection, opener) if isinstance(connection, str) else connection
        self.pool_name = pool
        self.secondary = secondary
        self.detach_timeout = detach_timeout
        self.poll_interval = poll_interval
        self._bus_for = disk_in_pool(pool)
        # Attach checks "not attached anywhere" and then attaches; templates check "not there"
        # and then upload. Neither pair may interleave within this agent.
        self._attach_lock = threading.Lock()
        self._template_lock = threading.Lock()
        self._ensure_pool(pool_definition)

    def close(self) -> None:
        if self._owns_connection:
            self.connection.close()

    def _run(self, action: str, operation):
        return self.connection.run(action, operation)

    def _ensure_pool(self, definition: DirPool | NetfsPool | None) -> None:
        def ensure(conn) -> None:
            if self.pool_name not in conn.listStoragePools() + conn.listDefinedStoragePools():
                if definition is None:
                    raise DriverError(f"no storage pool named {self.pool_name} on {self.connection.uri}; "
                                      "pass a DirPool or NetfsPool definition to create it")
                pool = conn.storagePoolDefineXML(definition.render(self.pool_name), 0)
                pool.build(0)
                pool.setAutostart(1)
            pool = conn.storagePoolLookupByName(self.pool_name)
            if not pool.isActive():
                pool.create(0)
        self._run(f"prepare storage pool {self.pool_name}", ensure)

    def _pool(self, conn):
        return conn.storagePoolLookupByName(self.pool_name)

    def _volume(self, conn, name: str):
        pool = self._pool(conn)
        if name not in pool.listVolumes():
            raise DriverError(f"no volume named {name} in storage pool {self.pool_name}")
        return pool.storageVolLookupByName(name)

    def _refuse_existing(self, pool, name: str) -> None:
        if name in pool.listVolumes():
            raise DriverError(f"a volume named {name} already exists in storage pool {self.pool_name}")

    # --- volumes ----------------------------------------------------------------------------

    def create_volume(self, name: str, size_gib: float) -> None:
        capacity = bytes_for(size_gib)

        def create(conn) -> None:
            pool = self._pool(conn)
            self._refuse_existing(pool, name)
            pool.createXML(volume_xml(name, capacity), 0)
        self._run(f"create volume {name} of {size_gib} GiB", create)

    def volume_size_gib(self, name: str) -> float:
        """The volume's capacity (its virtual size, not what it occupies on disk)."""
        return self._run(f"read the size of volume {name}", lambda conn: self._volume(conn, name).info()[1] / GIB)

    def resize_volume(self, name: str, size_gib: float) -> None:
        """Grow the volume; shrinking is refused, as it would cut off the guest's data."""
        capacity = bytes_for(size_gib)

        def resize(conn) -> None:
            volume = self._volume(conn, name)
            current = volume.info()[1]
            if capacity < current:
                raise DriverError(f"volume {name} cannot shrink from {current / GIB:g} to {size_gib:g} GiB; "
                                  "volumes only grow")
            if capacity > current:
                volume.resize(capacity, 0)
        self._run(f"resize volume {name} to {size_gib} GiB", resize)

    def delete_volume(self, name: str) -> None:
        def delete(conn) -> None:
            pool = self._pool(conn)
            if name not in pool.listVolumes():
                return
            volume = pool.storageVolLookupByName(name)
            holder = self._attachment(conn, name, volume.path())
            if holder is not None:
                raise DriverError(f"volume {name} is attached to {holder[0]} as {holder[1]}; detach it first")
            volume.delete(0)
        self._run(f"delete volume {name}", delete)

    # --- attachments ------------------------------------------------------------------------

    def attach(self, guest: str, volume: str, device: str) -> None:
        """Plug ``volume`` into ``guest`` as ``device`` (vdb, sdb, ...; the bus follows the
        name). A running guest gets it live and in its definition; a stopped one in its
        definition, for its next start."""
        target = device.removeprefix("/dev/")
        bus = self._bus_for(volume, device).bus

        def attach(conn) -> None:
            domain = conn.lookupByName(guest)  # an unknown guest becomes GuestNotFound
            found = self._volume(conn, volume)
            holder = self._attachment(conn, volume, found.path())
            if holder is not None:
                raise DriverError(f"volume {volume} is already attached to {holder[0]} as {holder[1]}")
            flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if domain.isPersistent() else 0
            if domain.isActive():
                flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
            xml = disk_xml(self.pool_name, volume, target, bus, volume_format_of(found.XMLDesc(0)))
            domain.attachDeviceFlags(xml, flags)
        with self._attach_lock:
            self._run(f"attach volume {volume} to guest {guest} as {target}", attach)

    def detach(self, guest: str, volume: str) -> None:
        """Unplug ``volume`` from ``guest``; a guest or volume that is not attached is fine. A
        running guest must release the disk: virtio disks leave only once the guest's OS
        acknowledges the unplug (SCSI and USB disks leave at once)."""
        def request(conn) -> tuple[object, str] | None:
            if guest not in [domain.name() for domain in conn.listAllDomains(0)]:
                return None
            domain = conn.lookupByName(guest)
            path = self._volume_path(conn, volume)
            live = None
            if domain.isActive():
                live = find_disk(domain.XMLDesc(0), self.pool_name, volume, path)
                if live is not None:
                    domain.detachDeviceFlags(live[0], libvirt.VIR_DOMAIN_AFFECT_LIVE)
            if domain.isPersistent():
                defined = find_disk(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), self.pool_name, volume, path)
                if defined is not None:
                    domain.detachDeviceFlags(defined[0], libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            return (domain, path) if live is not None else None

        action = f"detach volume {volume} from guest {guest}"
        pending = self._run(action, request)
        if pending is None:
            return
        domain, path = pending
        deadline = time.monotonic() + self.detach_timeout
        while True:
            with translated(action):
                still = find_disk(domain.XMLDesc(0), self.pool_name, volume, path) if domain.isActive() else None
            if still is None:
                return
            if time.monotonic() >= deadline:
                raise DriverError(f"guest {guest} has not released volume {volume} ({still[1]}) within "
                                  f"{self.detach_timeout:g} s; a virtio disk leaves only when the guest's "
                                  "OS acknowledges the unplug")
            time.sleep(self.poll_interval)

    def _volume_path(self, conn, name: str) -> str | None:
        pool = self._pool(conn)
        return pool.storageVolLookupByName(name).path() if name in pool.listVolumes() else None

    def _attachment(self, conn, volume: str, path: str | None) -> tuple[str, str] | None:
        """(guest, device) of a guest -- running or defined -- that uses the volume, or None."""
        for domain in conn.listAllDomains(0):
            try:
                descriptions = [domain.XMLDesc(0)]
                if domain.isActive() and domain.isPersistent():
                    descriptions.append(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            except libvirt.libvirtError as error:
                if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    continue  # it went away since the listing: it holds no volume any more
                raise
            for description in descriptions:
                found = find_disk(description, self.pool_name, volume, path)
                if found is not None:
                    return domain.name(), found[1]
        return None

    # --- templates, root disks and images ----------------------------------------------------

    def ensure_template(self, template_name: str, source: str, checksum: str) -> str:
        """The template volume ``template_name``, copied into the pool from ``source`` (a local
        file, an nfs:// or http(s) URL that states its size) on first use and verified against
        ``checksum``; later calls find it and copy nothing. Its name."""
        expected = parse_checksum(checksum)
        with self._template_lock:
            if self._run(f"look for template {template_name}",
                         lambda conn: template_name in self._pool(conn).listVolumes()):
                return template_name
            partial = f"{template_name}.partial-{uuid.uuid4().hex[:8]}"
            try:
                self._upload(partial, source, expected)
                self._run(f"copy template {template_name} into place",
                          lambda conn: self._publish(conn, partial, template_name))
            finally:
                self.delete_volume(partial)
            return template_name

    def _upload(self, volume_name: str, source: str, expected) -> None:
        """Stream ``source`` into a new raw volume of exactly its size, hashing on the way.
        Not retried on a new connection: the source is read once."""
        action = f"upload {source} into volume {volume_name}"
        with open_source(source) as (chunks, size):
            if size is None:
                raise DriverError(f"{source} does not state its size; register it into secondary storage first")
            conn = self.connection.current
            with translated(action):
                volume = self._pool(conn).createXML(volume_xml(volume_name, size, "raw"), 0)
                stream = conn.newStream(0)
                volume.upload(stream, 0, size, 0)
                hasher = expected.hasher()
                try:
                    for chunk in chunks:
                        hasher.update(chunk)
                        view = memoryview(chunk)
                        while view:
                            view = view[stream.send(bytes(view)):]
                    stream.finish()
                except BaseException:
                    stream.abort()
                    raise
        expected.verify(hasher, source)

    def _publish(self, conn, partial: str, template_name: str) -> None:
        pool = self._pool(conn)
        pool.refresh(0)  # libvirt probes the uploaded bytes: qcow2 or raw, and the virtual size
        uploaded = pool.storageVolLookupByName(partial)
        description = uploaded.XMLDesc(0)
        if ET.fromstring(description).find("backingStore/path") is not None:
            # Flattening would copy whatever host file the image names into the template.
            raise DriverError(f"template {template_name} is a qcow2 image with a backing file; "
                              "only standalone images are accepted")
        self._refuse_existing(pool, template_name)
        volume_format = volume_format_of(description)
        pool.createXMLFrom(volume_xml(template_name, uploaded.info()[1], volume_format), uploaded, 0)

    def export_image(self, image: str, destination: str) -> tuple[str, float]:
        """The contract's export: the image volume's bytes streamed out of libvirt and into
        secondary storage over NFS, hashed on the way. Not retried on a new connection: the
        stream is read once."""
        action = f"copy image {image} to {destination}"
        conn = self.connection.current
        with translated(action):
            volume = self._volume(conn, image)
            stream = conn.newStream(0)
            volume.download(stream, 0, 0, 0)

            def chunks() -> Iterator[bytes]:
                try:
                    while data := stream.recv(STREAM_CHUNK):
                        yield data
                    stream.finish()
                except BaseException:
                    stream.abort()
                    raise

            store = self.secondary.store_hashed if self.secondary is not None else store_hashed
            checksum, stored = store(destination, chunks())
        log.info("copied image %s to %s (%s, %d bytes)", image, destination, checksum, stored)
        return checksum, stored / GIB

    def prepare_root_disk(self, guest_name: str, template_volume: str, size_gib: float) -> str:
        """A qcow2 root disk for ``guest_name`` backed by ``template_volume`` and grown to
        ``size_gib`` (not smaller than the template); its volume name."""
        name = guest_name + ROOT_DISK_SUFFIX
        capacity = bytes_for(size_gib)

        def prepare(conn) -> str:
            pool = self._pool(conn)
            self._refuse_existing(pool, name)
            template = self._volume(conn, template_volume)
            template_capacity = template.info()[1]
            if capacity < template_capacity:
                raise DriverError(f"a root disk of {size_gib:g} GiB is smaller than template {template_volume} "
                                  f"({template_capacity / GIB:g} GiB)")
            template_format = volume_format_of(template.XMLDesc(0))
            pool.createXML(volume_xml(name, capacity, "qcow2", template.path(), template_format), 0)
            return name
        return self._run(f"prepare root disk {name} from template {template_volume}", prepare)

    def root_disk_of(self, guest_name: str) -> str:
        return guest_name + ROOT_DISK_SUFFIX

    def copy_volume_as_image(self, volume: str, image_name: str) -> str:
        """Copy ``volume`` into a new standalone qcow2 volume ``image_name`` (the backing chain
        flattened), usable as a template. The volume must not be in use by a running guest
        (QEMU holds its write lock); the compute driver's snapshot handles running guests."""
        def copy(conn) -> str:
            pool = self._pool(conn)
            source = self._volume(conn, volume)
            self._refuse_existing(pool, image_name)
            pool.createXMLFrom(volume_xml(image_name, source.info()[1], "qcow2"), source, 0)
            return image_name
        return self._run(f"save volume {volume} as image {image_name}", copy)

