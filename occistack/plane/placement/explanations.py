"""Why nothing fits: the message of :class:`~.placement.NoCapacity`, counted.

The planner's fast path rejects clusters wholesale from their aggregates and never learns why
each host failed. Only when it has found nothing does this module walk the request's zones once
more, giving every zone, pod, cluster, host and pool the first rule it breaks (in the planner's
order), and count. The result reads as one sentence a user can act on -- ask for less, pick
another zone -- or hand to an operator -- "2 clusters are above the 85% capacity threshold".

The walk looks at every host of the zones concerned; it runs only on failure, where the cost
(a few milliseconds for 10,000 hosts) buys a clear answer.
"""

from __future__ import annotations

from occistack.plane.placement.requests import AvoidSet, PlacementRequest
from occistack.plane.placement.topology import ClusterLoad, HostSnapshot, PoolSnapshot, Topology

EXCLUDED = "excluded after a failed attempt"
# The order in which the kinds of cause are told: the larger structures first.
POD, CLUSTER, HOST, STORAGE, POOL = range(5)


def explain_no_capacity(request: PlacementRequest, topology: Topology, avoid: AvoidSet,
                        threshold: float) -> tuple[str, tuple[str, ...]]:
    """The full message and its counted causes, for a request :func:`plan` could not place."""
    tally = _Tally()
    zone_ids = topology.zone_ids if request.zone_id is None else (request.zone_id,)
    if not zone_ids:
        tally.name("the cloud has no zones")
    for zone_id in zone_ids:
        zone = topology.zones.get(zone_id)
        if zone is None:
            tally.name(f"there is no zone {zone_id}")
        elif not zone.enabled:
            tally.name(f"zone {zone.name!r} is disabled")
        elif zone_id in avoid.zones:
            tally.name(f"zone {zone.name!r} was {EXCLUDED}")
        else:
            told = tally.size()
            _walk_zone(_Walk(request, topology, avoid, threshold, tally), zone_id)
            if tally.size() == told:
                tally.name(f"none of the affinity group's hosts is in zone {zone.name!r}"
                           if request.affinity_host_ids else f"zone {zone.name!r} has no hosts")
    causes = tally.causes()
    never = _larger_than_any_host(request, topology, zone_ids)
    if never is not None:
        return never, (never.partition(": ")[2],)
    return f"{_headline(request, topology)}: {', '.join(causes)}", causes


def _larger_than_any_host(request: PlacementRequest, topology: Topology, zone_ids) -> str | None:
    """When no host of the hypervisor in the zones concerned could take the VM even empty, the
    answer is not "too full" (wait, or ask the site for room) but "too large" (ask for less):
    say so, with the host that comes closest."""
    if request.whole_host or request.affinity_host_ids:
        return None
    closest, closest_zone, closest_fit = None, None, -1.0
    for zone_id in zone_ids:
        for pod in topology.pods_in_zone(zone_id):
            for load in topology.clusters_in_pod(pod.id):
                if load.cluster.hypervisor != request.hypervisor:
                    continue
                for host in load.hosts:
                    if host.cpu_capacity_mhz >= request.cpu_mhz and host.memory_capacity_mib >= request.memory_mib:
                        return None
                    fit = min(host.cpu_capacity_mhz / request.cpu_mhz, host.memory_capacity_mib / request.memory_mib)
                    if fit > closest_fit:
                        closest, closest_zone, closest_fit = host, zone_id, fit
    if closest is None:
        return None  # no host at all: the tally says why
    zone = topology.zones.get(closest_zone)
    where = f"zone {zone.name!r}" if zone is not None else f"zone {closest_zone}"
    if request.zone_id is None and len(zone_ids) > 1:
        where = f"any zone; the closest is in {where}"
    cores = f"{closest.cpu_cores} cores, " if closest.cpu_cores else f"{closest.cpu_total_mhz} MHz of CPU, "
    size = f"{cores}{closest.memory_total_mib / 1024:g} GiB of memory"
    if (closest.cpu_capacity_mhz, closest.memory_capacity_mib) != (closest.cpu_total_mhz, closest.memory_total_mib):
        size += (f"; with overcommit it takes at most {closest.cpu_capacity_mhz} MHz of CPU and "
                 f"{closest.memory_capacity_mib} MiB of memory")
    return (f"{_headline(request, topology)}: the compute is larger than any {request.hypervisor} host in {where} "
            f"(largest: {size}); ask for fewer cores or less memory")


class _Walk:
    __slots__ = ("request", "topology", "avoid", "threshold", "tally", "pools_told", "percent")

    def __init__(self, request: PlacementRequest, topology: Topology, avoid: AvoidSet,
                 threshold: float, tally: _Tally):
        self.request, self.topology, self.avoid = request, topology, avoid
        self.threshold, self.tally = threshold, tally
        self.pools_told: set[int] = set()
        self.percent = f"{threshold * 100:g}%"


def _walk_zone(walk: _Walk, zone_id: int) -> None:
    tally, avoid, affinity = walk.tally, walk.avoid, walk.request.affinity_host_ids
    for pod in walk.topology.pods_in_zone(zone_id):
        if not pod.enabled:
            tally.add(POD, "pod is disabled", "pods are disabled")
        elif pod.id in avoid.pods:
            tally.add(POD, f"pod was {EXCLUDED}", f"pods were {EXCLUDED}")
        else:
            for load in walk.topology.clusters_in_pod(pod.id):
                hosts = [h for h in load.hosts if h.id in affinity] if affinity else load.hosts
                if hosts:
                    _walk_cluster(walk, load, hosts)


def _walk_cluster(walk: _Walk, load: ClusterLoad, hosts) -> None:
    tally, cluster, hypervisor = walk.tally, load.cluster, walk.request.hypervisor
    if not cluster.enabled:
        tally.add(CLUSTER, "cluster is disabled", "clusters are disabled")
    elif cluster.id in walk.avoid.clusters:
        tally.add(CLUSTER, f"cluster was {EXCLUDED}", f"clusters were {EXCLUDED}")
    elif cluster.hypervisor != hypervisor:
        tally.add(CLUSTER, f"cluster is not a {hypervisor} cluster",
                  f"clusters are not {hypervisor} clusters")
    elif not walk.request.whole_host and load.above_threshold(walk.threshold):
        tally.add(CLUSTER, f"cluster is above the {walk.percent} capacity threshold",
                  f"clusters are above the {walk.percent} capacity threshold")
    else:
        with_room = [host for host in hosts if _tell_host(walk, host)]
        if with_room:
            _tell_storage(walk, load)


def _tell_host(walk: _Walk, host: HostSnapshot) -> bool:
    """Count the first rule the host breaks; True if it breaks none."""
    request, tally = walk.request, walk.tally
    if not host.schedulable:
        reason = host.unschedulable_reason
        tally.add(HOST, f"host is {reason}", f"hosts are {reason}")
    elif host.id in walk.avoid.hosts:
        tally.add(HOST, f"host was {EXCLUDED}", f"hosts were {EXCLUDED}")
    elif host.id in request.anti_affinity_host_ids:
        tally.add(HOST, "host already runs a member of the VM's anti-affinity group",
                  "hosts already run a member of the VM's anti-affinity group")
    elif not request.host_tags <= host.tags:
        tags = _quoted(request.host_tags)
        if len(request.host_tags) == 1:
            tally.add(HOST, f"host lacks the host tag {tags}", f"hosts lack the host tag {tags}")
        else:
            tally.add(HOST, f"host lacks some of the host tags {tags}",
                      f"hosts lack some of the host tags {tags}")
    elif request.whole_host:
        return _tell_node(tally, host, request)
    elif host.cpu_capacity_mhz < request.cpu_mhz or host.memory_capacity_mib < request.memory_mib:
        # Not full: too small even when empty. Told apart, because the user's remedy differs.
        tally.add(HOST, "host is too small for it even when empty", "hosts are too small for it even when empty")
    elif host.cpu_free_mhz < request.cpu_mhz:
        tally.short_of_cpu += 1
    elif host.memory_free_mib < request.memory_mib:
        tally.short_of_memory += 1
    else:
        return True
    return False


def _tell_node(tally: _Tally, host: HostSnapshot, request: PlacementRequest) -> bool:
    """The rules only a whole-host request has: the node must be free and big enough."""
    if host.cpu_used_mhz or host.memory_used_mib:
        tally.add(HOST, "host is taken", "hosts are taken")
    elif host.cpu_total_mhz < request.cpu_mhz or host.memory_total_mib < request.memory_mib:
        tally.add(HOST, "host is too small", "hosts are too small")
    else:
        return True
    return False


def _tell_storage(walk: _Walk, load: ClusterLoad) -> None:
    """A cluster has a host with room, so its storage is what failed: say how."""
    request, tally = walk.request, walk.tally
    pools = walk.topology.reachable_pools(load.cluster.id, request.pool_id)
    if not pools and request.pool_id is not None:
        pool = walk.topology.pools.get(request.pool_id)
        if pool is None:
            tally.name(f"there is no pool {request.pool_id}")
            return
        tally.add(STORAGE, f"cluster with room cannot reach pool {pool.name!r}, "
                           "where the disk lives",
                  f"clusters with room cannot reach pool {pool.name!r}, where the disk lives")
    elif not pools:
        tally.add(STORAGE, "cluster with room has no primary storage pool",
                  "clusters with room have no primary storage pool")
    else:
        tally.add(STORAGE, "cluster with room has no suitable primary storage pool",
                  "clusters with room have no suitable primary storage pool")
        for pool in pools:
            if pool.id not in walk.pools_told:
                walk.pools_told.add(pool.id)
                _tell_pool(walk, pool)


def _tell_pool(walk: _Walk, pool: PoolSnapshot) -> None:
    request, tally = walk.request, walk.tally
    if not pool.usable:
        reason = pool.unusable_reason
        tally.add(POOL, f"pool is {reason}", f"pools are {reason}")
    elif pool.id in walk.avoid.pools:
        tally.add(POOL, f"pool was {EXCLUDED}", f"pools were {EXCLUDED}")
    elif not request.storage_tags <= pool.tags:
        tags = _quoted(request.storage_tags)
        tally.add(POOL, f"pool lacks the storage tags {tags}",
                  f"pools lack the storage tags {tags}")
    elif request.disk_gib and not pool.has_room_for(request.disk_gib, walk.threshold):
        room = f"room for {request.disk_gib:g} GiB within the {walk.percent} capacity threshold"
        tally.add(POOL, f"pool has no {room}", f"pools have no {room}")


class _Tally:
    """Counted causes by kind, told larger structures first and, within a kind, most first."""

    def __init__(self) -> None:
        self.named: list[str] = []
        self.counts: dict[tuple[int, str, str], int] = {}
        self.short_of_cpu = self.short_of_memory = 0

    def name(self, cause: str) -> None:
        self.named.append(cause)

    def add(self, kind: int, singular: str, plural: str) -> None:
        key = (kind, singular, plural)
        self.counts[key] = self.counts.get(key, 0) + 1

    def size(self) -> int:
        full = self.short_of_cpu + self.short_of_memory
        return len(self.named) + sum(self.counts.values()) + full

    def causes(self) -> tuple[str, ...]:
        counted = dict(self.counts)
        full = self.short_of_cpu + self.short_of_memory
        if full:
            parts = [f"{count} short of {what}" for count, what in
                     ((self.short_of_cpu, "CPU"), (self.short_of_memory, "memory")) if count]
            counted[(HOST, f"host is too full ({parts[0]})",
                     f"hosts are too full ({', '.join(parts)})")] = full
        order = sorted(enumerate(counted.items()), key=lambda item: (item[1][0][0], -item[1][1],
                                                                     item[0]))
        told = [f"{count} {singular if count == 1 else plural}"
                for _, ((_, singular, plural), count) in order]
        return tuple(self.named + told)


def _headline(request: PlacementRequest, topology: Topology) -> str:
    if request.zone_id is None:
        where = "in any zone"
    else:
        zone = topology.zones.get(request.zone_id)
        where = f"in zone {zone.name!r}" if zone else f"in zone {request.zone_id}"
    need = f"{request.cpu_mhz} MHz of CPU and {request.memory_mib} MiB of memory"
    if request.disk_gib:
        need = (f"{request.cpu_mhz} MHz of CPU, {request.memory_mib} MiB of memory and "
                f"{request.disk_gib:g} GiB of disk")
    group = len(request.affinity_host_ids)
    if group:
        hosts = "the host" if group == 1 else f"none of the {group} hosts"
        verb = "cannot" if group == 1 else "can"
        return f"{hosts} of the VM's affinity group {where} {verb} take {need}"
    tagged = f" tagged {_quoted(request.host_tags)}" if request.host_tags else ""
    if request.whole_host:
        return (f"no free {request.hypervisor} host{tagged} {where} has {request.cpu_mhz} MHz of CPU and "
                f"{request.memory_mib} MiB of memory")
    return f"no {request.hypervisor} host{tagged} {where} can take {need}"


def _quoted(tags: frozenset[str]) -> str:
    return ", ".join(repr(tag) for tag in sorted(tags))
