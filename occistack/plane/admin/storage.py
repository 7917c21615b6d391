"""Primary storage (where root disks and volumes live; per cluster, or zone-wide) and secondary
storage (a zone's NFS store for templates, ISOs and snapshots)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import SecondaryStorage, StoragePool, TemplateCopy, VirtualMachine, Volume, Zone
from occistack.model.contention import ROW_LOCK
from occistack.model.states import STORAGE_POOL_TRANSITIONS, StoragePoolEvent, StoragePoolState
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.transitions import apply_event
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_name,
    check_number,
    count,
    normalise_tags,
    record_change,
    refuse_duplicate,
    refuse_if_used,
    set_enabled,
)
from occistack.plane.admin.addresses import host_address
from occistack.plane.admin.lookup import find_cluster, find_secondary_storage, find_storage_pool, find_zone

PROTOCOLS = ("nfs", "sharedmountpoint", "filesystem")
_LONGEST_PATH = 1024

#: What an administrator can do to a pool, by name: the events of STORAGE_POOL_TRANSITIONS.
POOL_STATE_CHANGES = tuple(event.value for event in StoragePoolEvent)


def add_storage_pool(session: Session, *, zone: Ref, name: str, protocol: str, path: str, capacity_gib: float,
                     server: str | None = None, cluster: Ref | None = None, pod: Ref | None = None,
                     overprovisioning: float = 1.0, tags: str | list[str] | None = None,
                     actor: Actor = SYSTEM) -> StoragePool:
    """Primary storage for one cluster, or for the whole zone when no cluster is named."""
    the_zone = find_zone(session, zone)
    check_name("primary storage pool", name)
    check_choice("storage protocol", protocol, PROTOCOLS)
    if cluster is None and pod is not None:
        raise InvalidRequest("primary storage belongs to a cluster or to the whole zone: name the cluster as well "
                             "as its pod, or neither for zone-wide storage")
    the_cluster = find_cluster(session, cluster, pod=pod, zone=the_zone.id) if cluster is not None else None
    if protocol == "nfs":
        if server is None:
            raise InvalidRequest("NFS primary storage needs its server (an address or host name)")
        server = host_address("the NFS server", server)
    elif server is not None:
        raise InvalidRequest(f"{protocol} primary storage is a path mounted on every host: it has no server")
    refuse_duplicate(session, StoragePool, "a primary storage pool",
                     [StoragePool.zone_id == the_zone.id, StoragePool.name == name],
                     f"named {name!r}", f"in zone {the_zone.name!r}")
    pool = StoragePool(
        zone_id=the_zone.id, pod_id=the_cluster.pod_id if the_cluster else None,
        cluster_id=the_cluster.id if the_cluster else None, name=name, protocol=protocol, server=server,
        path=_absolute_path(path), capacity_gib=check_number("the capacity in GiB", capacity_gib, above=0),
        overprovisioning=check_number("the overprovisioning factor", overprovisioning, minimum=1),
        tags=normalise_tags("storage tags", tags),
    )
    session.add(pool)
    session.flush()
    scope = f"cluster {the_cluster.name!r}" if the_cluster else f"all of zone {the_zone.name!r}"
    record_change(session, actor, "storage_pool.add", "storage_pool", pool.id,
                  f"{protocol} primary storage {name!r} for {scope}")
    return pool


def _absolute_path(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/") or "\x00" in path:
        raise InvalidRequest(f"the storage path {path!r} is not an absolute path (like /export/primary)")
    if len(path) > _LONGEST_PATH:
        raise InvalidRequest(f"the storage path is too long: at most {_LONGEST_PATH} characters")
    return path


def update_storage_pool(session: Session, pool: Ref, *, zone: Ref | None = None, name=UNCHANGED, tags=UNCHANGED,
                        capacity_gib=UNCHANGED, overprovisioning=UNCHANGED, actor: Actor = SYSTEM) -> StoragePool:
    """Rename a pool (a label for administrators, unique in its zone), or change what placement
    reads of it: its storage tags (None or empty: none), its capacity and overprovisioning
    factor, as long as what is allocated on it still fits (CloudStack's updateStoragePool
    likewise changes name, tags and capacity). The change moves the inventory generation, so
    placement's snapshot is rebuilt. Where it is stays (protocol, server, path): the hosts of
    its scope have it mounted and its volumes live there; so does its scope (cluster or zone)."""
    found = find_storage_pool(session, pool, zone=zone)
    changed = {}
    if name is not UNCHANGED and name != found.name:
        check_name("primary storage pool", name)
        refuse_duplicate(session, StoragePool, "a primary storage pool",
                         [StoragePool.zone_id == found.zone_id, StoragePool.name == name], f"named {name!r}",
                         f"in zone {session.get(Zone, found.zone_id).name!r}")
        changed["name"] = name
    if tags is not UNCHANGED:
        changed["tags"] = normalise_tags("storage tags", tags)
    if capacity_gib is not UNCHANGED:
        changed["capacity_gib"] = check_number("the capacity in GiB", capacity_gib, above=0)
    if overprovisioning is not UNCHANGED:
        changed["overprovisioning"] = check_number("the overprovisioning factor", overprovisioning, minimum=1)
    room = changed.get("capacity_gib", found.capacity_gib) * changed.get("overprovisioning", found.overprovisioning)
    if room < found.used_gib:
        raise Conflict(f"primary storage pool {found.name!r} has {found.used_gib:g} GiB allocated: its capacity "
                       f"times its overprovisioning factor would be {room:g} GiB")
    # "storage pool": the events' resource type is storage_pool, as its add and remove record it.
    apply_changes(session, found, "storage pool", changed, actor)
    return found


def list_storage_pools(session: Session, *, zone: Ref | None = None) -> list[StoragePool]:
    query = select(StoragePool).order_by(StoragePool.zone_id, StoragePool.name)
    if zone is not None:
        query = query.where(StoragePool.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


def change_storage_pool_state(session: Session, pool: Ref, change: str, *, zone: Ref | None = None,
                              actor: Actor = SYSTEM) -> StoragePool:
    """``change`` is one of POOL_STATE_CHANGES, moved through STORAGE_POOL_TRANSITIONS.
    Enabling an enabled pool (or disabling a disabled one) changes nothing. The row is locked
    first, so of two administrators the second sees what the first did."""
    check_choice("storage pool state change", change, POOL_STATE_CHANGES)
    event = StoragePoolEvent(change)
    found = find_storage_pool(session, pool, zone=zone)
    locked = session.get(StoragePool, found.id, with_for_update=ROW_LOCK, populate_existing=True)
    current = StoragePoolState(locked.state)
    if not STORAGE_POOL_TRANSITIONS.allows(current, event):
        possible = STORAGE_POOL_TRANSITIONS.events_allowed(current, moving_only=True)
        raise Conflict(f"primary storage pool {locked.name!r} is {current.value}: it cannot {change} now; "
                       f"possible: {', '.join(possible) or 'nothing'}")
    if STORAGE_POOL_TRANSITIONS.next_state(current, event) == current:
        return locked
    target = apply_event(session, locked, STORAGE_POOL_TRANSITIONS, event)
    record_change(session, actor, f"storage_pool.{change.replace('-', '_')}", "storage_pool", locked.id,
                  f"primary storage pool {locked.name!r} is now {target.value}")
    return locked


def remove_storage_pool(session: Session, pool: Ref, *, zone: Ref | None = None, actor: Actor = SYSTEM) -> None:
    found = find_storage_pool(session, pool, zone=zone)
    refuse_if_used(f"primary storage pool {found.name!r}", {
        "volume": count(session, Volume, Volume.storage_pool_id == found.id),
        "virtual machine root disk": count(session, VirtualMachine, VirtualMachine.storage_pool_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "storage_pool.remove", "storage_pool", found.id,
                  f"primary storage pool {found.name!r}")


# --- secondary storage -----------------------------------------------------------------------------

def add_secondary_storage(session: Session, *, zone: Ref, name: str, url: str, capacity_gib: float,
                          actor: Actor = SYSTEM) -> SecondaryStorage:
    the_zone = find_zone(session, zone)
    check_name("secondary storage", name)
    refuse_duplicate(session, SecondaryStorage, "a secondary storage",
                     [SecondaryStorage.zone_id == the_zone.id, SecondaryStorage.name == name],
                     f"named {name!r}", f"in zone {the_zone.name!r}")
    store = SecondaryStorage(zone_id=the_zone.id, name=name, url=_nfs_url(url),
                             capacity_gib=check_number("the capacity in GiB", capacity_gib, above=0))
    session.add(store)
    session.flush()
    record_change(session, actor, "secondary_storage.add", "secondary_storage", store.id,
                  f"secondary storage {name!r} ({store.url}) in zone {the_zone.name!r}")
    return store


def update_secondary_storage(session: Session, store: Ref, *, zone: Ref | None = None, name=UNCHANGED,
                             url=UNCHANGED, capacity_gib=UNCHANGED, actor: Actor = SYSTEM) -> SecondaryStorage:
    """Rename a secondary storage (a label for administrators, unique in its zone), change its
    capacity (not below what it holds), or move it to another NFS URL while it holds no
    template: the copies it holds are found under the old one (CloudStack's updateImageStore
    changes name and capacity only)."""
    found = find_secondary_storage(session, store, zone=zone)
    changed = {}
    if name is not UNCHANGED and name != found.name:
        check_name("secondary storage", name)
        refuse_duplicate(session, SecondaryStorage, "a secondary storage",
                         [SecondaryStorage.zone_id == found.zone_id, SecondaryStorage.name == name],
                         f"named {name!r}", f"in zone {session.get(Zone, found.zone_id).name!r}")
        changed["name"] = name
    if capacity_gib is not UNCHANGED:
        changed["capacity_gib"] = check_number("the capacity in GiB", capacity_gib, above=0)
        if changed["capacity_gib"] < found.used_gib:
            raise Conflict(f"secondary storage {found.name!r} holds {found.used_gib:g} GiB: its capacity cannot be "
                           f"{changed['capacity_gib']:g} GiB")
    if url is not UNCHANGED and url != found.url:
        changed["url"] = _nfs_url(url)
        copies = count(session, TemplateCopy, TemplateCopy.secondary_storage_id == found.id)
        if copies:
            raise Conflict(f"secondary storage {found.name!r} keeps its URL {found.url}: {copies} "
                           f"template{'' if copies == 1 else 's'} {'is' if copies == 1 else 'are'} kept there")
    apply_changes(session, found, "secondary storage", changed, actor)
    return found


def _nfs_url(url: object) -> str:
    accepted = "an NFS URL like nfs://nfs.example.org/export/secondary"
    if not isinstance(url, str) or len(url) > _LONGEST_PATH:
        raise InvalidRequest(f"the secondary storage URL must be {accepted}")
    parts = urlsplit(url)
    if parts.scheme != "nfs":
        raise InvalidRequest(f"the secondary storage URL {url!r} is not NFS: it must be {accepted}")
    if not parts.hostname or parts.username or parts.password:
        raise InvalidRequest(f"the secondary storage URL {url!r} names no server: it must be {accepted}")
    host_address("the NFS server", parts.hostname)
    if not parts.path.startswith("/") or parts.path == "/" or parts.query or parts.fragment:
        raise InvalidRequest(f"the secondary storage URL {url!r} names no export path: it must be {accepted}")
    return url


def list_secondary_storage(session: Session, *, zone: Ref | None = None) -> list[SecondaryStorage]:
    query = select(SecondaryStorage).order_by(SecondaryStorage.zone_id, SecondaryStorage.name)
    if zone is not None:
        query = query.where(SecondaryStorage.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


def enable_secondary_storage(session: Session, store: Ref, *, zone: Ref | None = None,
                             actor: Actor = SYSTEM) -> SecondaryStorage:
    return set_enabled(session, find_secondary_storage(session, store, zone=zone), "secondary storage", True, actor)


def disable_secondary_storage(session: Session, store: Ref, *, zone: Ref | None = None,
                              actor: Actor = SYSTEM) -> SecondaryStorage:
    return set_enabled(session, find_secondary_storage(session, store, zone=zone), "secondary storage", False, actor)


def remove_secondary_storage(session: Session, store: Ref, *, zone: Ref | None = None,
                             actor: Actor = SYSTEM) -> None:
    found = find_secondary_storage(session, store, zone=zone)
    refuse_if_used(f"secondary storage {found.name!r}", {
        "template": count(session, TemplateCopy, TemplateCopy.secondary_storage_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "secondary_storage.remove", "secondary_storage", found.id,
                  f"secondary storage {found.name!r}")
