"""Job handlers of volume snapshots: taking one, reverting to one, removing one.

Where each runs: a volume attached to a compute on a host is copied or reverted by that host
(its hypervisor holds the disk, and a running guest's disk gets its short-lived overlay there);
a detached volume by any Up host that reaches its primary storage; a root disk by its compute's
host. A snapshot's removal from secondary storage runs on any Up host of its zone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.hostagent.protocol import RemoveSecondaryFile, RevertVolume, SnapshotSaved, SnapshotVolume
from occistack.model import SecondaryStorage, StorageLink, StoragePool, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.snapshots import SNAPSHOT_TRANSITIONS, SnapshotEvent, SnapshotState
from occistack.plane.events import record_event
from occistack.plane.jobs.commands import secondary_url, volume_name
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.handlers.common import up_host_in
from occistack.plane.template_copies import charge_secondary_storage
from occistack.plane.transitions import apply_event

#: A snapshot copies a whole disk over NFS: give a host as long as a template download gets.
SNAPSHOT_WAIT_SECONDS = 3600.0


def _snapshot(session: Session, arguments: dict) -> VolumeSnapshot | None:
    snapshot_id = arguments.get("snapshot_id")
    return session.get(VolumeSnapshot, snapshot_id) if snapshot_id is not None else None


def snapshot_url(session: Session, snapshot: VolumeSnapshot) -> str:
    """Where the snapshot is (or goes) in its secondary storage, as hosts reach it."""
    store = session.get(SecondaryStorage, snapshot.secondary_storage_id) if snapshot.secondary_storage_id else None
    if store is None or not snapshot.secondary_path:
        raise StepFailed(f"snapshot {snapshot.id} has no secondary storage (was it removed?)")
    return secondary_url(store.url, snapshot.secondary_path)


def _target(ctx: StepContext, snapshot: VolumeSnapshot) -> tuple[int, str | None, str | None]:
    """(host, volume name, guest whose root disk) a command about the snapshot's source goes to."""
    session = ctx.session
    if snapshot.source == "root_disk":
        vm = session.get(VirtualMachine, snapshot.vm_id) if snapshot.vm_id else None
        if vm is None or vm.host_id is None or not vm.instance_name:
            raise StepFailed("the compute is not deployed on a host any more")
        return vm.host_id, None, vm.instance_name
    volume = session.get(Volume, snapshot.volume_id) if snapshot.volume_id else None
    if volume is None:
        raise StepFailed("the storage went away")
    link = session.scalar(select(StorageLink).where(StorageLink.volume_id == volume.id))
    vm = session.get(VirtualMachine, link.vm_id) if link is not None else None
    if vm is not None and vm.host_id is not None:
        return vm.host_id, volume_name(volume.id), None
    pool = session.get(StoragePool, volume.storage_pool_id) if volume.storage_pool_id else None
    if pool is None:
        raise StepFailed("the storage has no primary storage pool")
    host = up_host_in(session, cluster_id=pool.cluster_id) if pool.cluster_id else \
        up_host_in(session, zone_id=pool.zone_id)
    if host is None:
        raise StepFailed(f"no host that reaches primary storage {pool.name!r} is up")
    return host.id, volume_name(volume.id), None


# --- taking one ------------------------------------------------------------------------------------

def take_snapshot(ctx: StepContext) -> Outcome:
    snapshot = _snapshot(ctx.session, ctx.arguments)
    if snapshot is None:
        return Outcome.DONE
    if ctx.step == 0:
        host_id, volume, root_of = _target(ctx, snapshot)
        ctx.send(host_id, SnapshotVolume(volume, snapshot_url(ctx.session, snapshot), root_of=root_of))
        return Outcome.WAIT
    answer = ctx.answer(SnapshotVolume)
    if answer.error is not None:
        raise StepFailed(f"taking the snapshot failed: {answer.error}")
    saved: SnapshotSaved = ctx.result(SnapshotVolume)
    snapshot.checksum, snapshot.stored_gib = saved.checksum, saved.size_gib or 0.0
    apply_event(ctx.session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.BACKED_UP)
    charge_secondary_storage(ctx.session, snapshot.secondary_storage_id, snapshot.stored_gib)
    record_event(ctx.session, "snapshot.create", "completed", "snapshot", snapshot.id, project_id=snapshot.project_id,
                 job_id=ctx.job.id, description=f"snapshot {snapshot.name!r} is in secondary storage "
                                                f"({snapshot.stored_gib:.3g} GiB)")
    return Outcome.DONE


def snapshot_taken(session: Session, arguments: dict, percent: int) -> None:
    """The agent's report that the point in time is captured and the copy out has begun."""
    snapshot = _snapshot(session, arguments)
    if snapshot is not None and percent >= 50 and SNAPSHOT_TRANSITIONS.allows(
            SnapshotState(snapshot.state), SnapshotEvent.COPY_TAKEN):
        apply_event(session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.COPY_TAKEN)


def snapshot_failed(ctx: StepContext, message: str) -> None:
    snapshot = _snapshot(ctx.session, ctx.arguments)
    if snapshot is None:
        return
    if SNAPSHOT_TRANSITIONS.allows(SnapshotState(snapshot.state), SnapshotEvent.FAILED):
        apply_event(ctx.session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.FAILED, message)
    record_event(ctx.session, "snapshot.create", "failed", "snapshot", snapshot.id, project_id=snapshot.project_id,
                 job_id=ctx.job.id, description=message)


# --- reverting to one ------------------------------------------------------------------------------

def revert_volume(ctx: StepContext) -> Outcome:
    snapshot = _snapshot(ctx.session, ctx.arguments)
    if snapshot is None:
        return Outcome.DONE
    if ctx.step == 0:
        host_id, volume, root_of = _target(ctx, snapshot)
        ctx.send(host_id, RevertVolume(volume, snapshot_url(ctx.session, snapshot), snapshot.checksum or "",
                                       root_of=root_of))
        return Outcome.WAIT
    answer = ctx.answer(RevertVolume)
    if answer.error is not None:
        raise StepFailed(f"reverting to snapshot {snapshot.name!r} failed: {answer.error}")
    apply_event(ctx.session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.REVERTED)
    _source_message(ctx.session, snapshot, None)
    record_event(ctx.session, "snapshot.revert", "completed", "snapshot", snapshot.id, project_id=snapshot.project_id,
                 job_id=ctx.job.id, description=f"{ctx.job.entity_id} reverted to snapshot {snapshot.name!r}")
    return Outcome.DONE


def revert_failed(ctx: StepContext, message: str) -> None:
    """The snapshot is ready again; the volume (or compute) keeps its state and says why."""
    snapshot = _snapshot(ctx.session, ctx.arguments)
    if snapshot is None:
        return
    if SNAPSHOT_TRANSITIONS.allows(SnapshotState(snapshot.state), SnapshotEvent.REVERTED):
        apply_event(ctx.session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.REVERTED)
    _source_message(ctx.session, snapshot, message)
    record_event(ctx.session, "snapshot.revert", "failed", "snapshot", snapshot.id, project_id=snapshot.project_id,
                 job_id=ctx.job.id, description=message)


def _source_message(session: Session, snapshot: VolumeSnapshot, message: str | None) -> None:
    row = session.get(Volume, snapshot.volume_id) if snapshot.volume_id else \
        session.get(VirtualMachine, snapshot.vm_id) if snapshot.vm_id else None
    if row is not None:
        row.state_message = message


# --- removing one ----------------------------------------------------------------------------------

def delete_snapshot(ctx: StepContext) -> Outcome:
    snapshot = _snapshot(ctx.session, ctx.arguments)
    if snapshot is None:
        return Outcome.DONE
    stored = snapshot.checksum is not None and snapshot.secondary_storage_id is not None
    if ctx.step == 0:
        # One that failed before it was stored may still have left a partial file: remove it too.
        host = up_host_in(ctx.session, zone_id=snapshot.zone_id) if snapshot.zone_id is not None else None
        if snapshot.secondary_path and snapshot.secondary_storage_id is not None:
            if host is None:
                raise StepFailed("no host of the snapshot's zone is up to remove it from secondary storage")
            ctx.send(host.id, RemoveSecondaryFile(snapshot_url(ctx.session, snapshot)))
            return Outcome.WAIT
    else:
        answer = ctx.answer(RemoveSecondaryFile)
        if answer.error is not None:
            raise StepFailed(f"removing the snapshot from secondary storage failed: {answer.error}")
    if stored:
        charge_secondary_storage(ctx.session, snapshot.secondary_storage_id, -(snapshot.stored_gib or 0.0))
    record_event(ctx.session, "snapshot.delete", "completed", "snapshot", snapshot.id, project_id=snapshot.project_id,
                 job_id=ctx.job.id, description=f"snapshot {snapshot.name!r} deleted")
    ctx.session.delete(snapshot)
    return Outcome.DONE


def delete_failed(ctx: StepContext, message: str) -> None:
    snapshot = _snapshot(ctx.session, ctx.arguments)
    if snapshot is None:
        return
    if SNAPSHOT_TRANSITIONS.allows(SnapshotState(snapshot.state), SnapshotEvent.FAILED):
        apply_event(ctx.session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.FAILED, message)
    record_event(ctx.session, "snapshot.delete", "failed", "snapshot", snapshot.id, project_id=snapshot.project_id,
                 job_id=ctx.job.id, description=message)


HANDLERS = {
    "snapshot_volume": JobHandler(take_snapshot, snapshot_failed, wait_seconds=SNAPSHOT_WAIT_SECONDS,
                                  on_progress=snapshot_taken),
    "revert_volume": JobHandler(revert_volume, revert_failed, wait_seconds=SNAPSHOT_WAIT_SECONDS),
    "delete_snapshot": JobHandler(delete_snapshot, delete_failed),
}
