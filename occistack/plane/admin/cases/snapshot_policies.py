"""Snapshot policies, the administrator's: add one to a volume or a compute's root disk, list,
show, change its schedule or retention, remove it. The workers run them
(plane/jobs/snapshot_policies.py); the schedule's rules are plane/snapshot_schedule.py.

Removing a policy keeps the snapshots it made (they are ordinary snapshots from then on); the
policy of a volume or compute goes with it when it is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from occistack.model import SnapshotPolicy, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.snapshot_policies import PolicyInterval
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import record_change
from occistack.plane.context import PlaneContext
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.snapshot_schedule import check_schedule, next_run


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """A policy of the volume ``volume_id``, or of the root disk of compute ``compute_id``."""

    interval: str
    retention: int
    volume_id: str | None = None
    compute_id: str | None = None
    minute: int = 0
    hour: int = 0
    #: weekly: 0 (Monday) .. 6; monthly: 1 .. 28; None: the first (Monday, the 1st).
    day: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """What to change; None leaves it as it is. A new interval with no day takes its first day."""

    interval: str | None = None
    retention: int | None = None
    minute: int | None = None
    hour: int | None = None
    day: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    id: int
    project_id: int
    #: volume or root_disk.
    source: str
    volume_id: str | None
    compute_id: str | None
    interval: str
    minute: int
    hour: int
    day: int
    retention: int
    next_run_at: datetime
    last_run_at: datetime | None
    last_message: str | None
    #: the snapshots it made that are still kept.
    snapshots: int


def policy_record(ctx: PlaneContext, policy: SnapshotPolicy) -> PolicyRecord:
    made = ctx.session.scalars(select(VolumeSnapshot.id).where(VolumeSnapshot.policy_id == policy.id)).all()
    return PolicyRecord(
        id=policy.id, project_id=policy.project_id, source=policy.source, volume_id=policy.volume_id,
        compute_id=policy.vm_id, interval=policy.interval, minute=policy.minute, hour=policy.hour, day=policy.day,
        retention=policy.retention, next_run_at=policy.next_run_at, last_run_at=policy.last_run_at,
        last_message=policy.last_message, snapshots=len(made))


def create_policy(ctx: PlaneContext, request: PolicyRequest) -> PolicyRecord:
    session = ctx.session
    if (request.volume_id is None) == (request.compute_id is None):
        raise InvalidRequest("name either the storage (volume) or the compute (its root disk) the policy takes "
                             "snapshots of, not both nor neither")
    if request.volume_id is not None:
        entity, source, what = session.get(Volume, request.volume_id), "volume", "storage"
    else:
        entity, source, what = session.get(VirtualMachine, request.compute_id), "root_disk", "compute"
    if entity is None:
        raise NotFound(f"no {what} {request.volume_id or request.compute_id}")
    refuse_if_deleting(entity, what)
    day = _first_day(request.interval) if request.day is None else request.day
    check_schedule(request.interval, request.minute, request.hour, day, request.retention)
    policy = SnapshotPolicy(
        project_id=entity.project_id, source=source, volume_id=entity.id if source == "volume" else None,
        vm_id=entity.id if source == "root_disk" else None, interval=request.interval, minute=request.minute,
        hour=request.hour, day=day, retention=request.retention,
        next_run_at=next_run(request.interval, request.minute, request.hour, day, ctx.now()))
    session.add(policy)
    session.flush()
    record_change(session, actor_of(ctx), "snapshot_policy.create", "snapshot_policy", policy.id,
                  f"{_describe(policy)} of {what} {entity.id}", project_id=policy.project_id)
    return policy_record(ctx, policy)


def list_policies(ctx: PlaneContext, *, volume_id: str | None = None, compute_id: str | None = None,
                  project_id: int | None = None) -> list[PolicyRecord]:
    statement = select(SnapshotPolicy).order_by(SnapshotPolicy.id)
    if volume_id is not None:
        statement = statement.where(SnapshotPolicy.volume_id == volume_id)
    if compute_id is not None:
        statement = statement.where(SnapshotPolicy.vm_id == compute_id)
    if project_id is not None:
        statement = statement.where(SnapshotPolicy.project_id == project_id)
    return [policy_record(ctx, policy) for policy in ctx.session.scalars(statement)]


def show_policy(ctx: PlaneContext, policy_id: int) -> PolicyRecord:
    return policy_record(ctx, _policy(ctx, policy_id))


def update_policy(ctx: PlaneContext, policy_id: int, change: PolicyChange) -> PolicyRecord:
    """A changed schedule runs next at its first moment after now; retention counts at the next run."""
    policy = _policy(ctx, policy_id)
    interval = policy.interval if change.interval is None else change.interval
    moved = change.interval is not None and change.interval != policy.interval
    day = change.day if change.day is not None else (_first_day(interval) if moved else policy.day)
    minute = policy.minute if change.minute is None else change.minute
    hour = policy.hour if change.hour is None else change.hour
    retention = policy.retention if change.retention is None else change.retention
    if moved and interval == PolicyInterval.HOURLY and change.hour is None:
        hour = 0  # an hourly policy has no hour; the one of the old schedule goes
    check_schedule(interval, minute, hour, day, retention)
    schedule = (interval, minute, hour, day)
    if schedule != (policy.interval, policy.minute, policy.hour, policy.day):
        policy.next_run_at = next_run(interval, minute, hour, day, ctx.now())
    policy.interval, policy.minute, policy.hour, policy.day, policy.retention = (*schedule, retention)
    ctx.session.flush()
    record_change(ctx.session, actor_of(ctx), "snapshot_policy.update", "snapshot_policy", policy.id,
                  _describe(policy), project_id=policy.project_id)
    return policy_record(ctx, policy)


def delete_policy(ctx: PlaneContext, policy_id: int) -> None:
    """The policy goes; the snapshots it made stay, as ordinary snapshots."""
    session = ctx.session
    policy = _policy(ctx, policy_id)
    session.execute(update(VolumeSnapshot).where(VolumeSnapshot.policy_id == policy.id).values(policy_id=None)
                    .execution_options(synchronize_session=False))
    session.delete(policy)
    session.flush()
    record_change(session, actor_of(ctx), "snapshot_policy.delete", "snapshot_policy", policy_id,
                  _describe(policy), project_id=policy.project_id)


def _policy(ctx: PlaneContext, policy_id: int) -> SnapshotPolicy:
    policy = ctx.session.get(SnapshotPolicy, policy_id)
    if policy is None:
        raise NotFound(f"no snapshot policy {policy_id}")
    return policy


def _first_day(interval: str) -> int:
    return 1 if interval == PolicyInterval.MONTHLY else 0


def _describe(policy: SnapshotPolicy) -> str:
    return (f"snapshot policy {policy.interval} at minute {policy.minute}, hour {policy.hour}, day {policy.day} "
            f"(UTC), keeping {policy.retention}")
