"""A compute's links: its network interfaces (on networks) and storage links (to volumes) --
made on an existing compute, changed, and unlinked.

The links a compute is created with are made by create_compute (compute.py), with the same rows
(nics.add_nic, storage.add_storage_link); here the compute already runs, so each link is
plugged or attached by a job of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from occistack.model import NetworkInterface
from occistack.model.states import VmState
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Operation
from occistack.plane.errors import Conflict
from occistack.plane.tenant import tags
from occistack.plane.tenant.bare_metal import refuse_links
from occistack.plane.tenant.changes import KEEP, Keep, TagChanges, apply_tag_changes, kept
from occistack.plane.tenant.compute import get_compute
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.tenant.networks import detach_nic
from occistack.plane.tenant.nics import NicRequest, add_nic, get_nic
from occistack.plane.tenant.storage import DiskRequest, add_storage_link, detach_volume, get_storage_link

#: The states in which a compute takes new links: settled, on or off.
_SETTLED = (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED)


def link_network(ctx: PlaneContext, compute_id: str, request: NicRequest) -> str:
    """Give the caller's compute an interface on a network, plugged by a job; the link's id."""
    session = ctx.session
    vm = get_compute(session, ctx.caller, compute_id)
    refuse_links(vm, "network links")
    refuse_if_deleting(vm, "compute")
    ctx.limits.check_nic_count(1 + session.scalar(select(func.count()).select_from(NetworkInterface)
                                                  .where(NetworkInterface.vm_id == vm.id)))
    if vm.state not in _SETTLED:
        raise Conflict(f"the compute is {vm.state}; wait until it is active or inactive to link a network")
    nic = add_nic(session, vm, request, ctx.caller)
    session.flush()
    ctx.dispatcher.submit(session, Operation("plug_nic", nic.id))
    tags.tag_all(session, ctx.caller, request.tags, nic.id)
    return nic.id


def link_storage(ctx: PlaneContext, compute_id: str, request: DiskRequest) -> str:
    """Attach a volume to the caller's compute, by a job; the link's id."""
    session = ctx.session
    vm = get_compute(session, ctx.caller, compute_id)
    refuse_links(vm, "storage links")
    refuse_if_deleting(vm, "compute")
    if vm.state not in _SETTLED:
        raise Conflict(f"the compute is {vm.state}; wait until it is active or inactive to link storage")
    link = add_storage_link(session, vm, request, ctx.caller)
    session.flush()
    ctx.dispatcher.submit(session, Operation("attach_volume", link.id))
    tags.tag_all(session, ctx.caller, request.tags, link.id)
    return link.id


@dataclass(frozen=True, slots=True)
class NicChanges:
    """What a client asks of a plugged interface: a title and tags. Its MAC and addressing are
    the hypervisor's and the network's; naming them is accepted only unchanged."""

    title: str | None | Keep = KEEP
    mac: str | None | Keep = KEEP
    address: str | None | Keep = KEEP
    gateway: str | None | Keep = KEEP
    tags: TagChanges = field(default_factory=TagChanges)


def update_nic(ctx: PlaneContext, nic_id: str, changes: NicChanges) -> None:
    nic = get_nic(ctx.session, ctx.caller, nic_id)
    if changes.mac not in (KEEP, None) and changes.mac.lower() != nic.mac:
        raise Conflict("the MAC of a plugged interface cannot change; delete the link and create another")
    for name, asked in (("address", changes.address), ("gateway", changes.gateway)):
        if asked is not KEEP and asked != getattr(nic, name):
            raise Conflict(f"occi.networkinterface.{name} cannot change on a plugged interface")
    nic.title = kept(changes.title, nic.title)
    apply_tag_changes(ctx, nic.id, changes.tags)


@dataclass(frozen=True, slots=True)
class StorageLinkChanges:
    """What a client asks of a storage link: its title, mount point and tags (its device is fixed)."""

    title: str | None | Keep = KEEP
    device_id: str | None | Keep = KEEP
    mountpoint: str | None | Keep = KEEP
    tags: TagChanges = field(default_factory=TagChanges)


def update_storage_link(ctx: PlaneContext, link_id: str, changes: StorageLinkChanges) -> None:
    link = get_storage_link(ctx.session, ctx.caller, link_id)
    if changes.device_id is not KEEP and changes.device_id != link.device_id:
        raise Conflict("the device of an attached storage link cannot change; delete the link and create another")
    link.mountpoint = kept(changes.mountpoint, link.mountpoint)
    link.title = kept(changes.title, link.title)
    apply_tag_changes(ctx, link.id, changes.tags)


def unlink_network(ctx: PlaneContext, nic_id: str) -> None:
    """Unplug and remove the caller's interface (see networks.detach_nic)."""
    detach_nic(ctx.session, get_nic(ctx.session, ctx.caller, nic_id), ctx.dispatcher, ctx.caller)


def unlink_storage(ctx: PlaneContext, link_id: str) -> None:
    """Detach the caller's storage link (see storage.detach_volume)."""
    detach_volume(ctx.session, get_storage_link(ctx.session, ctx.caller, link_id), ctx.dispatcher, ctx.caller)


def remove_tag_from_link(ctx: PlaneContext, link_id: str, identifier: str) -> None:
    """Take one of the caller's own mixins off a link (links carry no other mixin to remove)."""
    tags.untag(ctx.session, ctx.caller, identifier, [link_id])

