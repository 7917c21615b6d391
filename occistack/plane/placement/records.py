"""The records of a topology snapshot: zones, pods, clusters, hosts, pools, and cluster loads.

Frozen values, so that a record handed to the planner (or kept by a caller) never changes under
it; :class:`~.topology.Topology` replaces a record whole when the host or pool it describes
changes. A host record derives its capacity once -- total × overcommit, rounded down to whole
MHz and MiB -- so that ``used + request <= total * overcommit`` is decided on integers, exactly,
and sums over a cluster never drift. Storage stays in GiB as floats, as the inventory keeps it.

A :class:`ClusterLoad` is a cluster with its hosts and the aggregates the planner rejects whole
clusters by; it is rebuilt (incrementally for a usage change) whenever one of its hosts changes.

Stdlib only, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: ``ClusterLoad.largest_free_*`` of a cluster without a schedulable host: below any request.
NO_ROOM = -1


@dataclass(frozen=True, slots=True)
class ZoneSnapshot:
    id: int
    name: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class PodSnapshot:
    id: int
    zone_id: int
    name: str
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    id: int
    pod_id: int
    zone_id: int
    name: str
    hypervisor: str = "KVM"
    enabled: bool = True


def _frozen_tags(record: object) -> None:
    tags = record.tags  # type: ignore[attr-defined]
    if not isinstance(tags, frozenset):
        object.__setattr__(record, "tags", frozenset(tags))


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """One host as placement sees it. ``schedulable`` is the snapshot builder's verdict (status
    Up, resource state Enabled, cluster, pod and zone enabled); when it is false,
    ``unschedulable_reason`` ("in maintenance", "disconnected") is what users are told."""

    id: int
    name: str
    zone_id: int
    pod_id: int
    cluster_id: int
    cpu_total_mhz: int
    memory_total_mib: int
    cpu_used_mhz: int = 0
    memory_used_mib: int = 0
    cpu_overcommit: float = 1.0
    memory_overcommit: float = 1.0
    tags: frozenset[str] = frozenset()
    schedulable: bool = True
    unschedulable_reason: str = ""
    #: the physical cores, for messages only (placement counts MHz); 0 when unknown.
    cpu_cores: int = 0
    # Derived once here, read by the planner in its inner loop.
    cpu_capacity_mhz: int = field(init=False, compare=False, repr=False)
    memory_capacity_mib: int = field(init=False, compare=False, repr=False)
    cpu_free_mhz: int = field(init=False, compare=False, repr=False)
    memory_free_mib: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.cpu_overcommit < 1 or self.memory_overcommit < 1:
            raise ValueError(f"host {self.name!r}: overcommit factors must be at least 1")
        if min(self.cpu_total_mhz, self.memory_total_mib, self.cpu_used_mhz,
               self.memory_used_mib) < 0:
            raise ValueError(f"host {self.name!r}: capacities and usage cannot be negative")
        _frozen_tags(self)
        if not self.schedulable and not self.unschedulable_reason:
            object.__setattr__(self, "unschedulable_reason", "not schedulable")
        cpu_capacity = math.floor(self.cpu_total_mhz * self.cpu_overcommit)
        memory_capacity = math.floor(self.memory_total_mib * self.memory_overcommit)
        object.__setattr__(self, "cpu_capacity_mhz", cpu_capacity)
        object.__setattr__(self, "memory_capacity_mib", memory_capacity)
        object.__setattr__(self, "cpu_free_mhz", cpu_capacity - self.cpu_used_mhz)
        object.__setattr__(self, "memory_free_mib", memory_capacity - self.memory_used_mib)

    def with_usage(self, cpu_used_mhz: int, memory_used_mib: int) -> HostSnapshot:
        """This host with other usage (``dataclasses.replace`` is twice as slow, and every
        reserve and release makes one)."""
        return HostSnapshot(self.id, self.name, self.zone_id, self.pod_id, self.cluster_id,
                            self.cpu_total_mhz, self.memory_total_mib, cpu_used_mhz,
                            memory_used_mib, self.cpu_overcommit, self.memory_overcommit,
                            self.tags, self.schedulable, self.unschedulable_reason, self.cpu_cores)

    def has_room_for(self, cpu_mhz: int, memory_mib: int) -> bool:
        """``used + request <= total * overcommit`` for both CPU and memory."""
        return self.cpu_free_mhz >= cpu_mhz and self.memory_free_mib >= memory_mib


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """A primary storage pool: cluster-scoped (``cluster_id`` set) or zone-wide (None)."""

    id: int
    name: str
    zone_id: int
    cluster_id: int | None
    capacity_gib: float
    used_gib: float = 0.0
    overprovisioning: float = 1.0
    tags: frozenset[str] = frozenset()
    usable: bool = True
    unusable_reason: str = ""
    allocatable_gib: float = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.overprovisioning < 1:
            raise ValueError(f"pool {self.name!r}: overprovisioning must be at least 1")
        if self.capacity_gib < 0 or self.used_gib < 0:
            raise ValueError(f"pool {self.name!r}: capacity and usage cannot be negative")
        _frozen_tags(self)
        if not self.usable and not self.unusable_reason:
            object.__setattr__(self, "unusable_reason", "not usable")
        object.__setattr__(self, "allocatable_gib", self.capacity_gib * self.overprovisioning)

    def with_usage(self, used_gib: float) -> PoolSnapshot:
        """This pool with other usage, made faster than ``dataclasses.replace`` would."""
        return PoolSnapshot(self.id, self.name, self.zone_id, self.cluster_id, self.capacity_gib,
                            used_gib, self.overprovisioning, self.tags, self.usable,
                            self.unusable_reason)

    @property
    def allocated_ratio(self) -> float:
        return _ratio(self.used_gib, self.allocatable_gib)

    def has_room_for(self, gib: float, threshold: float) -> bool:
        """After allocating ``gib``: within capacity × overprovisioning and not above the
        capacity threshold (a fraction of it)."""
        return self.used_gib + gib <= self.allocatable_gib * min(threshold, 1.0)


def _ratio(used: float, capacity: float) -> float:
    if capacity:
        return used / capacity
    return 0.0 if not used else math.inf


@dataclass(frozen=True, slots=True)
class ClusterLoad:
    """A cluster, its hosts in id order, and aggregates over its *schedulable* hosts.

    ``*_ratio`` is allocated / allocatable (used over total × overcommit), what CloudStack's
    cluster capacity threshold compares. ``largest_free_*`` and ``host_tags`` let the planner
    skip a cluster where no single host could take the request."""

    cluster: ClusterSnapshot
    hosts: tuple[HostSnapshot, ...]
    cpu_used_mhz: int
    cpu_capacity_mhz: int
    memory_used_mib: int
    memory_capacity_mib: int
    cpu_ratio: float
    memory_ratio: float
    largest_free_cpu_mhz: int
    largest_free_memory_mib: int
    host_tags: frozenset[str]

    @classmethod
    def count(cls, cluster: ClusterSnapshot, hosts: tuple[HostSnapshot, ...]) -> ClusterLoad:
        up = [host for host in hosts if host.schedulable]
        cpu_used = sum(host.cpu_used_mhz for host in up)
        cpu_capacity = sum(host.cpu_capacity_mhz for host in up)
        memory_used = sum(host.memory_used_mib for host in up)
        memory_capacity = sum(host.memory_capacity_mib for host in up)
        return cls(cluster, hosts, cpu_used, cpu_capacity, memory_used, memory_capacity,
                   _ratio(cpu_used, cpu_capacity), _ratio(memory_used, memory_capacity),
                   max((host.cpu_free_mhz for host in up), default=NO_ROOM),
                   max((host.memory_free_mib for host in up), default=NO_ROOM),
                   frozenset().union(*(host.tags for host in up)))

    def with_host_replaced(self, place: int, host: HostSnapshot) -> ClusterLoad:
        """This load with ``hosts[place]`` swapped for a new record of it. When only its usage
        changed (every reserve and release) the sums move by the difference and the largest
        free values are recounted only if the host held one of them and shrank."""
        old = self.hosts[place]
        hosts = (*self.hosts[:place], host, *self.hosts[place + 1:])
        if not (old.schedulable and host.schedulable and old.tags == host.tags
                and old.cpu_capacity_mhz == host.cpu_capacity_mhz
                and old.memory_capacity_mib == host.memory_capacity_mib):
            return ClusterLoad.count(self.cluster, hosts)
        cpu_used = self.cpu_used_mhz + host.cpu_used_mhz - old.cpu_used_mhz
        memory_used = self.memory_used_mib + host.memory_used_mib - old.memory_used_mib
        largest_cpu, largest_memory = self.largest_free_cpu_mhz, self.largest_free_memory_mib
        if host.cpu_free_mhz >= largest_cpu:
            largest_cpu = host.cpu_free_mhz
        elif old.cpu_free_mhz == largest_cpu:
            largest_cpu = max(h.cpu_free_mhz for h in hosts if h.schedulable)
        if host.memory_free_mib >= largest_memory:
            largest_memory = host.memory_free_mib
        elif old.memory_free_mib == largest_memory:
            largest_memory = max(h.memory_free_mib for h in hosts if h.schedulable)
        return ClusterLoad(self.cluster, hosts, cpu_used, self.cpu_capacity_mhz, memory_used,
                           self.memory_capacity_mib, _ratio(cpu_used, self.cpu_capacity_mhz),
                           _ratio(memory_used, self.memory_capacity_mib), largest_cpu,
                           largest_memory, self.host_tags)

    def above_threshold(self, threshold: float) -> bool:
        return self.cpu_ratio > threshold or self.memory_ratio > threshold
