"""The placement planner: which host, and which primary storage pool, a new VM goes to.

CloudStack splits this into a deployment planner (which clusters, in which order) and host and
storage-pool allocators (which host and pool inside a cluster). Here it is one pure function,
:func:`plan`, of a :class:`PlacementRequest`, a :class:`~.topology.Topology` snapshot and an
:class:`AvoidSet`. It reads and never changes the snapshot: the caller claims the placement in
the database and then applies it with ``topology.reserve`` / ``reserve_storage``. Being pure is
what lets the rules below be tested exhaustively without a database, and lets a retry after a
failed deploy be the same call with a larger avoid set.

The rules:

* zones, pods and clusters that are disabled or avoided are skipped, and so are clusters of
  another hypervisor and clusters whose allocated CPU or memory is above the capacity
  threshold (CloudStack's ``cluster.*.allocated.capacity.disablethreshold``, 0.85 by default);
* a host fits if it is schedulable, not avoided, not hosting a member of the VM's
  anti-affinity group, one of its affinity group's hosts (when it has one), carries every host
  tag, and has the CPU and memory free counting overcommit;
* the root disk goes to a usable, unavoided pool carrying the storage tags that the host
  reaches (its cluster's, then zone-wide ones) and that stays within the threshold after
  allocation. A cluster without such a pool is passed over for the next one, not a failure;
* a *whole-host* request (a bare-metal compute) takes a host that nothing holds, at least as
  big as asked -- in the first cluster that has one, the smallest (fewest MiB, then MHz, then
  lowest id), so that big nodes stay free for big requests. The capacity threshold does not
  apply: a node is either free or taken.

``first_fit`` takes zones, pods, clusters, hosts and pools in id order, the first fit wins.
``dispersing`` spreads the load: within a zone, the cluster with the lowest allocated memory
ratio that has a fitting host, the host with the most free memory (ties: lowest id), and the
pool with the lowest allocated ratio. Both are deterministic.

Speed: a cluster is rejected from its :class:`~.topology.ClusterLoad` (ratios, largest free
CPU and memory, the union of its hosts' tags) before any host is looked at, so a request costs
a pass over the clusters of a zone and the hosts of the few that might fit, not all hosts.
When nothing fits, :mod:`.explanations` walks everything once to say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from occistack.plane.errors import NoCapacity  # what plan() raises; placement callers import it from here
from occistack.plane.placement.explanations import explain_no_capacity
from occistack.plane.placement.requests import (
    DEFAULT_CAPACITY_THRESHOLD,
    DISPERSING,
    NOTHING_AVOIDED,
    AvoidSet,
    PlacementRequest,
)
from occistack.plane.placement.topology import ClusterLoad, HostSnapshot, PoolSnapshot, Topology

@dataclass(frozen=True, slots=True)
class Placement:
    """Where the VM goes. ``pool_id`` is None when there was no disk to place nor pool forced."""

    zone_id: int
    pod_id: int
    cluster_id: int
    host_id: int
    pool_id: int | None


def plan(request: PlacementRequest, topology: Topology, avoid: AvoidSet = NOTHING_AVOIDED,
         capacity_threshold: float = DEFAULT_CAPACITY_THRESHOLD) -> Placement:
    """Choose a host and pool for ``request``, or raise :class:`NoCapacity` saying why not."""
    if not capacity_threshold > 0:
        raise ValueError("the capacity threshold must be a positive fraction")
    zone_ids = topology.zone_ids if request.zone_id is None else (request.zone_id,)
    search = _Search(request, topology, avoid, capacity_threshold)
    for zone_id in zone_ids:
        zone = topology.zones.get(zone_id)
        if zone is None or not zone.enabled or zone_id in avoid.zones:
            continue
        placement = search.in_zone(zone_id)
        if placement is not None:
            return placement
    reason, causes = explain_no_capacity(request, topology, avoid, capacity_threshold)
    raise NoCapacity(reason, causes)


#: What ``_Search.pool_for`` answers when the cluster has no suitable pool.
_NO_SUITABLE_POOL = object()


class _Search:
    """One request's filters, precomputed once, and the per-cluster steps of both strategies."""

    __slots__ = ("topology", "avoid", "threshold", "cpu", "memory", "disk", "host_tags",
                 "storage_tags", "hypervisor", "affinity", "affinity_clusters", "excluded_hosts",
                 "pool_id", "dispersing", "whole_host", "cluster_threshold")

    def __init__(self, request: PlacementRequest, topology: Topology, avoid: AvoidSet,
                 threshold: float):
        self.topology, self.avoid, self.threshold = topology, avoid, threshold
        self.cpu, self.memory, self.disk = request.cpu_mhz, request.memory_mib, request.disk_gib
        self.host_tags, self.storage_tags = request.host_tags, request.storage_tags
        self.hypervisor, self.pool_id = request.hypervisor, request.pool_id
        self.affinity = request.affinity_host_ids
        self.affinity_clusters = frozenset(
            topology.hosts[host_id].cluster_id
            for host_id in self.affinity if host_id in topology.hosts)
        self.excluded_hosts = avoid.hosts | request.anti_affinity_host_ids
        self.dispersing = request.strategy == DISPERSING
        self.whole_host = request.whole_host
        # A node is free or taken: how loaded its cluster is says nothing about whether it fits.
        self.cluster_threshold = float("inf") if request.whole_host else threshold

    def in_zone(self, zone_id: int) -> Placement | None:
        clusters = self.clusters_that_may_fit(zone_id)
        if self.dispersing:
            clusters = sorted(clusters, key=_memory_ratio_then_id)
        if self.whole_host:
            choose_host = self.smallest_free_host
        else:
            choose_host = self.roomiest_host if self.dispersing else self.first_fitting_host
        for load in clusters:
            # The pool first: a cluster's pools are fewer than its hosts, and when storage is
            # what is short, skipping on it saves scanning every cluster's hosts for nothing.
            pool = self.pool_for(load)
            if pool is _NO_SUITABLE_POOL:
                continue
            host = choose_host(load)
            if host is None:
                continue
            return Placement(zone_id, host.pod_id, host.cluster_id, host.id,
                             None if pool is None else pool.id)  # type: ignore[union-attr]
        return None

    def clusters_that_may_fit(self, zone_id: int) -> Iterator[ClusterLoad]:
        """Clusters passing every cluster-level rule whose aggregates leave room for a fit."""
        avoid, threshold, cpu, memory = self.avoid, self.cluster_threshold, self.cpu, self.memory
        host_tags, affinity_clusters = self.host_tags, self.affinity_clusters
        for pod in self.topology.pods_in_zone(zone_id):
            if not pod.enabled or pod.id in avoid.pods:
                continue
            for load in self.topology.clusters_in_pod(pod.id):
                cluster = load.cluster
                if (load.largest_free_cpu_mhz >= cpu and load.largest_free_memory_mib >= memory
                        and load.cpu_ratio <= threshold and load.memory_ratio <= threshold
                        and cluster.enabled and cluster.hypervisor == self.hypervisor
                        and cluster.id not in avoid.clusters and host_tags <= load.host_tags
                        and (not self.affinity or cluster.id in affinity_clusters)):
                    yield load

    def host_fits(self, host: HostSnapshot) -> bool:
        return (host.schedulable and host.cpu_free_mhz >= self.cpu
                and host.memory_free_mib >= self.memory and host.id not in self.excluded_hosts
                and self.host_tags <= host.tags
                and (not self.affinity or host.id in self.affinity))

    def host_is_free_and_fits(self, host: HostSnapshot) -> bool:
        return (host.schedulable and host.cpu_used_mhz == 0 and host.memory_used_mib == 0
                and host.cpu_total_mhz >= self.cpu and host.memory_total_mib >= self.memory
                and host.id not in self.excluded_hosts and self.host_tags <= host.tags
                and (not self.affinity or host.id in self.affinity))

    def smallest_free_host(self, load: ClusterLoad) -> HostSnapshot | None:
        fits = self.host_is_free_and_fits
        return min((host for host in load.hosts if fits(host)), key=_size_then_id, default=None)

    def first_fitting_host(self, load: ClusterLoad) -> HostSnapshot | None:
        fits = self.host_fits
        return next((host for host in load.hosts if fits(host)), None)

    def roomiest_host(self, load: ClusterLoad) -> HostSnapshot | None:
        fits, best = self.host_fits, None
        for host in load.hosts:  # id order, so ">" keeps the lowest id among equals
            if fits(host) and (best is None or host.memory_free_mib > best.memory_free_mib):
                best = host
        return best

    def pool_for(self, load: ClusterLoad) -> PoolSnapshot | None | object:
        """The pool for the root disk from this cluster; None when no pool is needed."""
        if self.pool_id is None and not self.disk:
            return None
        suitable = [pool for pool in self.topology.reachable_pools(load.cluster.id, self.pool_id)
                    if self.pool_fits(pool)]
        if not suitable:
            return _NO_SUITABLE_POOL
        if self.dispersing:
            return min(suitable, key=_allocated_ratio_then_id)
        return suitable[0]

    def pool_fits(self, pool: PoolSnapshot) -> bool:
        return (pool.usable and pool.id not in self.avoid.pools
                and self.storage_tags <= pool.tags
                and (not self.disk or pool.has_room_for(self.disk, self.threshold)))


def _memory_ratio_then_id(load: ClusterLoad) -> tuple[float, int]:
    return load.memory_ratio, load.cluster.id


def _size_then_id(host: HostSnapshot) -> tuple[int, int, int]:
    return host.memory_total_mib, host.cpu_total_mhz, host.id


def _allocated_ratio_then_id(pool: PoolSnapshot) -> tuple[float, int]:
    return pool.allocated_ratio, pool.id
