"""The workers' sweep of snapshot policies: take the snapshot of each policy whose time has come
and delete its snapshots beyond its retention.

A run is taken with a conditional UPDATE that moves ``next_run_at`` on from the value this worker
read: of two workers that read the same due policy, the second's UPDATE waits for the first's
transaction and then matches no row, so it takes nothing. The next run is the first moment of
the schedule after now: a worker that was down for three days takes one snapshot, not three.
The snapshot itself is written by the same rules as an asked-for one (plane/snapshot_rows.py);
when what it is of cannot be snapshotted now (busy, being deleted, no secondary storage) the
run is skipped and ``last_message`` says why.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from occistack.model import SnapshotPolicy, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.snapshots import SnapshotState
from occistack.plane.caller import Caller
from occistack.plane.dispatch import Dispatcher
from occistack.plane.errors import PlaneError
from occistack.plane.snapshot_rows import can_be_deleted, start_snapshot_delete, take_snapshot
from occistack.plane.snapshot_schedule import next_run

log = logging.getLogger(__name__)

#: Policies run by one sweep at most; the rest are due still and go in the next sweep.
_BATCH = 100


def run_due_policies(session: Session, dispatcher: Dispatcher, now: datetime) -> int:
    """Take the due policies' runs; how many this sweep took (skipped runs count too)."""
    due = session.execute(select(SnapshotPolicy.id, SnapshotPolicy.next_run_at)
                          .where(SnapshotPolicy.next_run_at <= now)
                          .order_by(SnapshotPolicy.next_run_at, SnapshotPolicy.id).limit(_BATCH)).all()
    taken = 0
    for policy_id, read_next_run in due:
        policy = session.get(SnapshotPolicy, policy_id)
        if policy is None or not claim_run(session, policy, read_next_run, now):
            continue  # gone, or another worker took this run
        taken += 1
        _run(session, dispatcher, policy, now)
    return taken


def claim_run(session: Session, policy: SnapshotPolicy, read_next_run: datetime, now: datetime) -> bool:
    """Move the policy's next run on from ``read_next_run`` -- the value this worker saw due --
    to the schedule's first moment after ``now``; False when its next run is no longer that
    value, because another worker took the run (PostgreSQL makes this UPDATE wait for that
    worker's transaction and then see its change)."""
    following = next_run(policy.interval, policy.minute, policy.hour, policy.day, now)
    claimed = session.execute(
        update(SnapshotPolicy)
        .where(SnapshotPolicy.id == policy.id, SnapshotPolicy.next_run_at == read_next_run)
        .values(next_run_at=following, last_run_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(policy)
    return claimed == 1


def _run(session: Session, dispatcher: Dispatcher, policy: SnapshotPolicy, now: datetime) -> None:
    caller = policy_caller(policy)
    entity = session.get(Volume, policy.volume_id) if policy.volume_id else session.get(VirtualMachine,
                                                                                          policy.vm_id)
    try:
        with session.begin_nested():
            if entity is None:
                raise _Skipped("what the policy is of is gone")
            take_snapshot(session, dispatcher, caller, entity, None, now, policy_id=policy.id)
    except (PlaneError, _Skipped) as refusal:
        policy.last_message = f"{now:%Y-%m-%d %H:%M} UTC: no snapshot taken: {refusal}"
        log.info("snapshot policy %s: %s", policy.id, policy.last_message)
    else:
        policy.last_message = None
    # Also after a skipped run: a lowered retention must not wait for the volume to be free.
    apply_retention(session, dispatcher, policy)


def apply_retention(session: Session, dispatcher: Dispatcher, policy: SnapshotPolicy) -> list[int]:
    """Delete the policy's snapshots older than its newest ``retention`` (those being removed
    already do not count); the ids whose delete began. Never touches another's snapshots."""
    kept = session.scalars(
        select(VolumeSnapshot).where(VolumeSnapshot.policy_id == policy.id,
                                     VolumeSnapshot.state != str(SnapshotState.DESTROYING))
        .order_by(VolumeSnapshot.created_at.desc(), VolumeSnapshot.id.desc())).all()
    deleted = []
    for snapshot in kept[policy.retention:]:
        if can_be_deleted(snapshot):  # one still being taken or reverted to waits for a later run
            start_snapshot_delete(session, dispatcher, policy_caller(policy), snapshot)
            deleted.append(snapshot.id)
    return deleted


def policy_caller(policy: SnapshotPolicy) -> Caller:
    """Whom the policy's jobs and events name: no user, the policy, in its project."""
    return Caller(user_id=None, user_name=f"snapshot policy {policy.id}", project_id=policy.project_id)  # type: ignore[arg-type]


class _Skipped(Exception):
    pass
