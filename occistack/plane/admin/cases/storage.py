"""Storage as the faces ask for it: primary storage pools (per cluster or zone-wide) with their
states, and each zone's secondary storage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from occistack.plane.admin import storage
from occistack.plane.admin.cases.common import UNCHANGED, Switch, Unchanged, actor_of, changes_of
from occistack.plane.admin.common import Ref, set_enabled
from occistack.plane.admin.lookup import find_secondary_storage, find_storage_pool
from occistack.plane.admin.records.storage import (
    SecondaryStorageRecord,
    StoragePoolRecord,
    secondary_storage_record,
    secondary_storage_records,
    storage_pool_record,
    storage_pool_records,
)
from occistack.plane.context import PlaneContext


@dataclass(frozen=True)
class NewStoragePool:
    zone: Ref
    name: str
    #: nfs, sharedmountpoint or filesystem; only nfs names a server.
    protocol: str
    path: str
    capacity_gib: float
    server: str | None = None
    #: the cluster (and its pod) the pool serves; neither for zone-wide storage.
    cluster: Ref | None = None
    pod: Ref | None = None
    overprovisioning: float = 1.0
    tags: str | list[str] | None = None


@dataclass(frozen=True)
class StoragePoolChanges:
    """What may change of a primary storage pool (storage.update_storage_pool says why where it
    is may not)."""

    name: str | Unchanged = UNCHANGED
    #: storage tags disk offerings can ask for: a list, or comma-separated text; None clears them.
    tags: str | list[str] | None | Unchanged = UNCHANGED
    capacity_gib: float | Unchanged = UNCHANGED
    overprovisioning: float | Unchanged = UNCHANGED


class PoolAction(StrEnum):
    """What an administrator does to a pool (the states each is allowed from are
    ``storage.POOL_STATE_CHANGES``)."""

    ENABLE = "enable"
    DISABLE = "disable"
    MAINTENANCE = "maintenance"
    CANCEL_MAINTENANCE = "cancel-maintenance"


@dataclass(frozen=True)
class NewSecondaryStorage:
    zone: Ref
    name: str
    #: an NFS URL like nfs://nfs.example.org/export/secondary.
    url: str
    capacity_gib: float


@dataclass(frozen=True)
class SecondaryStorageChanges:
    """What may change of a secondary storage (storage.update_secondary_storage says when its
    URL may not)."""

    name: str | Unchanged = UNCHANGED
    url: str | Unchanged = UNCHANGED
    capacity_gib: float | Unchanged = UNCHANGED


def add_storage_pool(ctx: PlaneContext, new: NewStoragePool) -> StoragePoolRecord:
    return storage_pool_record(ctx.session, storage.add_storage_pool(
        ctx.session, zone=new.zone, name=new.name, protocol=new.protocol, path=new.path,
        capacity_gib=new.capacity_gib, server=new.server, cluster=new.cluster, pod=new.pod,
        overprovisioning=new.overprovisioning, tags=new.tags, actor=actor_of(ctx)))


def list_storage_pools(ctx: PlaneContext, zone: Ref | None = None) -> list[StoragePoolRecord]:
    return storage_pool_records(ctx.session, storage.list_storage_pools(ctx.session, zone=zone))


def show_storage_pool(ctx: PlaneContext, pool: Ref, *, zone: Ref | None = None) -> StoragePoolRecord:
    return storage_pool_record(ctx.session, find_storage_pool(ctx.session, pool, zone=zone))


def update_storage_pool(ctx: PlaneContext, pool: Ref, changes: StoragePoolChanges, *,
                        zone: Ref | None = None) -> StoragePoolRecord:
    return storage_pool_record(ctx.session, storage.update_storage_pool(
        ctx.session, pool, zone=zone, **changes_of("primary storage pool", changes), actor=actor_of(ctx)))


def act_on_storage_pool(ctx: PlaneContext, pool: Ref, action: PoolAction, *,
                        zone: Ref | None = None) -> StoragePoolRecord:
    return storage_pool_record(ctx.session, storage.change_storage_pool_state(
        ctx.session, pool, PoolAction(action).value, zone=zone, actor=actor_of(ctx)))


def remove_storage_pool(ctx: PlaneContext, pool: Ref, *, zone: Ref | None = None) -> None:
    storage.remove_storage_pool(ctx.session, pool, zone=zone, actor=actor_of(ctx))


def add_secondary_storage(ctx: PlaneContext, new: NewSecondaryStorage) -> SecondaryStorageRecord:
    return secondary_storage_record(ctx.session, storage.add_secondary_storage(
        ctx.session, zone=new.zone, name=new.name, url=new.url, capacity_gib=new.capacity_gib, actor=actor_of(ctx)))


def list_secondary_storage(ctx: PlaneContext, zone: Ref | None = None) -> list[SecondaryStorageRecord]:
    return secondary_storage_records(ctx.session, storage.list_secondary_storage(ctx.session, zone=zone))


def show_secondary_storage(ctx: PlaneContext, store: Ref, *, zone: Ref | None = None) -> SecondaryStorageRecord:
    return secondary_storage_record(ctx.session, find_secondary_storage(ctx.session, store, zone=zone))


def update_secondary_storage(ctx: PlaneContext, store: Ref, changes: SecondaryStorageChanges, *,
                             zone: Ref | None = None) -> SecondaryStorageRecord:
    return secondary_storage_record(ctx.session, storage.update_secondary_storage(
        ctx.session, store, zone=zone, **changes_of("secondary storage", changes), actor=actor_of(ctx)))


def act_on_secondary_storage(ctx: PlaneContext, store: Ref, action: Switch, *,
                             zone: Ref | None = None) -> SecondaryStorageRecord:
    return secondary_storage_record(ctx.session, set_enabled(
        ctx.session, find_secondary_storage(ctx.session, store, zone=zone), "secondary storage",
        Switch(action) is Switch.ENABLE, actor_of(ctx)))


def remove_secondary_storage(ctx: PlaneContext, store: Ref, *, zone: Ref | None = None) -> None:
    storage.remove_secondary_storage(ctx.session, store, zone=zone, actor=actor_of(ctx))
