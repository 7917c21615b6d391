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

from occistack.model import OsTemplate, StorageLink, StoragePool, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.snapshots import SNAPSHOT_TRANSITIONS, SnapshotEvent, SnapshotState
from occistack.model.states import LinkState, VmState, VolumeState
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.events import record_event
from occistack.plane.jobs.deletes import refuse_if_deleting
from occistack.plane.template_copies import first_secondary_storage
from occistack.plane.tenant.storage import VolumeRequest, create_volume
from occistack.plane.transitions import apply_event
from occistack.plane.zones import zone_name

#: States of what a snapshot is taken of in which the snapshot can be taken.
_SNAPSHOT_VOLUME_STATES = (VolumeState.ONLINE, VolumeState.OFFLINE)
_SNAPSHOT_VM_STATES = (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED)
_BUSY = (SnapshotState.CREATING, SnapshotState.BACKING_UP)


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
    """Take a snapshot: written in ``creating``, its job queued behind its resource's others."""
    session = ctx.session
    if (request.volume_id is None) == (request.compute_id is None):
        raise InvalidRequest("name either the storage (volume) or the compute (its root disk) to take a "
                             "snapshot of, not both nor neither")
    if request.volume_id is not None:
        volume = _reach(session, ctx, Volume, request.volume_id, "storage", every_project)
        entity, zone_id, size_gib, source = volume, _zone_of_volume(session, volume), volume.size_gib, "volume"
        _check_volume_can_be_copied(session, volume)
    else:
        vm = _reach(session, ctx, VirtualMachine, request.compute_id, "compute", every_project)
        template = session.get(OsTemplate, vm.template_id)
        size_gib = max(vm.root_disk_gib or 0.0, template.size_gib if template is not None else 0.0)
        entity, zone_id, source = vm, vm.zone_id, "root_disk"
        _check_root_disk_can_be_copied(vm)
    busy = session.scalar(select(VolumeSnapshot.id).where(
        (VolumeSnapshot.volume_id == entity.id) if source == "volume" else (VolumeSnapshot.vm_id == entity.id),
        VolumeSnapshot.source == source, VolumeSnapshot.state.in_([str(state) for state in _BUSY])).limit(1))
    if busy is not None:
        raise Conflict(f"snapshot {busy} of this {_noun(source)} is still being taken; wait until it is ready")
    store = first_secondary_storage(session, zone_id) if zone_id is not None else None
    if store is None:
        raise Conflict(f"zone {zone_name(session, zone_id) if zone_id is not None else '(none)'} has no enabled "
                       "secondary storage to keep snapshots in; add one with `occistack secondary-storage add`")
    snapshot = VolumeSnapshot(
        project_id=entity.project_id, source=source, zone_id=zone_id, size_gib=size_gib,
        volume_id=entity.id if source == "volume" else None, vm_id=entity.id if source == "root_disk" else None,
        name=request.name or f"{entity.title or entity.id}-{ctx.now():%Y%m%d%H%M%S}",
        state=str(SnapshotState.CREATING), secondary_storage_id=store.id)
    session.add(snapshot)
    session.flush()
    snapshot.secondary_path = snapshot_path(snapshot)
    caller = _caller_for(ctx, entity.project_id)
    ctx.services.dispatcher.submit(session, Operation("snapshot_volume", entity.id, {"snapshot_id": snapshot.id}),
                                   caller)
    record_event(session, "snapshot.create", "scheduled", "snapshot", snapshot.id, caller=caller,
                 description=f"snapshot {snapshot.name!r} of {_noun(source)} {entity.id} requested")
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
    session = ctx.session
    snapshot = _snapshot(ctx, snapshot_id, every_project)
    if snapshot.state == SnapshotState.DESTROYING:
        return snapshot_record(session, snapshot)  # a repeated delete changes nothing
    if not SNAPSHOT_TRANSITIONS.allows(SnapshotState(snapshot.state), SnapshotEvent.DESTROY):
        raise Conflict(f"snapshot {snapshot.id} is {snapshot.state} and cannot be deleted now; wait until it is "
                       "ready (or in error)")
    apply_event(session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.DESTROY)
    caller = _caller_for(ctx, snapshot.project_id)
    ctx.services.dispatcher.submit(session, Operation("delete_snapshot", snapshot_entity(snapshot.id),
                                                      {"snapshot_id": snapshot.id}), caller)
    record_event(session, "snapshot.delete", "scheduled", "snapshot", snapshot.id, caller=caller,
                 description=f"snapshot {snapshot.name!r} to be removed from secondary storage")
    return snapshot_record(session, snapshot)


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
        if volume.state not in _SNAPSHOT_VOLUME_STATES:
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
                 description=f"{_noun(snapshot.source)} {entity.id} to be reverted to snapshot {snapshot.name!r}")
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

def snapshot_path(snapshot: VolumeSnapshot) -> str:
    """Where in its secondary storage a snapshot is kept (beside the templates, apart from them)."""
    return f"snapshots/{snapshot.project_id}/{snapshot.id}.qcow2"


def snapshot_entity(snapshot_id: int) -> str:
    """The job resource of a snapshot's removal."""
    return f"snapshot:{snapshot_id}"


def _noun(source: str) -> str:
    return "storage" if source == "volume" else "compute root disk of"


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


def _zone_of_volume(session: Session, volume: Volume) -> int | None:
    if volume.zone_id is not None:
        return volume.zone_id
    pool = session.get(StoragePool, volume.storage_pool_id) if volume.storage_pool_id else None
    return pool.zone_id if pool is not None else None


def _check_volume_can_be_copied(session: Session, volume: Volume) -> None:
    refuse_if_deleting(volume, "storage")
    if volume.state not in _SNAPSHOT_VOLUME_STATES:
        raise Conflict(f"storage {volume.id} is {volume.state}; a snapshot is taken of online or offline storage")
    link = session.scalar(select(StorageLink).where(StorageLink.volume_id == volume.id))
    if link is None:
        return
    if link.state != LinkState.ACTIVE:
        raise Conflict(f"storage {volume.id} is being attached to or detached from compute {link.vm_id}; "
                       "take the snapshot once that is done")
    vm = session.get(VirtualMachine, link.vm_id)
    if vm is None or vm.host_id is None or vm.state not in _SNAPSHOT_VM_STATES:
        raise Conflict(f"storage {volume.id} is attached to compute {link.vm_id}, which is "
                       f"{vm.state if vm else 'gone'}; take the snapshot when it is running or stopped")


def _check_root_disk_can_be_copied(vm: VirtualMachine) -> None:
    refuse_if_deleting(vm, "compute")
    if vm.bare_metal:
        raise Conflict(f"compute {vm.id} is a bare-metal node; its disks are not occistack's to copy")
    if vm.host_id is None or vm.state not in _SNAPSHOT_VM_STATES:
        raise Conflict(f"compute {vm.id} is {vm.state}; a snapshot of its root disk is taken when it is "
                       "running, suspended or stopped")
