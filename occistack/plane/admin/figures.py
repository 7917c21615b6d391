"""The cloud in figures, for monitoring: how many hosts in each state, how much capacity used
and in total, how many jobs of each operation in each state and how long they took, how long
host agents take to answer their commands.

Every figure comes from a fixed set of aggregate queries (COUNT, SUM, MAX, grouped by a few
columns), so a scrape costs the same few round trips whether the cloud has ten hosts or ten
thousand; Python only walks the grouped rows. Capacity is counted as the capacity report
(plane/admin/capacity.py) counts it: enabled hosts with their overcommit, primary storage that
is up with its overprovisioning, enabled secondary storage, addresses and VLANs of the ranges.

Durations are histograms kept by the database itself: a job's duration is from its submission
to its end (``finished_at - created_at``), an agent's round trip from a command's delivery to
its answer (which includes the time the host took to carry it out; done commands only). Both are counted over the
whole history the tables hold, so the bucket counts only grow, as Prometheus expects of a
histogram; ``rate()`` over them gives the recent distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import ARRAY, Float, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from occistack.model import (
    AgentCommand,
    GuestVlan,
    Host,
    IpAllocation,
    IpRange,
    Job,
    PhysicalNetwork,
    SecondaryStorage,
    StoragePool,
    VlanRange,
    Zone,
)
from occistack.model.states import CommandState, JobState, ResourceState, StoragePoolState
from occistack.plane.admin.capacity import RESOURCES

#: Upper bounds (seconds) of the buckets of job durations: from a quick state change to a
#: template copy that takes an hour.
JOB_DURATION_BOUNDS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
#: Upper bounds (seconds) of the buckets of agents' round trips.
ROUND_TRIP_BOUNDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
#: The job states that are ends: only those have a duration.
FINISHED_JOB_STATES = (JobState.DONE.value, JobState.FAILED.value, JobState.CANCELLED.value)


@dataclass(frozen=True, slots=True)
class Durations:
    """A histogram: for each upper bound, how many took at most that long (cumulative)."""

    bounds: tuple[float, ...]
    at_most: tuple[int, ...]
    count: int
    total_seconds: float


@dataclass(frozen=True, slots=True)
class HostGroup:
    zone: str
    status: str
    resource_state: str
    hosts: int
    #: the oldest last heartbeat among them (None: none of them ever sent one).
    oldest_heartbeat: datetime | None


@dataclass(frozen=True, slots=True)
class CapacityFigure:
    zone: str
    #: one of capacity.RESOURCES (the name carries the unit: memory_mib, cpu_mhz, ...).
    resource: str
    used: float
    total: float


@dataclass(frozen=True, slots=True)
class JobGroup:
    operation: str
    state: str
    jobs: int
    #: for finished jobs, how long they took; None for jobs not over.
    durations: Durations | None


@dataclass(frozen=True, slots=True)
class RoundTrips:
    command: str
    durations: Durations


@dataclass(frozen=True, slots=True)
class CloudFigures:
    measured_at: datetime
    hosts: tuple[HostGroup, ...]
    capacity: tuple[CapacityFigure, ...]
    jobs: tuple[JobGroup, ...]
    round_trips: tuple[RoundTrips, ...]


def cloud_figures(session: Session, now: datetime) -> CloudFigures:
    """Every figure, from the statements of :func:`figure_statements` (one round trip each)."""
    statements = figure_statements(session.get_bind().dialect.name)
    run = session.execute
    zones = dict(run(statements["zones"]).all())
    capacity: dict[tuple[int, str], list[float]] = {(zone_id, resource): [0, 0] for zone_id in zones
                                                    for resource in RESOURCES}

    def add(zone_id: int, resource: str, used, total) -> None:
        if zone_id in zones:
            figure = capacity[zone_id, resource]
            figure[0] += float(used or 0)
            figure[1] += float(total or 0)

    hosts = []
    for zone_id, status, resource_state, number, oldest, memory_total, memory_used, cpu_total, cpu_used in run(
            statements["hosts"]):
        hosts.append(HostGroup(zones.get(zone_id, str(zone_id)), str(status), str(resource_state), number, oldest))
        if resource_state == ResourceState.ENABLED.value:
            add(zone_id, "memory_mib", memory_used, memory_total)
            add(zone_id, "cpu_mhz", cpu_used, cpu_total)
    for zone_id, used, total in run(statements["primary_storage"]):
        add(zone_id, "primary_storage_gib", used, total)
    for zone_id, used, total in run(statements["secondary_storage"]):
        add(zone_id, "secondary_storage_gib", used, total)
    for zone_id, purpose, total in run(statements["address_ranges"]):
        add(zone_id, f"{purpose}_ips", 0, total)
    for zone_id, purpose, used in run(statements["addresses_used"]):
        add(zone_id, f"{purpose}_ips", used, 0)
    for zone_id, total in run(statements["vlan_ranges"]):
        add(zone_id, "vlans", 0, total)
    for zone_id, used in run(statements["vlans_used"]):
        add(zone_id, "vlans", used, 0)

    job_counts: dict[tuple[str, str], list] = {}
    for operation, state, bucket, number, total_seconds in run(statements["jobs"]):
        group = job_counts.setdefault((operation, str(state)), [0, _Tally(JOB_DURATION_BOUNDS)])
        group[0] += number
        if state in FINISHED_JOB_STATES:
            group[1].add(bucket, number, total_seconds)
    jobs = [JobGroup(operation, state, number, tally.durations() if state in FINISHED_JOB_STATES else None)
            for (operation, state), (number, tally) in job_counts.items()]
    trips: dict[str, _Tally] = {}
    for name, bucket, number, total_seconds in run(statements["round_trips"]):
        trips.setdefault(name, _Tally(ROUND_TRIP_BOUNDS)).add(bucket, number, total_seconds)
    round_trips = [RoundTrips(name, tally.durations()) for name, tally in trips.items()]
    return CloudFigures(
        now, tuple(hosts),
        tuple(CapacityFigure(zones[zone_id], resource, round(used, 2), _total(resource, total))
              for (zone_id, resource), (used, total) in capacity.items()),
        tuple(jobs), tuple(round_trips))


def _total(resource: str, value: float) -> float:
    # As the capacity report: an overcommitted MiB or MHz total is floored (a fraction of one
    # cannot be placed), GiB kept to two decimals.
    return float(math.floor(value)) if resource in ("memory_mib", "cpu_mhz") else round(value, 2)


@cache
def figure_statements(dialect: str) -> dict[str, object]:
    """The aggregate statements behind the figures, by name; built once per database dialect
    (durations are computed differently on SQLite). bench/metrics.py replays what they send."""
    pool_up = StoragePool.state == StoragePoolState.UP.value
    store_enabled = SecondaryStorage.enabled.is_(True)
    job_seconds = _seconds_between(Job.finished_at, Job.created_at, dialect)
    finished = Job.state.in_(FINISHED_JOB_STATES)
    trip_seconds = _seconds_between(AgentCommand.answered_at, AgentCommand.delivered_at, dialect)
    # Done commands only: a failed one may have been given up on (its "answer" is the timeout)
    # or taken back by a delete, and neither is a round trip.
    answered = and_(AgentCommand.state == CommandState.DONE.value, AgentCommand.delivered_at.is_not(None),
                    AgentCommand.answered_at.is_not(None))
    return {
        "zones": select(Zone.id, Zone.name),
        "hosts": select(
            Host.zone_id, Host.status, Host.resource_state, func.count(), func.min(Host.last_heartbeat),
            func.sum(Host.memory_mib * Host.memory_overcommit), func.sum(Host.memory_used_mib),
            func.sum(Host.cpu_cores * Host.cpu_mhz * Host.cpu_overcommit), func.sum(Host.cpu_used_mhz),
        ).group_by(Host.zone_id, Host.status, Host.resource_state),
        "primary_storage": select(
            StoragePool.zone_id, func.sum(case((pool_up, StoragePool.used_gib), else_=0)),
            func.sum(case((pool_up, StoragePool.capacity_gib * StoragePool.overprovisioning), else_=0)),
        ).group_by(StoragePool.zone_id),
        "secondary_storage": select(
            SecondaryStorage.zone_id, func.sum(case((store_enabled, SecondaryStorage.used_gib), else_=0)),
            func.sum(case((store_enabled, SecondaryStorage.capacity_gib), else_=0)),
        ).group_by(SecondaryStorage.zone_id),
        "address_ranges": select(IpRange.zone_id, IpRange.purpose,
                                 func.sum(IpRange.last_number - IpRange.first_number + 1))
        .group_by(IpRange.zone_id, IpRange.purpose),
        "addresses_used": select(IpRange.zone_id, IpRange.purpose, func.count(IpAllocation.id))
        .join(IpAllocation, IpAllocation.range_id == IpRange.id).group_by(IpRange.zone_id, IpRange.purpose),
        "vlan_ranges": select(PhysicalNetwork.zone_id, func.sum(VlanRange.last_vlan - VlanRange.first_vlan + 1))
        .join(VlanRange, VlanRange.physical_network_id == PhysicalNetwork.id).group_by(PhysicalNetwork.zone_id),
        "vlans_used": select(PhysicalNetwork.zone_id, func.count(GuestVlan.id))
        .join(GuestVlan, GuestVlan.physical_network_id == PhysicalNetwork.id).group_by(PhysicalNetwork.zone_id),
        # Grouped by bucket as well: each row's duration is computed once, and a few rows per
        # operation and state come back, which _Tally adds up.
        "jobs": select(
            Job.operation, Job.state, job_bucket := case((finished, _bucket(job_seconds, JOB_DURATION_BOUNDS, dialect)),
                                                         else_=None).label("bucket"),
            func.count(), func.sum(case((finished, job_seconds), else_=None)),
        ).group_by(Job.operation, Job.state, job_bucket),
        "round_trips": select(
            AgentCommand.name, trip_bucket := _bucket(trip_seconds, ROUND_TRIP_BOUNDS, dialect).label("bucket"),
            func.count(), func.sum(trip_seconds),
        ).where(answered).group_by(AgentCommand.name, trip_bucket),
    }


class _Tally:
    """A histogram added up from (bucket index, count, sum) groups: bucket ``i`` holds what took
    at most ``bounds[i]`` and more than the bound before; ``len(bounds)`` what took longer."""

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total_seconds = 0.0

    def add(self, bucket: int | None, number: int, total_seconds) -> None:
        self.counts[len(self.bounds) if bucket is None else int(bucket)] += number
        self.total_seconds += float(total_seconds or 0)

    def durations(self) -> Durations:
        at_most, running = [], 0
        for count in self.counts[:-1]:
            running += count
            at_most.append(running)
        return Durations(self.bounds, tuple(at_most), sum(self.counts), self.total_seconds)


def _bucket(seconds, bounds: tuple[float, ...], dialect: str):
    """The index of the first of ``bounds`` (ascending) that ``seconds`` does not exceed, or
    ``len(bounds)`` past the last: Prometheus' buckets count "less than or equal"."""
    if dialect == "postgresql":
        # width_bucket(x, thresholds) counts the thresholds <= x, a binary search on one value.
        # On negated values that counts the bounds >= seconds, which gives the index from the end.
        negated = func.cast(literal_column("ARRAY[" + ",".join(repr(-bound) for bound in reversed(bounds)) + "]"),
                            ARRAY(Float))
        return len(bounds) - func.width_bucket(-seconds, negated)
    return case(*((seconds <= bound, index) for index, bound in enumerate(bounds)), else_=len(bounds))


def _seconds_between(later, earlier, dialect: str):
    """``later - earlier`` in seconds, as the database computes it."""
    if dialect == "sqlite":
        # A Julian day as a double is exact to some ten microseconds only: rounded to the
        # millisecond, 5 s stays 5 s and lands in the 5 s bucket.
        return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3), Float)
    # date_part gives a double; EXTRACT a numeric since PostgreSQL 14, several times slower to
    # compute and compare for every row of the history.
    return func.date_part("epoch", later - earlier)
