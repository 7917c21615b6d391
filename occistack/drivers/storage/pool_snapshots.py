"""Snapshots of a libvirt pool's volumes (the storage contract's snapshot_volume, revert_volume
and create_volume_from), mixed into LibvirtPoolStorageDriver.

Taking one: a standalone qcow2 copy of the volume is made in the pool (``createXMLFrom``, which
is ``qemu-img convert`` underneath: a root disk backed by a template comes out flattened), then
streamed into secondary storage, hashed on the way, and removed. When a running guest uses the
volume, it is given a temporary external overlay for the time of the local copy only
(``live_overlay``: disk-only, atomic, quiesced when the guest's agent answers); the overlay is
committed back and the guest pivots to its disk again before the slow copy to secondary
storage starts, so its disk chain is long for seconds, not for the whole backup.

Reverting and restoring: the snapshot is streamed from secondary storage into a new volume of
the pool under a temporary name and verified against its checksum; then its file takes the
place of the volume's (a rename in the pool's directory, so the volume is either all old or
all new) -- or becomes the new volume. Pools are directories (``dir`` or ``netfs``), so a
volume's path is a file on this host.
"""

from __future__ import annotations

import logging
import os
import uuid
import xml.etree.ElementTree as ET
from contextlib import nullcontext

from occistack.drivers.base import DriverError
from occistack.drivers.libvirt.snapshot import live_overlay
from occistack.drivers.storage.checksums import parse_checksum
from occistack.drivers.storage.volumes import bytes_for, find_disk, volume_xml

log = logging.getLogger(__name__)


class PoolSnapshots:
    """Needs the driver's ``_run``, ``_pool``, ``_volume``, ``_upload``, ``export_image``,
    ``delete_volume`` and ``pool_name``."""

    def snapshot_volume(self, name: str, destination: str, taken=None) -> tuple[str, float]:
        scratch = f"{name}.snapshot-{uuid.uuid4().hex[:8]}"

        def copy(conn) -> None:
            pool = self._pool(conn)
            source = self._volume(conn, name)
            user = self._running_user(conn, name, source.path())
            frozen = live_overlay(user[0], user[1], source.path(), pool) if user else nullcontext()
            with frozen:
                pool.createXMLFrom(volume_xml(scratch, source.info()[1], "qcow2"), source, 0)
        try:
            self._run(f"take a snapshot of volume {name}", copy)
            if taken is not None:
                taken()
            return self.export_image(scratch, destination)
        finally:
            self.delete_volume(scratch)

    def revert_volume(self, name: str, source: str, checksum: str) -> None:
        expected = parse_checksum(checksum)
        self._run(f"look for volume {name}", lambda conn: self._refuse_in_use(conn, name))
        partial = f"{name}.revert-{uuid.uuid4().hex[:8]}"
        try:
            self._upload(partial, source, expected)

            def swap(conn) -> None:
                target = self._refuse_in_use(conn, name)  # again: a guest may have started meanwhile
                self._take_place_of(conn, partial, name, target.path(), target.info()[1])
            self._run(f"revert volume {name} to {source}", swap)
        finally:
            self.delete_volume(partial)  # gone already when it took the volume's place
        log.info("reverted volume %s to the snapshot %s", name, source)

    def create_volume_from(self, name: str, size_gib: float, source: str, checksum: str) -> None:
        expected = parse_checksum(checksum)
        capacity = bytes_for(size_gib)
        self._run(f"look for volume {name}", lambda conn: self._refuse_existing(self._pool(conn), name))
        partial = f"{name}.partial-{uuid.uuid4().hex[:8]}"
        try:
            self._upload(partial, source, expected)

            def publish(conn) -> None:
                pool = self._pool(conn)
                self._refuse_existing(pool, name)
                directory = os.path.dirname(pool.storageVolLookupByName(partial).path())
                self._take_place_of(conn, partial, name, os.path.join(directory, name), capacity)
            self._run(f"create volume {name} from {source}", publish)
        finally:
            self.delete_volume(partial)

    # --- helpers ------------------------------------------------------------------------------

    def _running_user(self, conn, volume: str, path: str):
        """(domain, target device) of the running guest whose live disks include the volume."""
        for domain in conn.listAllDomains(0):
            if not domain.isActive():
                continue
            found = find_disk(domain.XMLDesc(0), self.pool_name, volume, path)
            if found is not None:
                return domain, found[1]
        return None

    def _refuse_in_use(self, conn, name: str):
        target = self._volume(conn, name)
        user = self._running_user(conn, name, target.path())
        if user is not None:
            raise DriverError(f"volume {name} is in use by running guest {user[0].name()} as {user[1]}; "
                              "stop the guest or detach the volume first")
        return target

    def _take_place_of(self, conn, partial: str, name: str, path: str, capacity: int) -> None:
        """Rename the uploaded snapshot ``partial`` to ``path`` (volume ``name``), growing it to
        ``capacity`` where it is smaller."""
        pool = self._pool(conn)
        pool.refresh(0)  # libvirt probes the uploaded bytes: qcow2, and its virtual size
        uploaded = pool.storageVolLookupByName(partial)
        if ET.fromstring(uploaded.XMLDesc(0)).find("backingStore/path") is not None:
            # A snapshot is standalone; one that names a backing file would expose a host file.
            raise DriverError(f"the snapshot for volume {name} names a backing file; refused")
        try:
            os.replace(uploaded.path(), path)
        except OSError as error:
            raise DriverError(f"cannot put the snapshot in place of volume {name}: {error.strerror}") from error
        pool.refresh(0)
        restored = pool.storageVolLookupByName(name)
        if restored.info()[1] < capacity:
            restored.resize(capacity, 0)
