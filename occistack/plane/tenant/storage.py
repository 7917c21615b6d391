"""Volumes (OCCI storage) and their attachments to computes (storage links)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import StorageLink, VirtualMachine, Volume
from occistack.model.states import VOLUME_TRANSITIONS, Event, LinkState, VmState, VolumeState
from occistack.plane.tenant.bare_metal import refuse_links
from occistack.plane.caller import Caller
from occistack.plane.jobs.deletes import is_deleting, refuse_if_deleting, request_delete, submit_volume_delete
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.events import record_event
from occistack.plane.identifiers import new_entity_id
from occistack.plane.quotas import check_quota
from occistack.plane.transitions import apply_event
from occistack.plane.zones import require_same_zone, zone_id_for


@dataclass(frozen=True, slots=True)
class VolumeRequest:
    size_gib: float
    entity_id: str | None = None
    title: str | None = None
    summary: str | None = None
    zone_name: str | None = None


@dataclass(frozen=True, slots=True)
class DiskRequest:
    volume_id: str
    link_id: str | None = None
    device_id: str | None = None
    mountpoint: str | None = None
    title: str | None = None


def get_volume(session: Session, caller: Caller, volume_id: str) -> Volume:
    # By primary key: a create reads its volumes once for their zone, and once more costs nothing.
    volume = session.get(Volume, volume_id)
    if volume is None or volume.project_id != caller.project_id:
        raise NotFound(f"no storage /storage/{volume_id}")
    return volume


def create_volume(session: Session, caller: Caller, request: VolumeRequest, dispatcher: Dispatcher,
                  placement) -> Volume:
    """Check the quota, write the volume in ``creating``, reserve its GiB on a primary storage
    pool and queue its creation."""
    check_quota(session, caller.project_id, volumes=1, storage_gib=request.size_gib)
    zone_id = zone_id_for(session, request.zone_name) if request.zone_name is not None else None
    volume = Volume(id=new_entity_id(session, request.entity_id), project_id=caller.project_id,
                    title=request.title, summary=request.summary, size_gib=request.size_gib,
                    zone_id=zone_id, state=VolumeState.CREATING)
    session.add(volume)
    session.flush()
    placement.place_volume(session, volume, zone_id)
    dispatcher.submit(session, Operation("create_volume", volume.id), caller)
    record_event(session, "volume.create", "scheduled", "storage", volume.id, caller=caller,
                 description=f"storage {volume.title or volume.id} of {volume.size_gib:g} GiB requested")
    return volume


def resize_volume(session: Session, volume: Volume, size_gib: float, dispatcher: Dispatcher, placement) -> None:
    if size_gib == volume.size_gib:
        return
    refuse_if_deleting(volume, "storage")
    if size_gib < volume.size_gib:
        raise Conflict(f"storage cannot shrink (from {volume.size_gib:g} to {size_gib:g} GiB); "
                       "create a smaller one and copy the data")
    if volume.state not in (VolumeState.ONLINE, VolumeState.OFFLINE):
        raise Conflict(f"storage cannot be resized while it is {VOLUME_TRANSITIONS.occi_state(volume.state)}")
    check_quota(session, volume.project_id, storage_gib=size_gib - volume.size_gib)
    placement.grow_volume(session, volume, size_gib)
    dispatcher.submit(session, Operation("resize_volume", volume.id, {"size_gib": size_gib}))


def volume_action(session: Session, volume: Volume, event: Event) -> None:
    refuse_if_deleting(volume, "storage")
    apply_event(session, volume, VOLUME_TRANSITIONS, event)


def destroy_volume(session: Session, volume: Volume, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state (see plane/jobs/deletes.py). Storage a compute still holds is deleted once
    it is let go of: by the compute's own delete, if that is under way, else by detaching it
    first (the compute keeps running without it)."""
    # Marked before its link is read: the mark locks the row, and a teardown that removes the
    # link locks it too before it looks for a mark, so either that one sees the mark or this
    # one sees the link gone.
    if not request_delete(session, volume):
        return  # a repeated delete changes nothing
    link = session.scalar(select(StorageLink).where(StorageLink.volume_id == volume.id))
    if link is None:
        submit_volume_delete(session, volume, caller)
        return
    vm = session.get(VirtualMachine, link.vm_id)
    if not is_deleting(link) and not (vm is not None and is_deleting(vm)):
        detach_volume(session, link, dispatcher, caller)
    record_event(session, "volume.delete", "requested", "storage", volume.id, caller=caller,
                 project_id=volume.project_id, description=f"waits until /compute/{link.vm_id} lets go of it")


# --- storage links -------------------------------------------------------------------------------

def add_storage_link(session: Session, vm: VirtualMachine, request: DiskRequest, caller: Caller) -> StorageLink:
    """A storage link row in ``attaching``; the caller submits whatever operation attaches it."""
    volume = get_volume(session, caller, request.volume_id)
    refuse_if_deleting(volume, f"storage /storage/{volume.id}")
    if volume.state not in (VolumeState.ONLINE, VolumeState.OFFLINE, VolumeState.CREATING):
        raise Conflict(f"storage /storage/{volume.id} is {VOLUME_TRANSITIONS.occi_state(volume.state)} "
                       "and cannot be attached")
    require_same_zone(session, vm.zone_id, volume.zone_id, f"storage /storage/{volume.id}")
    attached_to = session.scalar(select(StorageLink.vm_id).where(StorageLink.volume_id == volume.id))
    if attached_to is not None:
        raise Conflict(f"storage /storage/{volume.id} is already linked to /compute/{attached_to}")
    used = set(session.scalars(select(StorageLink.device_id).where(StorageLink.vm_id == vm.id)))
    device_id = request.device_id or _next_device(used)
    if device_id in used:
        raise Conflict(f"the compute already has a disk at {device_id}; choose another occi.storagelink.deviceid")
    if device_id in ("/dev/vda", "vda"):
        raise InvalidRequest("/dev/vda is the compute's root disk; choose another occi.storagelink.deviceid")
    link = StorageLink(id=new_entity_id(session, request.link_id), project_id=vm.project_id, title=request.title,
                       vm_id=vm.id, volume_id=volume.id, device_id=device_id, mountpoint=request.mountpoint,
                       state=LinkState.ATTACHING)
    session.add(link)
    return link


def attach_volume(session: Session, caller: Caller, vm: VirtualMachine, request: DiskRequest,
                  dispatcher: Dispatcher) -> StorageLink:
    refuse_links(vm, "storage links")
    refuse_if_deleting(vm, "compute")
    _require_vm_settled(vm)
    link = add_storage_link(session, vm, request, caller)
    session.flush()
    dispatcher.submit(session, Operation("attach_volume", link.id))
    return link


def update_storage_link(session: Session, link: StorageLink, changes: dict) -> None:
    if "device_id" in changes and changes["device_id"] != link.device_id:
        raise Conflict("the device of an attached storage link cannot change; delete the link and create another")
    if "mountpoint" in changes:
        link.mountpoint = changes["mountpoint"]
    if "title" in changes:
        link.title = changes["title"]


def detach_volume(session: Session, link: StorageLink, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state: queued behind the link's step under way; nothing more when
    its compute is being deleted, which takes its links with it."""
    if not request_delete(session, link):
        return
    vm = session.get(VirtualMachine, link.vm_id)
    if vm is not None and is_deleting(vm):
        return
    dispatcher.submit(session, Operation("detach_volume", link.id), caller)


def get_storage_link(session: Session, caller: Caller, link_id: str) -> StorageLink:
    link = session.scalar(select(StorageLink).where(StorageLink.id == link_id,
                                                    StorageLink.project_id == caller.project_id))
    if link is None:
        raise NotFound(f"no storage link /storagelink/{link_id}")
    return link


def _next_device(used: set[str]) -> str:
    for letter in "bcdefghijklmnopqrstuvwxyz":
        device = f"/dev/vd{letter}"
        if device not in used:
            return device
    raise Conflict("the compute has no free disk device left")


def _require_vm_settled(vm: VirtualMachine) -> None:
    if vm.state not in (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED):
        raise Conflict(f"the compute is {vm.state}; wait until it is active or inactive to link storage")
