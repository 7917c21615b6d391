"""Volume snapshots: taking one of a volume (attached or not) or of a compute's root disk,
listing them, reverting a volume to one, making a new volume from one, deleting one.

A snapshot is kept in its zone's secondary storage (model/snapshots.py has its states). The
rules are the same for a project's members (the OCCI ``snapshot`` action on storage) and for the
administrator (``/admin/snapshots`` and ``occistack snapshot``), who reaches every project: the
entry points take ``every_project``, which only those faces set. The work on hosts is done by the
jobs in plane/jobs/handlers/snapshots.py; a snapshot's jobs run on the resource it was taken of
(its volume, or its compute), so they queue behind that resource's other operations (a resize, an
attach, a power action) instead of racing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import StorageLink, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.snapshots import SNAPSHOT_TRANSITIONS, SnapshotEvent, SnapshotState
from occistack.model.states import VmState
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.events import record_event
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.snapshot_rows import SNAPSHOT_VOLUME_STATES, noun, start_snapshot_delete, take_snapshot
from occistack.plane.tenant.storage import VolumeRequest, create_volume
from occistack.plane.transitions import apply_event
from occistack.plane.zones import zone_name

@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    """A snapshot of the volume ``volume_id``, or of the root disk of compute ``compute_id``."""

    volume_id: str | None = None
    compute_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class VolumeFromSnapshot:
    snapshot_id: int
    title: str | None = None
    #: at least the snapshot's size; its size when None.
    size_gib: float | None = None
    entity_id: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    id: int
    name: str
    project_id: int
    #: volume or root_disk.
    source: str
    volume_id: str | None
    compute_id: str | None
    zone: str | None
    #: the virtual size of what it was taken of.
    size_gib: float
    #: what it occupies in secondary storage, once there.
    stored_gib: float | None
    #: model.snapshots.SnapshotState.
    state: str
    state_message: str | None
    checksum: str | None
    created_at: datetime


def snapshot_record(session: Session, snapshot: VolumeSnapshot) -> SnapshotRecord:
    return SnapshotRecord(
        id=snapshot.id, name=snapshot.name, project_id=snapshot.project_id, source=snapshot.source,
        volume_id=snapshot.volume_id, compute_id=snapshot.vm_id,
        zone=zone_name(session, snapshot.zone_id) if snapshot.zone_id is not None else None,
        size_gib=snapshot.size_gib, stored_gib=snapshot.stored_gib, state=str(snapshot.state),
        state_message=snapshot.state_message, checksum=snapshot.checksum, created_at=snapshot.created_at)


# --- the use cases ---------------------------------------------------------------------------------

def create_snapshot(ctx: PlaneContext, request: SnapshotRequest, *, every_project: bool = False) -> SnapshotRecord:
    """Take a snapshot: written in ``creating``, its job queued behind its resource's others
    (plane/snapshot_rows.py, which the snapshot policies' sweep uses too)."""
    session = ctx.session
    if (request.volume_id is None) == (request.compute_id is None):
        raise InvalidRequest("name either the storage (volume) or the compute (its root disk) to take a "
                             "snapshot of, not both nor neither")
    if request.volume_id is not None:
        entity = _reach(session, ctx, Volume, request.volume_id, "storage", every_project)
    else:
        entity = _reach(session, ctx, VirtualMachine, request.compute_id, "compute", every_project)
    snapshot = take_snapshot(session, ctx.services.dispatcher, _caller_for(ctx, entity.project_id), entity,
                             request.name, ctx.now())
    return snapshot_record(session, snapshot)


def list_snapshots(ctx: PlaneContext, *, volume_id: str | None = None, compute_id: str | None = None,
                   project_id: int | None = None, every_project: bool = False) -> list[SnapshotRecord]:
    """Oldest first; of one volume or compute, of one project (the administrator's filter)."""
    statement = select(VolumeSnapshot).order_by(VolumeSnapshot.created_at, VolumeSnapshot.id)
    if not every_project:
        statement = statement.where(VolumeSnapshot.project_id == ctx.caller.project_id)
    elif project_id is not None:
        statement = statement.where(VolumeSnapshot.project_id == project_id)
    if volume_id is not None:
        statement = statement.where(VolumeSnapshot.volume_id == volume_id)
    if compute_id is not None:
        statement = statement.where(VolumeSnapshot.vm_id == compute_id)
    return [snapshot_record(ctx.session, row) for row in ctx.session.scalars(statement)]


def show_snapshot(ctx: PlaneContext, snapshot_id: int, *, every_project: bool = False) -> SnapshotRecord:
    return snapshot_record(ctx.session, _snapshot(ctx, snapshot_id, every_project))


def delete_snapshot(ctx: PlaneContext, snapshot_id: int, *, every_project: bool = False) -> SnapshotRecord:
    """Remove it from secondary storage (a job); refused while it is taken or reverted to."""
    snapshot = _snapshot(ctx, snapshot_id, every_project)
    start_snapshot_delete(ctx.session, ctx.services.dispatcher, _caller_for(ctx, snapshot.project_id), snapshot)
    return snapshot_record(ctx.session, snapshot)


def revert_to_snapshot(ctx: PlaneContext, snapshot_id: int, *, every_project: bool = False) -> SnapshotRecord:
    """Overwrite the volume (or root disk) the snapshot was taken of with it. The volume must be
    detached or its compute stopped; a root disk's compute must be stopped."""
    session = ctx.session
    snapshot = _snapshot(ctx, snapshot_id, every_project)
    if snapshot.state != SnapshotState.READY:
        raise Conflict(f"snapshot {snapshot.id} is {snapshot.state}; only a ready snapshot can be reverted to")
    if snapshot.source == "volume":
        volume = session.get(Volume, snapshot.volume_id) if snapshot.volume_id else None
        if volume is None:
            raise Conflict(f"the storage snapshot {snapshot.id} was taken of is gone; make a new volume from "
                           "the snapshot instead")
        refuse_if_deleting(volume, "storage")
        if volume.state not in SNAPSHOT_VOLUME_STATES:
            raise Conflict(f"storage {volume.id} is {volume.state} and cannot be reverted now")
        link = session.scalar(select(StorageLink).where(StorageLink.volume_id == volume.id))
        vm = session.get(VirtualMachine, link.vm_id) if link is not None else None
        if vm is not None and vm.state != VmState.STOPPED:
            raise Conflict(f"storage {volume.id} is attached to compute {vm.id}, which is {vm.state}; stop the "
                           "compute or detach the storage first")
        entity = volume
    else:
        vm = session.get(VirtualMachine, snapshot.vm_id) if snapshot.vm_id else None
        if vm is None:
            raise Conflict(f"the compute snapshot {snapshot.id} was taken of is gone; make a new volume from "
                           "the snapshot instead")
        refuse_if_deleting(vm, "compute")
        if vm.state != VmState.STOPPED or vm.host_id is None:
            raise Conflict(f"compute {vm.id} is {vm.state}; stop it before reverting its root disk")
        entity = vm
    apply_event(session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.REVERT)
    caller = _caller_for(ctx, snapshot.project_id)
    ctx.services.dispatcher.submit(session, Operation("revert_volume", entity.id, {"snapshot_id": snapshot.id}),
                                   caller)
    record_event(session, "snapshot.revert", "scheduled", "snapshot", snapshot.id, caller=caller,
                 description=f"{noun(snapshot.source)} {entity.id} to be reverted to snapshot {snapshot.name!r}")
    return snapshot_record(session, snapshot)


def create_volume_from_snapshot(ctx: PlaneContext, request: VolumeFromSnapshot, *,
                                every_project: bool = False) -> str:
    """A new volume of the snapshot's project and zone, holding the snapshot; its id."""
    session = ctx.session
    snapshot = _snapshot(ctx, request.snapshot_id, every_project)
    if snapshot.state not in (SnapshotState.READY, SnapshotState.REVERTING):
        raise Conflict(f"snapshot {snapshot.id} is {snapshot.state}; only a ready snapshot can be copied")
    size_gib = snapshot.size_gib if request.size_gib is None else request.size_gib
    if size_gib < snapshot.size_gib:
        raise InvalidRequest(f"a volume made from snapshot {snapshot.id} needs at least {snapshot.size_gib:g} GiB, "
                             f"not {size_gib:g}")
    caller = _caller_for(ctx, snapshot.project_id)
    volume = create_volume(session, caller, VolumeRequest(
        size_gib=size_gib, entity_id=request.entity_id, title=request.title or f"from snapshot {snapshot.name}",
        zone_name=zone_name(session, snapshot.zone_id) if snapshot.zone_id is not None else None),
        ctx.services.dispatcher, ctx.placement, arguments={"snapshot_id": snapshot.id})
    return volume.id


# --- the rules they share ------------------------------------------------------------------------

def _snapshot(ctx: PlaneContext, snapshot_id: int, every_project: bool) -> VolumeSnapshot:
    snapshot = ctx.session.get(VolumeSnapshot, snapshot_id)
    if snapshot is None or (not every_project and snapshot.project_id != ctx.caller.project_id):
        raise NotFound(f"no snapshot {snapshot_id}")
    return snapshot


def _reach(session: Session, ctx: PlaneContext, model, entity_id: str, kind: str, every_project: bool):
    row = session.get(model, entity_id)
    if row is None or (not every_project and row.project_id != ctx.caller.project_id):
        raise NotFound(f"no {kind} {entity_id}")
    return row


def _caller_for(ctx: PlaneContext, project_id: int) -> Caller:
    """Who the jobs and events name: the member, or the administrator acting in the project."""
    if ctx.caller is not None and ctx.caller.project_id == project_id:
        return ctx.caller
    actor = actor_of(ctx)
    return Caller(user_id=actor.user_id, user_name=actor.label, project_id=project_id)  # type: ignore[arg-type]
