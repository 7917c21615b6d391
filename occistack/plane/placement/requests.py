"""What a placement is asked: :class:`PlacementRequest` (what a VM needs), :class:`AvoidSet`
(what a retry skips) and the strategies.

Apart from the planner, so that the planner and its explanations (explanations.py) both take
them from here and neither imports the other back.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_FIT = "first_fit"
DISPERSING = "dispersing"
STRATEGIES = (FIRST_FIT, DISPERSING)
DEFAULT_CAPACITY_THRESHOLD = 0.85


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    """What a VM needs. ``cpu_mhz`` is cores × MHz per core; ``disk_gib`` 0 means there is no
    root disk to place; ``pool_id`` forces the pool (the root disk already lives there)."""

    cpu_mhz: int
    memory_mib: int
    disk_gib: float = 0.0
    zone_id: int | None = None
    host_tags: frozenset[str] = frozenset()
    storage_tags: frozenset[str] = frozenset()
    hypervisor: str = "KVM"
    affinity_host_ids: frozenset[int] = frozenset()
    anti_affinity_host_ids: frozenset[int] = frozenset()
    strategy: str = FIRST_FIT
    pool_id: int | None = None
    #: the VM takes the whole host (a bare-metal node), not a share of it.
    whole_host: bool = False

    def __post_init__(self) -> None:
        if self.cpu_mhz <= 0 or self.memory_mib <= 0:
            raise ValueError("a placement needs some CPU and some memory")
        if self.disk_gib < 0:
            raise ValueError("disk_gib cannot be negative")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown placement strategy {self.strategy!r}; "
                             f"use one of {', '.join(STRATEGIES)}")
        for name in ("host_tags", "storage_tags", "affinity_host_ids", "anti_affinity_host_ids"):
            if not isinstance(getattr(self, name), frozenset):
                object.__setattr__(self, name, frozenset(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class AvoidSet:
    """What to skip: a retry after a failed deploy avoids the host, cluster or pool that failed."""

    zones: frozenset[int] = frozenset()
    pods: frozenset[int] = frozenset()
    clusters: frozenset[int] = frozenset()
    hosts: frozenset[int] = frozenset()
    pools: frozenset[int] = frozenset()


NOTHING_AVOIDED = AvoidSet()
