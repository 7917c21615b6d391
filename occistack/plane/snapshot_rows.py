"""The row-writing part of taking and deleting a volume snapshot: the checks, the row, its job.

Plane rules, below the use cases, because two callers need them: the snapshot use cases
(plane/tenant/snapshots.py: a member's or the administrator's request) and the workers' sweep
that runs the snapshot policies (plane/jobs/snapshot_policies.py), which may not call a use case.
Who may reach which volume is the callers' business; here everything is already reached.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, StorageLink, StoragePool, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.snapshots import SNAPSHOT_TRANSITIONS, SnapshotEvent, SnapshotState
from occistack.model.states import LinkState, VmState, VolumeState
from occistack.plane.caller import Caller
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict
from occistack.plane.events import record_event
from occistack.plane.template_copies import first_secondary_storage
from occistack.plane.transitions import apply_event
from occistack.plane.zones import zone_name

#: States of what a snapshot is taken of in which the snapshot can be taken.
SNAPSHOT_VOLUME_STATES = (VolumeState.ONLINE, VolumeState.OFFLINE)
_SNAPSHOT_VM_STATES = (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED)
_BUSY = (SnapshotState.CREATING, SnapshotState.BACKING_UP)


def take_snapshot(session: Session, dispatcher: Dispatcher, caller: Caller, entity: Volume | VirtualMachine,
                  name: str | None, now: datetime, policy_id: int | None = None) -> VolumeSnapshot:
    """Write the snapshot of ``entity`` (a volume, or a compute's root disk) in ``creating`` and
    queue its job behind the entity's other jobs; Conflict when it cannot be taken now."""
    if isinstance(entity, Volume):
        zone_id, size_gib, source = zone_of_volume(session, entity), entity.size_gib, "volume"
        _check_volume_can_be_copied(session, entity)
    else:
        template = session.get(OsTemplate, entity.template_id)
        size_gib = max(entity.root_disk_gib or 0.0, template.size_gib if template is not None else 0.0)
        zone_id, source = entity.zone_id, "root_disk"
        _check_root_disk_can_be_copied(entity)
    busy = session.scalar(select(VolumeSnapshot.id).where(
        (VolumeSnapshot.volume_id == entity.id) if source == "volume" else (VolumeSnapshot.vm_id == entity.id),
        VolumeSnapshot.source == source, VolumeSnapshot.state.in_([str(state) for state in _BUSY])).limit(1))
    if busy is not None:
        raise Conflict(f"snapshot {busy} of this {noun(source)} is still being taken; wait until it is ready")
    store = first_secondary_storage(session, zone_id) if zone_id is not None else None
    if store is None:
        raise Conflict(f"zone {zone_name(session, zone_id) if zone_id is not None else '(none)'} has no enabled "
                       "secondary storage to keep snapshots in; add one with `occistack secondary-storage add`")
    snapshot = VolumeSnapshot(
        project_id=entity.project_id, source=source, zone_id=zone_id, size_gib=size_gib, policy_id=policy_id,
        volume_id=entity.id if source == "volume" else None, vm_id=entity.id if source == "root_disk" else None,
        name=name or f"{entity.title or entity.id}-{now:%Y%m%d%H%M%S}",
        state=str(SnapshotState.CREATING), secondary_storage_id=store.id)
    session.add(snapshot)
    session.flush()
    snapshot.secondary_path = snapshot_path(snapshot)
    dispatcher.submit(session, Operation("snapshot_volume", entity.id, {"snapshot_id": snapshot.id}), caller)
    record_event(session, "snapshot.create", "scheduled", "snapshot", snapshot.id, caller=caller,
                 description=f"snapshot {snapshot.name!r} of {noun(source)} {entity.id} requested")
    return snapshot


def can_be_deleted(snapshot: VolumeSnapshot) -> bool:
    return SNAPSHOT_TRANSITIONS.allows(SnapshotState(snapshot.state), SnapshotEvent.DESTROY)


def start_snapshot_delete(session: Session, dispatcher: Dispatcher, caller: Caller, snapshot: VolumeSnapshot) -> None:
    """Move the snapshot to ``destroying`` and queue the job that removes it from secondary
    storage (then the row); nothing when it is already being removed."""
    if snapshot.state == SnapshotState.DESTROYING:
        return  # a repeated delete changes nothing
    if not can_be_deleted(snapshot):
        raise Conflict(f"snapshot {snapshot.id} is {snapshot.state} and cannot be deleted now; wait until it is "
                       "ready (or in error)")
    apply_event(session, snapshot, SNAPSHOT_TRANSITIONS, SnapshotEvent.DESTROY)
    dispatcher.submit(session, Operation("delete_snapshot", snapshot_entity(snapshot.id),
                                         {"snapshot_id": snapshot.id}), caller)
    record_event(session, "snapshot.delete", "scheduled", "snapshot", snapshot.id, caller=caller,
                 description=f"snapshot {snapshot.name!r} to be removed from secondary storage")


def snapshot_path(snapshot: VolumeSnapshot) -> str:
    """Where in its secondary storage a snapshot is kept (beside the templates, apart from them)."""
    return f"snapshots/{snapshot.project_id}/{snapshot.id}.qcow2"


def snapshot_entity(snapshot_id: int) -> str:
    """The job resource of a snapshot's removal."""
    return f"snapshot:{snapshot_id}"


def noun(source: str) -> str:
    return "storage" if source == "volume" else "compute root disk of"


def zone_of_volume(session: Session, volume: Volume) -> int | None:
    if volume.zone_id is not None:
        return volume.zone_id
    pool = session.get(StoragePool, volume.storage_pool_id) if volume.storage_pool_id else None
    return pool.zone_id if pool is not None else None


def _check_volume_can_be_copied(session: Session, volume: Volume) -> None:
    refuse_if_deleting(volume, "storage")
    if volume.state not in SNAPSHOT_VOLUME_STATES:
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
