"""Volumes (storage): creating, changing, acting on and deleting them -- and the rows of their
attachments to computes (storage links), which links.py makes and removes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import StorageLink, VirtualMachine, Volume
from occistack.model.states import VOLUME_TRANSITIONS, Event, LinkState, VolumeState
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.tenant import tags
from occistack.plane.tenant.changes import KEEP, Keep, TagChanges, apply_tag_changes, kept
from occistack.plane.deleting import is_deleting, refuse_if_deleting
from occistack.plane.jobs.deletes import request_delete, submit_volume_delete
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.plane.events import record_event
from occistack.plane.identifiers import new_entity_id
from occistack.plane.quotas import check_quota
from occistack.plane.transitions import apply_event
from occistack.plane.zones import require_same_zone, zone_id_for, zone_name


@dataclass(frozen=True, slots=True)
class VolumeRequest:
    size_gib: float
    entity_id: str | None = None
    title: str | None = None
    summary: str | None = None
    zone_name: str | None = None
    #: identifiers of the caller's own mixins to tag it with.
    tags: tuple[str, ...] = ()
    #: identifiers of categories the face knows no meaning of on storage (refused).
    other_mixins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VolumeChanges:
    """What a client asks of existing storage; a field at KEEP asks nothing."""

    title: str | None | Keep = KEEP
    summary: str | None | Keep = KEEP
    size_gib: float | Keep = KEEP
    tags: TagChanges = field(default_factory=TagChanges)
    #: zones (names) the client names: each must be the volume's own.
    zone_names: tuple[str, ...] = ()
    #: identifiers of categories the face knows no meaning of on storage (refused).
    other_mixins: tuple[str, ...] = ()


class VolumeAction(Enum):
    ONLINE = "online"
    OFFLINE = "offline"


_ACTION_EVENTS = {VolumeAction.ONLINE: Event.ONLINE, VolumeAction.OFFLINE: Event.OFFLINE}


@dataclass(frozen=True, slots=True)
class DiskRequest:
    """A storage link to make: the volume, and where the compute sees it."""

    volume_id: str
    link_id: str | None = None
    device_id: str | None = None
    mountpoint: str | None = None
    title: str | None = None
    #: identifiers of the caller's own mixins to tag the link with.
    tags: tuple[str, ...] = ()


# --- the use cases ---------------------------------------------------------------------------------

def create_storage(ctx: PlaneContext, request: VolumeRequest) -> str:
    """Create a volume in the caller's project (see :func:`create_volume`); its id."""
    if request.other_mixins:
        raise NotPermitted(f"the mixin {request.other_mixins[0]} does not apply to a storage")
    volume = create_volume(ctx.session, ctx.caller, request, ctx.dispatcher, ctx.placement)
    tags.tag_all(ctx.session, ctx.caller, request.tags, volume.id)
    return volume.id


def update_storage(ctx: PlaneContext, volume_id: str, changes: VolumeChanges) -> None:
    """Retitle, grow (never shrink) and tag the caller's volume."""
    volume = get_volume(ctx.session, ctx.caller, volume_id)
    if changes.zone_names:
        zone = zone_name(ctx.session, volume.zone_id) if volume.zone_id is not None else None
        if any(asked != zone for asked in changes.zone_names):
            raise NotPermitted("storage cannot move to another availability zone")
    if changes.other_mixins:
        raise NotPermitted(f"the mixin {changes.other_mixins[0]} cannot be added to existing storage")
    volume.title = kept(changes.title, volume.title)
    volume.summary = kept(changes.summary, volume.summary)
    if changes.size_gib is not KEEP:
        resize_volume(ctx.session, volume, changes.size_gib, ctx.dispatcher, ctx.placement)
    apply_tag_changes(ctx, volume.id, changes.tags)


def resize_storage(ctx: PlaneContext, volume_id: str, size_gib: float) -> None:
    """Grow the caller's volume to ``size_gib`` (GFD.224's resize action; an update of its size
    does the same)."""
    resize_volume(ctx.session, get_volume(ctx.session, ctx.caller, volume_id), size_gib, ctx.dispatcher,
                  ctx.placement)


def act_on_storage(ctx: PlaneContext, volume_id: str, action: VolumeAction) -> None:
    """Bring the caller's volume online or offline (IllegalTransition where its state does not allow)."""
    volume = get_volume(ctx.session, ctx.caller, volume_id)
    refuse_if_deleting(volume, "storage")
    apply_event(ctx.session, volume, VOLUME_TRANSITIONS, _ACTION_EVENTS[action])


def delete_storage(ctx: PlaneContext, volume_id: str) -> None:
    """Delete the caller's volume (see :func:`destroy_volume`)."""
    destroy_volume(ctx.session, get_volume(ctx.session, ctx.caller, volume_id), ctx.dispatcher, ctx.caller)


def remove_tag_from_storage(ctx: PlaneContext, volume_id: str, identifier: str) -> None:
    """Take one of the caller's own mixins off a volume (the only mixins storage sheds)."""
    get_volume(ctx.session, ctx.caller, volume_id)
    tags.untag(ctx.session, ctx.caller, identifier, [volume_id])


# --- the rows they write -------------------------------------------------------------------------


def get_volume(session: Session, caller: Caller, volume_id: str) -> Volume:
    # By primary key: a create reads its volumes once for their zone, and once more costs nothing.
    volume = session.get(Volume, volume_id)
    if volume is None or volume.project_id != caller.project_id:
        raise NotFound(f"no storage {volume_id}")
    return volume


def create_volume(session: Session, caller: Caller, request: VolumeRequest, dispatcher: Dispatcher,
                  placement, arguments: dict | None = None) -> Volume:
    """Check the quota, write the volume in ``creating``, reserve its GiB on a primary storage
    pool and queue its creation (with ``arguments`` for its job: the snapshot it starts as)."""
    check_quota(session, caller.project_id, volumes=1, storage_gib=request.size_gib)
    zone_id = zone_id_for(session, request.zone_name) if request.zone_name is not None else None
    volume = Volume(id=new_entity_id(session, request.entity_id), project_id=caller.project_id,
                    title=request.title, summary=request.summary, size_gib=request.size_gib,
                    zone_id=zone_id, state=VolumeState.CREATING)
    session.add(volume)
    session.flush()
    placement.place_volume(session, volume, zone_id)
    dispatcher.submit(session, Operation("create_volume", volume.id, arguments or {}), caller)
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
                 project_id=volume.project_id, description=f"waits until compute {link.vm_id} lets go of it")


# --- storage links -------------------------------------------------------------------------------

def add_storage_link(session: Session, vm: VirtualMachine, request: DiskRequest, caller: Caller) -> StorageLink:
    """A storage link row in ``attaching``; the caller submits whatever operation attaches it."""
    volume = get_volume(session, caller, request.volume_id)
    refuse_if_deleting(volume, f"storage {volume.id}")
    if volume.state not in (VolumeState.ONLINE, VolumeState.OFFLINE, VolumeState.CREATING):
        raise Conflict(f"storage {volume.id} is {VOLUME_TRANSITIONS.occi_state(volume.state)} "
                       "and cannot be attached")
    require_same_zone(session, vm.zone_id, volume.zone_id, f"storage {volume.id}")
    attached_to = session.scalar(select(StorageLink.vm_id).where(StorageLink.volume_id == volume.id))
    if attached_to is not None:
        raise Conflict(f"storage {volume.id} is already linked to compute {attached_to}")
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
        raise NotFound(f"no storage link {link_id}")
    return link


def _next_device(used: set[str]) -> str:
    for letter in "bcdefghijklmnopqrstuvwxyz":
        device = f"/dev/vd{letter}"
        if device not in used:
            return device
    raise Conflict("the compute has no free disk device left")
