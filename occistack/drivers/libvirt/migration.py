"""Moving a guest from this host's libvirtd to another host's.

Live: one ``migrateToURI3`` call, peer to peer -- this host's libvirtd connects to the target's
(``qemu+tcp://<address>/system`` by default) and drives both ends; QEMU copies the memory over
TCP to the target's address while the guest runs, pauses it for the last dirty pages and resumes
it there. The definition moves with it (PERSIST_DEST, UNDEFINE_SOURCE). Disks on storage both
hosts reach stay where they are; disks on this host's own pool are copied along over NBD
(NON_SHARED_DISK: the whole image, so the target needs no backing template), and this host's
copies are removed once it runs there. When the call fails, libvirt has resumed the guest
here: nothing else is undone.

Cold: the guest is shut down (when it ran), its definition (and, on local storage, its disks'
bytes, streamed volume by volume) is written on the target, it is started there, and only then
forgotten here. A failure before the start on the target leaves it defined here, started again
if it ran.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import Callable

import libvirt

from occistack.drivers.base import DriverError
from occistack.drivers.libvirt.connection import Connection, Opener

log = logging.getLogger(__name__)

LIVE = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
        | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE | libvirt.VIR_MIGRATE_ABORT_ON_ERROR)
_CHUNK = 1 << 20


def _tcp(address: str) -> str:
    return f"tcp://[{address}]" if ":" in address else f"tcp://{address}"


def move_live(connection: Connection, name: str, peer_uri: str, address: str, copy_storage: bool) -> None:
    # The target's libvirtd would otherwise name itself by its hostname, which another host (or
    # another network namespace) may not resolve to the address the hosts talk over.
    params = {libvirt.VIR_MIGRATE_PARAM_URI: _tcp(address)}
    flags = LIVE
    if copy_storage:
        flags |= libvirt.VIR_MIGRATE_NON_SHARED_DISK
        params[libvirt.VIR_MIGRATE_PARAM_DISKS_URI] = _tcp(address)
    def migrate(conn) -> None:
        domain = conn.lookupByName(name)
        local = _pool_volumes(conn, domain.XMLDesc(0)) if copy_storage else []
        domain.migrateToURI3(peer_uri, params, flags)
        for volume in local:
            _quietly(volume.delete, 0)  # copied to the target: this host's copy is of no use now

    connection.run(f"migrate guest {name} live to {peer_uri}", migrate)


def move_cold(connection: Connection, opener: Opener, power: Callable[[str, str], None], undefine_flags: int,
              name: str, peer_uri: str, copy_storage: bool, restart: bool) -> None:
    """``power(name, operation)`` is the driver's own (a graceful stop that forces in the end);
    ``undefine_flags`` how it forgets a guest."""
    if restart:
        power(name, "stop")
    try:
        connection.run(f"move guest {name} to {peer_uri}", lambda conn: _define_on_peer(
            conn, opener, undefine_flags, name, peer_uri, copy_storage, restart))
    except DriverError:
        if restart:  # it ran before: it runs again, here
            try:
                power(name, "start")
            except DriverError as error:
                log.error("guest %s could not be started again after its move failed: %s", name, error)
        raise


def _define_on_peer(conn, opener: Opener, undefine_flags: int, name: str, peer_uri: str, copy_storage: bool,
                    restart: bool) -> None:
    domain = conn.lookupByName(name)
    definition = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE)
    peer = opener(peer_uri)
    copied: list = []
    try:
        if copy_storage:
            copied = _copy_pool_disks(conn, peer, definition)
        defined = peer.defineXML(definition)
        if restart:
            try:
                defined.create()
            except libvirt.libvirtError:
                defined.undefine()
                raise
    except libvirt.libvirtError:
        for _source, target in copied:
            _quietly(target.delete, 0)
        raise
    finally:
        _quietly(peer.close)
    domain.undefineFlags(undefine_flags)
    for source, _target in copied:
        _quietly(source.delete, 0)  # the guest's disks live on the target now


def _pool_volumes(conn, definition: str) -> list:
    """The storage volumes the guest's disks name by pool and volume (its own, on local pools)."""
    return [conn.storagePoolLookupByName(source.get("pool")).storageVolLookupByName(source.get("volume"))
            for source in ET.fromstring(definition).findall("./devices/disk[@type='volume']/source")
            if source.get("pool") and source.get("volume")]


def _copy_pool_disks(conn, peer, definition: str) -> list[tuple[object, object]]:
    """Stream every pool volume the guest's disks name into the same-named pool of the peer;
    (source volume, copy) pairs."""
    copied = []
    for volume in _pool_volumes(conn, definition):
        _kind, capacity, _allocation = volume.info()
        fmt = ET.fromstring(volume.XMLDesc(0)).find("./target/format")
        fmt_text = f"<format type='{fmt.get('type')}'/>" if fmt is not None else ""
        target = peer.storagePoolLookupByName(volume.storagePoolLookupByVolume().name()).createXML(
            f"<volume><name>{volume.name()}</name><capacity unit='bytes'>{capacity}</capacity>"
            f"<target>{fmt_text}</target></volume>", 0)
        copied.append((volume, target))
        _stream(conn, peer, volume, target)
    return copied


def _stream(conn, peer, volume, target) -> None:
    """The volume's file, byte for byte (a qcow2 image stays one), into the target volume."""
    download, upload = conn.newStream(0), peer.newStream(0)
    volume.download(download, 0, 0, 0)  # length 0: the whole file
    target.upload(upload, 0, 0, 0)
    while True:
        chunk = download.recv(_CHUNK)
        if not chunk:
            break
        if isinstance(chunk, int):  # -2: would block; the default stream blocks, so not expected
            continue
        upload.send(chunk)
    download.finish()
    upload.finish()


def _quietly(call, *args) -> None:
    try:
        call(*args)
    except libvirt.libvirtError as error:
        log.warning("cleaning up after a guest's move: %s", error.get_error_message())
