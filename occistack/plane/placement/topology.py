"""The topology snapshot the placement planner reads: zones, pods, clusters, hosts and primary
storage pools with their current load, held in memory.

Why a snapshot and not queries: placement runs for every deploy and every retry, and it must be a
pure function that tests can drive without a database (DESIGN.md, "State is data"). The
management server builds one :class:`Topology` from the inventory tables, applies each placement
it commits with :meth:`Topology.reserve` and :meth:`Topology.reserve_storage`, each destroy with
:meth:`Topology.release` and :meth:`Topology.release_storage`, and swaps in a host it has re-read
(a heartbeat, a maintenance toggle) with :meth:`Topology.update_host`.

Why per-cluster aggregates: with 10,000 hosts a scan per request is too slow, so every cluster
carries a :class:`ClusterLoad` -- its allocated CPU and memory and the largest free CPU and
memory of any of its schedulable hosts. The planner rejects most clusters from those few numbers
and looks at hosts only where one might fit. Every change goes through a method here, which
recounts the one cluster it touched, so the aggregates cannot drift from the hosts.

The records themselves (and the capacity arithmetic) are in :mod:`.topology_records`; they are
importable from here too.

Stdlib only, no I/O.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import attrgetter
from types import MappingProxyType
from typing import Iterable, Mapping

from occistack.plane.placement.records import (
    NO_ROOM, ClusterLoad, ClusterSnapshot, HostSnapshot, PodSnapshot, PoolSnapshot, ZoneSnapshot)

__all__ = ["NO_ROOM", "ClusterLoad", "ClusterSnapshot", "HostSnapshot", "PodSnapshot",
           "PoolSnapshot", "Topology", "UsageBelowZero", "ZoneSnapshot"]

#: How far below zero (GiB) a storage release may land from float rounding before it is an error.
STORAGE_ROUNDING_GIB = 1e-6

_BY_ID = attrgetter("id")


class UsageBelowZero(ValueError):
    """A release of more than was reserved: the caller's books and the snapshot disagree."""


def _index(records: Iterable, kind: str) -> dict[int, object]:
    by_id: dict[int, object] = {}
    for record in records:
        if record.id in by_id:
            raise ValueError(f"two {kind}s have id {record.id}")
        by_id[record.id] = record
    return by_id


class Topology:
    """Zones, pods, clusters, hosts and pools, with per-cluster loads kept current.

    Zones, pods and clusters are fixed for the snapshot's life (a change there means a new
    snapshot); hosts and pools change through the methods below. The read-only mappings
    ``zones``, ``pods``, ``clusters``, ``hosts`` and ``pools`` always show current records."""

    def __init__(self, zones: Iterable[ZoneSnapshot], pods: Iterable[PodSnapshot],
                 clusters: Iterable[ClusterSnapshot], hosts: Iterable[HostSnapshot],
                 pools: Iterable[PoolSnapshot] = ()):
        self._zones: dict[int, ZoneSnapshot] = _index(zones, "zone")  # type: ignore[assignment]
        self._pods: dict[int, PodSnapshot] = _index(pods, "pod")  # type: ignore[assignment]
        self._clusters: dict[int, ClusterSnapshot] = _index(clusters, "cluster")  # type: ignore
        self._hosts: dict[int, HostSnapshot] = {}
        self._pools: dict[int, PoolSnapshot] = {}
        self.zones: Mapping[int, ZoneSnapshot] = MappingProxyType(self._zones)
        self.pods: Mapping[int, PodSnapshot] = MappingProxyType(self._pods)
        self.clusters: Mapping[int, ClusterSnapshot] = MappingProxyType(self._clusters)
        self.hosts: Mapping[int, HostSnapshot] = MappingProxyType(self._hosts)
        self.pools: Mapping[int, PoolSnapshot] = MappingProxyType(self._pools)
        self.zone_ids: tuple[int, ...] = tuple(sorted(self._zones))

        for pod in self._pods.values():
            if pod.zone_id not in self._zones:
                raise ValueError(f"pod {pod.name!r} is in zone {pod.zone_id}, which is unknown")
        for cluster in self._clusters.values():
            pod = self._pods.get(cluster.pod_id)
            if pod is None or pod.zone_id != cluster.zone_id:
                raise ValueError(f"cluster {cluster.name!r}: pod {cluster.pod_id} is unknown "
                                 f"or not in zone {cluster.zone_id}")
        pods = sorted(self._pods.values(), key=_BY_ID)
        pods_in_zone: dict[int, list[PodSnapshot]] = {zone_id: [] for zone_id in self._zones}
        for pod in pods:
            pods_in_zone[pod.zone_id].append(pod)
        self._pods_in_zone = {zone_id: tuple(in_zone) for zone_id, in_zone in pods_in_zone.items()}
        # A cluster's load lives in its pod's tuple, at a fixed place, and is swapped there.
        clusters = sorted(self._clusters.values(), key=_BY_ID)
        hosts_of: dict[int, list[HostSnapshot]] = {cluster.id: [] for cluster in clusters}
        for host in sorted(hosts, key=_BY_ID):
            self._check_host(host)
            if host.id in self._hosts:
                raise ValueError(f"two hosts have id {host.id}")
            self._hosts[host.id] = host
            hosts_of[host.cluster_id].append(host)
        self._loads: dict[int, ClusterLoad] = {}
        self._loads_in_pod: dict[int, tuple[ClusterLoad, ...]] = {}
        self._load_place: dict[int, tuple[int, int]] = {}
        clusters_of: dict[int, list[ClusterSnapshot]] = {pod.id: [] for pod in pods}
        for cluster in clusters:
            clusters_of[cluster.pod_id].append(cluster)
        for pod in pods:
            loads = tuple(ClusterLoad.count(c, tuple(hosts_of[c.id])) for c in clusters_of[pod.id])
            self._loads_in_pod[pod.id] = loads
            for place, load in enumerate(loads):
                self._loads[load.cluster.id] = load
                self._load_place[load.cluster.id] = (pod.id, place)

        self._cluster_pools: dict[int, tuple[PoolSnapshot, ...]] = {c.id: () for c in clusters}
        self._zone_wide_pools: dict[int, tuple[PoolSnapshot, ...]] = {z: () for z in self._zones}
        for pool in sorted(pools, key=_BY_ID):
            if pool.id in self._pools:
                raise ValueError(f"two pools have id {pool.id}")
            self._check_pool(pool)
            self._pools[pool.id] = pool
            self._add_pool_to_scope(pool)

    # --- reads for the planner --------------------------------------------------------------

    def pods_in_zone(self, zone_id: int) -> tuple[PodSnapshot, ...]:
        """The zone's pods in id order (empty for an unknown zone)."""
        return self._pods_in_zone.get(zone_id, ())

    def clusters_in_pod(self, pod_id: int) -> tuple[ClusterLoad, ...]:
        """The pod's clusters with their current load, in cluster id order."""
        return self._loads_in_pod.get(pod_id, ())

    def cluster_load(self, cluster_id: int) -> ClusterLoad:
        return self._loads[cluster_id]

    def cluster_pools(self, cluster_id: int) -> tuple[PoolSnapshot, ...]:
        """The cluster-scoped pools of one cluster, in id order."""
        return self._cluster_pools.get(cluster_id, ())

    def zone_wide_pools(self, zone_id: int) -> tuple[PoolSnapshot, ...]:
        """The zone-wide pools of one zone, in id order."""
        return self._zone_wide_pools.get(zone_id, ())

    def reachable_pools(self, cluster_id: int,
                        only_pool_id: int | None = None) -> tuple[PoolSnapshot, ...]:
        """The pools the cluster's hosts reach, its own (id order) before zone-wide ones; with
        ``only_pool_id``, just that pool if they reach it."""
        zone_id = self._clusters[cluster_id].zone_id
        if only_pool_id is None:
            return self._cluster_pools[cluster_id] + self._zone_wide_pools[zone_id]
        pool = self._pools.get(only_pool_id)
        if pool is not None and (pool.cluster_id == cluster_id
                                 or (pool.cluster_id is None and pool.zone_id == zone_id)):
            return (pool,)
        return ()

    # --- changes ----------------------------------------------------------------------------

    def reserve(self, host_id: int, cpu_mhz: int, memory_mib: int) -> HostSnapshot:
        """Count a placed VM's CPU and memory on its host. No capacity check: the snapshot
        mirrors what was committed, and the planner already decided it fits."""
        _check_amounts(cpu_mhz, memory_mib)
        host = self._hosts[host_id]
        return self._put_host(host.with_usage(host.cpu_used_mhz + cpu_mhz,
                                              host.memory_used_mib + memory_mib))

    def set_usage(self, host_id: int, cpu_used_mhz: int, memory_used_mib: int) -> HostSnapshot:
        """Take a host's usage as the database returned it after a claim: the snapshot then
        also counts what other processes claimed there."""
        _check_amounts(cpu_used_mhz, memory_used_mib)
        return self._put_host(self._hosts[host_id].with_usage(cpu_used_mhz, memory_used_mib))

    def release(self, host_id: int, cpu_mhz: int, memory_mib: int) -> HostSnapshot:
        """Uncount a destroyed (or moved) VM; raises :class:`UsageBelowZero` on over-release."""
        _check_amounts(cpu_mhz, memory_mib)
        host = self._hosts[host_id]
        cpu_left, memory_left = host.cpu_used_mhz - cpu_mhz, host.memory_used_mib - memory_mib
        if cpu_left < 0 or memory_left < 0:
            raise UsageBelowZero(
                f"releasing {cpu_mhz} MHz and {memory_mib} MiB from host {host.name!r} would "
                f"leave {cpu_left} MHz and {memory_left} MiB in use")
        return self._put_host(host.with_usage(cpu_left, memory_left))

    def reserve_storage(self, pool_id: int, gib: float) -> PoolSnapshot:
        if gib < 0:
            raise ValueError("cannot reserve a negative amount of storage")
        pool = self._pools[pool_id]
        return self._put_pool(pool.with_usage(pool.used_gib + gib))

    def release_storage(self, pool_id: int, gib: float) -> PoolSnapshot:
        if gib < 0:
            raise ValueError("cannot release a negative amount of storage")
        pool = self._pools[pool_id]
        left = pool.used_gib - gib
        if left < -STORAGE_ROUNDING_GIB:
            raise UsageBelowZero(f"releasing {gib:g} GiB from pool {pool.name!r} would leave "
                                 f"{left:g} GiB in use")
        return self._put_pool(pool.with_usage(max(left, 0.0)))

    def update_host(self, host: HostSnapshot) -> None:
        """Replace a host's record (or add a new host), e.g. after re-reading it from the
        database; it may have moved to another cluster."""
        self._check_host(host)
        self._put_host(host)

    def update_pool(self, pool: PoolSnapshot) -> None:
        """Replace a pool's record (or add a new pool); its scope may change."""
        self._check_pool(pool)
        old = self._pools.get(pool.id)
        if old is not None and (old.zone_id, old.cluster_id) != (pool.zone_id, pool.cluster_id):
            self._remove_pool_from_scope(old)
            old = None
        self._pools[pool.id] = pool
        if old is None:
            self._add_pool_to_scope(pool)
        else:
            self._swap_pool_in_scope(pool)

    # --- bookkeeping ------------------------------------------------------------------------

    def _check_host(self, host: HostSnapshot) -> None:
        cluster = self._clusters.get(host.cluster_id)
        if cluster is None or (cluster.pod_id, cluster.zone_id) != (host.pod_id, host.zone_id):
            raise ValueError(f"host {host.name!r}: cluster {host.cluster_id} is unknown or not "
                             f"in pod {host.pod_id} of zone {host.zone_id}")

    def _check_pool(self, pool: PoolSnapshot) -> None:
        if pool.zone_id not in self._zones:
            raise ValueError(f"pool {pool.name!r}: zone {pool.zone_id} is unknown")
        if pool.cluster_id is not None:
            cluster = self._clusters.get(pool.cluster_id)
            if cluster is None or cluster.zone_id != pool.zone_id:
                raise ValueError(f"pool {pool.name!r}: cluster {pool.cluster_id} is unknown or "
                                 f"not in zone {pool.zone_id}")

    def _put_host(self, host: HostSnapshot) -> HostSnapshot:
        old = self._hosts.get(host.id)
        self._hosts[host.id] = host
        if old is not None and old.cluster_id != host.cluster_id:
            hosts = list(self._loads[old.cluster_id].hosts)
            del hosts[bisect_left(hosts, old.id, key=_BY_ID)]
            self._recount(old.cluster_id, hosts)
            old = None
        load = self._loads[host.cluster_id]
        place = bisect_left(load.hosts, host.id, key=_BY_ID)
        if old is None:
            hosts = list(load.hosts)
            hosts.insert(place, host)
            self._recount(host.cluster_id, hosts)
        else:
            self._store_load(load.with_host_replaced(place, host))
        return host

    def _recount(self, cluster_id: int, hosts: list[HostSnapshot]) -> None:
        self._store_load(ClusterLoad.count(self._clusters[cluster_id], tuple(hosts)))

    def _store_load(self, load: ClusterLoad) -> None:
        cluster_id = load.cluster.id
        self._loads[cluster_id] = load
        pod_id, place = self._load_place[cluster_id]
        loads = list(self._loads_in_pod[pod_id])
        loads[place] = load
        self._loads_in_pod[pod_id] = tuple(loads)

    def _put_pool(self, pool: PoolSnapshot) -> PoolSnapshot:
        self._pools[pool.id] = pool
        self._swap_pool_in_scope(pool)
        return pool

    def _scope(self, pool: PoolSnapshot) -> tuple[dict[int, tuple[PoolSnapshot, ...]], int]:
        if pool.cluster_id is None:
            return self._zone_wide_pools, pool.zone_id
        return self._cluster_pools, pool.cluster_id

    def _add_pool_to_scope(self, pool: PoolSnapshot) -> None:
        table, key = self._scope(pool)
        table[key] = tuple(sorted((*table[key], pool), key=_BY_ID))

    def _remove_pool_from_scope(self, pool: PoolSnapshot) -> None:
        table, key = self._scope(pool)
        table[key] = tuple(p for p in table[key] if p.id != pool.id)

    def _swap_pool_in_scope(self, pool: PoolSnapshot) -> None:
        table, key = self._scope(pool)
        table[key] = tuple(pool if p.id == pool.id else p for p in table[key])


def _check_amounts(cpu_mhz: int, memory_mib: int) -> None:
    if cpu_mhz < 0 or memory_mib < 0:
        raise ValueError("CPU and memory amounts cannot be negative")
