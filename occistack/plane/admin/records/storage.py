"""Records of storage: primary storage pools (a cluster's, or zone-wide) and secondary storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import Cluster, SecondaryStorage, StoragePool, Zone
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class StoragePoolRecord:
    id: int
    zone_id: int
    #: the pod and cluster the pool serves; None for zone-wide storage.
    pod_id: int | None
    cluster_id: int | None
    name: str
    protocol: str
    server: str | None
    path: str
    capacity_gib: float
    used_gib: float
    overprovisioning: float
    #: comma-separated storage tags.
    tags: str
    #: model.states.StoragePoolState.
    state: str
    created_at: datetime
    zone_name: str = related()
    #: None for zone-wide storage.
    cluster_name: str | None = related()


@dataclass(frozen=True, slots=True)
class SecondaryStorageRecord:
    id: int
    zone_id: int
    name: str
    url: str
    capacity_gib: float
    used_gib: float
    enabled: bool
    created_at: datetime
    zone_name: str = related()


def storage_pool_records(session: Session, pools: Iterable[StoragePool]) -> list[StoragePoolRecord]:
    pools = list(pools)
    zones = names_by_id(session, Zone.name, (pool.zone_id for pool in pools))
    clusters = names_by_id(session, Cluster.name, (pool.cluster_id for pool in pools))
    return [from_row(StoragePoolRecord, pool, zone_name=zones[pool.zone_id],
                     cluster_name=clusters.get(pool.cluster_id)) for pool in pools]


def storage_pool_record(session: Session, pool: StoragePool) -> StoragePoolRecord:
    return storage_pool_records(session, [pool])[0]


def secondary_storage_records(session: Session, stores: Iterable[SecondaryStorage]) -> list[SecondaryStorageRecord]:
    stores = list(stores)
    zones = names_by_id(session, Zone.name, (store.zone_id for store in stores))
    return [from_row(SecondaryStorageRecord, store, zone_name=zones[store.zone_id]) for store in stores]


def secondary_storage_record(session: Session, store: SecondaryStorage) -> SecondaryStorageRecord:
    return secondary_storage_records(session, [store])[0]
