"""Test helpers for placement: a terse topology builder, random clouds for hypothesis, and
brute-force references.

The references restate the planner's rules the slow, obvious way -- every host, aggregates
recounted from the raw records, the capacity rule written as ``used + request <= total ×
overcommit`` -- so that the planner's shortcuts (cluster aggregates, early rejection) are
checked against something that has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

from hypothesis import strategies as st

from occistack.plane.placement.requests import AvoidSet, PlacementRequest
from occistack.plane.placement.topology import (
    ClusterSnapshot, HostSnapshot, PodSnapshot, PoolSnapshot, Topology, ZoneSnapshot)


@dataclass
class TopologyBuilder:
    """Records with sequential ids and small defaults; ``build()`` makes the Topology."""

    zones: list[ZoneSnapshot] = field(default_factory=list)
    pods: list[PodSnapshot] = field(default_factory=list)
    clusters: list[ClusterSnapshot] = field(default_factory=list)
    hosts: list[HostSnapshot] = field(default_factory=list)
    pools: list[PoolSnapshot] = field(default_factory=list)

    def zone(self, name: str | None = None, **fields) -> int:
        zone_id = len(self.zones) + 1
        self.zones.append(ZoneSnapshot(zone_id, name or f"zone{zone_id}", **fields))
        return zone_id

    def pod(self, zone_id: int, **fields) -> int:
        pod_id = len(self.pods) + 1
        self.pods.append(PodSnapshot(pod_id, zone_id, f"pod{pod_id}", **fields))
        return pod_id

    def cluster(self, pod_id: int, **fields) -> int:
        cluster_id = len(self.clusters) + 1
        zone_id = next(pod.zone_id for pod in self.pods if pod.id == pod_id)
        self.clusters.append(ClusterSnapshot(cluster_id, pod_id, zone_id, f"cluster{cluster_id}",
                                             **fields))
        return cluster_id

    def host(self, cluster_id: int, cpu: int = 8000, memory: int = 16384, **fields) -> int:
        host_id = len(self.hosts) + 1
        cluster = next(c for c in self.clusters if c.id == cluster_id)
        self.hosts.append(HostSnapshot(host_id, f"h{host_id}", cluster.zone_id, cluster.pod_id,
                                       cluster_id, cpu, memory, **fields))
        return host_id

    def pool(self, *, zone_id: int | None = None, cluster_id: int | None = None,
             capacity: float = 100.0, **fields) -> int:
        pool_id = len(self.pools) + 1
        if zone_id is None:
            zone_id = next(c.zone_id for c in self.clusters if c.id == cluster_id)
        self.pools.append(PoolSnapshot(pool_id, f"pool{pool_id}", zone_id, cluster_id, capacity,
                                       **fields))
        return pool_id

    def build(self) -> Topology:
        return Topology(self.zones, self.pods, self.clusters, self.hosts, self.pools)


def grid(clusters: int = 2, hosts_per_cluster: int = 2, **host_fields) -> TopologyBuilder:
    """One zone, one pod, ``clusters`` KVM clusters of identical hosts, a 1000 GiB pool each."""
    builder = TopologyBuilder()
    pod = builder.pod(builder.zone())
    for _ in range(clusters):
        cluster = builder.cluster(pod)
        builder.pool(cluster_id=cluster, capacity=1000.0)
        for _ in range(hosts_per_cluster):
            builder.host(cluster, **host_fields)
    return builder


# --- random clouds, for the property tests --------------------------------------------------

MOSTLY = st.integers(1, 5).map(lambda n: n != 5)
NEARLY_ALWAYS = st.integers(1, 12).map(lambda n: n != 7)
TAGS = st.sampled_from([frozenset(), frozenset(), frozenset({"gpu"}), frozenset({"gpu", "ssd"})])
HALF_GIB = st.integers(0, 120).map(lambda halves: halves / 2)   # small: thresholds bind


@st.composite
def random_clouds(draw) -> Topology:
    """A small random cloud: some zones, pods and clusters disabled, some hosts in maintenance,
    overcommit, tags, cluster-scoped and zone-wide pools, part used already."""
    builder = TopologyBuilder()
    for zone_number in range(draw(st.integers(1, 2))):
        zone = builder.zone(enabled=zone_number == 0 or draw(NEARLY_ALWAYS))
        if draw(st.booleans()):
            builder.pool(zone_id=zone, capacity=draw(HALF_GIB), tags=draw(TAGS))
        for pod_number in range(draw(st.integers(1, 2))):
            pod = builder.pod(zone, enabled=pod_number == 0 or draw(NEARLY_ALWAYS))
            for _ in range(draw(st.integers(1, 3))):
                hypervisor = draw(st.sampled_from(["KVM"] * 7 + ["BareMetal"]))
                cluster = builder.cluster(pod, hypervisor=hypervisor, enabled=draw(NEARLY_ALWAYS))
                for _ in range(draw(st.integers(0, 2))):
                    capacity = draw(HALF_GIB)
                    builder.pool(cluster_id=cluster, capacity=capacity, tags=draw(TAGS),
                                 used_gib=draw(st.integers(0, int(capacity * 2))) / 2,
                                 overprovisioning=draw(st.sampled_from([1.0, 2.0])),
                                 usable=draw(MOSTLY))
                for _ in range(draw(st.integers(0, 4))):
                    cpu = draw(st.sampled_from([2000, 4000, 8000]))
                    overcommit = draw(st.sampled_from([1.0, 1.3, 2.0]))
                    memory = draw(st.sampled_from([2048, 4096, 8192]))
                    builder.host(cluster, cpu=cpu, memory=memory, cpu_overcommit=overcommit,
                                 cpu_used_mhz=draw(st.integers(0, int(cpu * overcommit) // 1000))
                                 * 500,
                                 memory_used_mib=draw(st.integers(0, memory // 1024)) * 512,
                                 tags=draw(TAGS), schedulable=draw(MOSTLY),
                                 unschedulable_reason="in maintenance")
    return builder.build()


# --- brute force ---------------------------------------------------------------------------------

def cluster_ratios(topology: Topology, cluster_id: int) -> tuple[float, float]:
    """(CPU, memory) allocated / allocatable over the cluster's schedulable hosts, recounted."""
    up = [h for h in topology.hosts.values() if h.cluster_id == cluster_id and h.schedulable]

    def ratio(used: int, capacity: int) -> float:
        return used / capacity if capacity else (0.0 if not used else math.inf)

    return (ratio(sum(h.cpu_used_mhz for h in up),
                  sum(math.floor(h.cpu_total_mhz * h.cpu_overcommit) for h in up)),
            ratio(sum(h.memory_used_mib for h in up),
                  sum(math.floor(h.memory_total_mib * h.memory_overcommit) for h in up)))


def valid_placements(request: PlacementRequest, topology: Topology, avoid: AvoidSet,
                     threshold: float) -> Iterator[tuple[HostSnapshot, PoolSnapshot | None]]:
    """Every (host, pool) the rules allow, in first-fit order: host order, then pool order."""
    for host in sorted(topology.hosts.values(),
                       key=lambda h: (h.zone_id, h.pod_id, h.cluster_id, h.id)):
        zone, pod = topology.zones[host.zone_id], topology.pods[host.pod_id]
        cluster = topology.clusters[host.cluster_id]
        if request.zone_id is not None and zone.id != request.zone_id:
            continue
        if not (zone.enabled and pod.enabled and cluster.enabled):
            continue
        if zone.id in avoid.zones or pod.id in avoid.pods or cluster.id in avoid.clusters:
            continue
        if cluster.hypervisor != request.hypervisor:
            continue
        if any(ratio > threshold for ratio in cluster_ratios(topology, cluster.id)):
            continue
        if not host.schedulable or host.id in avoid.hosts:
            continue
        if host.id in request.anti_affinity_host_ids:
            continue
        if request.affinity_host_ids and host.id not in request.affinity_host_ids:
            continue
        if not request.host_tags <= host.tags:
            continue
        if host.cpu_used_mhz + request.cpu_mhz > host.cpu_total_mhz * host.cpu_overcommit:
            continue
        memory_allowed = host.memory_total_mib * host.memory_overcommit
        if host.memory_used_mib + request.memory_mib > memory_allowed:
            continue
        if request.disk_gib == 0 and request.pool_id is None:
            yield host, None
            continue
        own = sorted((p for p in topology.pools.values() if p.cluster_id == cluster.id),
                     key=lambda p: p.id)
        zone_wide = sorted((p for p in topology.pools.values()
                            if p.cluster_id is None and p.zone_id == zone.id), key=lambda p: p.id)
        for pool in own + zone_wide:
            if request.pool_id is not None and pool.id != request.pool_id:
                continue
            if not pool.usable or pool.id in avoid.pools or not request.storage_tags <= pool.tags:
                continue
            allowed = pool.capacity_gib * pool.overprovisioning * min(threshold, 1.0)
            if request.disk_gib and pool.used_gib + request.disk_gib > allowed:
                continue
            yield host, pool


def brute_first_fit(request, topology, avoid, threshold):
    return next(valid_placements(request, topology, avoid, threshold), None)


def brute_dispersing(request, topology, avoid, threshold):
    """Per zone in order: lowest memory ratio cluster with a valid pair, then the host with the
    most free memory (lowest id on ties), then the pool with the lowest allocated ratio."""
    pairs = list(valid_placements(request, topology, avoid, threshold))
    if not pairs:
        return None
    zone_id = min(host.zone_id for host, _ in pairs)
    in_zone = [(host, pool) for host, pool in pairs if host.zone_id == zone_id]
    cluster_id = min({host.cluster_id for host, _ in in_zone},
                     key=lambda c: (cluster_ratios(topology, c)[1], c))
    in_cluster = [(host, pool) for host, pool in in_zone if host.cluster_id == cluster_id]

    def free_memory(host: HostSnapshot) -> int:
        return math.floor(host.memory_total_mib * host.memory_overcommit) - host.memory_used_mib

    host = min((host for host, _ in in_cluster), key=lambda h: (-free_memory(h), h.id))
    pools = [pool for h, pool in in_cluster if h.id == host.id]
    if pools == [None]:
        return host, None

    def allocated(pool: PoolSnapshot) -> float:
        capacity = pool.capacity_gib * pool.overprovisioning
        return pool.used_gib / capacity if capacity else (0.0 if not pool.used_gib else math.inf)

    return host, min(pools, key=lambda p: (allocated(p), p.id))
