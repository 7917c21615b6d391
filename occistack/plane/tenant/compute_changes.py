"""Changing a compute: its attributes, its size, its tags and links, and what it may never gain.

A compute's OS template, availability zone, affinity group and contextualization are fixed when
it is created (its disk, its host and its first boot were chosen by them); its size changes only
while it is stopped, its architecture too. :func:`update_compute` holds those rules for every
face: a face says what the client asked for, the plane decides what may change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from sqlalchemy import select

from occistack.model import AffinityGroup, EntityMixin, OsTemplate, VirtualMachine, Zone
from occistack.model.states import VM_TRANSITIONS, VmState
from occistack.plane.context import PlaneContext
from occistack.plane.errors import Conflict, InvalidRequest, NotPermitted
from occistack.plane.quotas import check_quota
from occistack.plane.tenant import tags
from occistack.plane.tenant.bare_metal import change_boot_device, is_bare_metal
from occistack.plane.tenant.bare_metal import refuse_resize as refuse_bare_metal_resize
from occistack.plane.tenant.changes import KEEP, Keep, TagChanges, apply_tag_changes, kept
from occistack.plane.tenant.compute import get_compute, offering_named
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.tenant.links import link_network, link_storage
from occistack.plane.tenant.nics import NicRequest
from occistack.plane.tenant.storage import DiskRequest


@dataclass(frozen=True, slots=True)
class SizeTemplate:
    """A resource template a face offers: its identifier and the sizes it fixes."""

    identifier: str
    cores: int
    memory_gib: float


@dataclass(frozen=True, slots=True)
class Contextualization:
    """Contextualization a client names on an existing compute: a mixin recorded on the compute
    when it was created (``mixin``, its identifier), with the value it carried, if one is given."""

    mixin: str
    #: the compute's field the value fills.
    field: Literal["user_data", "ssh_public_key"]
    #: how the face names the value, for the refusal.
    attribute: str
    value: str | None | Keep = KEEP


@dataclass(frozen=True, slots=True)
class ComputeChanges:
    """What a client asks of an existing compute; a field at KEEP (or empty) asks nothing."""

    title: str | None | Keep = KEEP
    summary: str | None | Keep = KEEP
    hostname: str | None | Keep = KEEP
    architecture: str | None | Keep = KEEP
    share: int | None | Keep = KEEP
    speed_ghz: float | None | Keep = KEEP
    #: sizes the client gives; a resource template given fixes both instead.
    cores: int | None = None
    memory_gib: float | None = None
    resource_tpl: SizeTemplate | None = None
    #: what a bare-metal compute's node boots from next.
    boot_device: str | Keep = KEEP
    #: OS templates (terms), zones (names) and affinity groups (names) the client names: each
    #: must be the compute's own, for those are fixed at creation.
    template_terms: tuple[str, ...] = ()
    zone_names: tuple[str, ...] = ()
    affinity_groups: tuple[str, ...] = ()
    contextualization: tuple[Contextualization, ...] = ()
    #: identifiers of categories the face knows no meaning of on a compute (refused).
    other_mixins: tuple[str, ...] = ()
    tags: TagChanges = field(default_factory=TagChanges)
    #: links to add.
    nics: tuple[NicRequest, ...] = ()
    disks: tuple[DiskRequest, ...] = ()


def update_compute(ctx: PlaneContext, compute_id: str, changes: ComputeChanges) -> None:
    """Apply ``changes`` to the caller's compute: NotPermitted for what is fixed at creation,
    Conflict for the architecture or size while it is not stopped."""
    session = ctx.session
    vm = get_compute(session, ctx.caller, compute_id)
    _refuse_what_is_fixed(ctx, vm, changes)
    vm.title = kept(changes.title, vm.title)
    vm.summary = kept(changes.summary, vm.summary)
    vm.hostname = kept(changes.hostname, vm.hostname)
    vm.share = kept(changes.share, vm.share)
    vm.speed_ghz = kept(changes.speed_ghz, vm.speed_ghz)
    if changes.architecture is not KEEP and changes.architecture != vm.architecture:
        if vm.state != VmState.STOPPED:
            raise Conflict("the architecture can only change while the compute is stopped")
        vm.architecture = changes.architecture
    resize_compute(ctx, vm, *_sizes(vm, changes))
    if changes.boot_device is not KEEP:
        change_boot_device(vm, changes.boot_device)
    apply_tag_changes(ctx, vm.id, changes.tags)
    for nic in changes.nics:
        link_network(ctx, vm.id, nic)
    for disk in changes.disks:
        link_storage(ctx, vm.id, disk)


def _refuse_what_is_fixed(ctx: PlaneContext, vm: VirtualMachine, changes: ComputeChanges) -> None:
    session = ctx.session
    if changes.template_terms:
        term = session.scalar(select(OsTemplate.term).where(OsTemplate.id == vm.template_id))
        if any(asked != term for asked in changes.template_terms):
            raise NotPermitted("the os_tpl of an existing compute cannot be changed; create a new compute")
    if changes.zone_names:
        zone = session.scalar(select(Zone.name).where(Zone.id == vm.zone_id)) if vm.zone_id is not None else None
        if any(asked != zone for asked in changes.zone_names):
            raise NotPermitted("a compute cannot move to another availability zone")
    if changes.affinity_groups:
        group = (session.scalar(select(AffinityGroup.name).where(AffinityGroup.id == vm.affinity_group_id))
                 if vm.affinity_group_id is not None else None)
        if any(asked != group for asked in changes.affinity_groups):
            raise NotPermitted("a compute joins an affinity group when it is created, not later: its host was "
                               "chosen by the group's rule")
    if changes.contextualization:
        given = set(session.scalars(select(EntityMixin.mixin).where(
            EntityMixin.entity_id == vm.id,
            EntityMixin.mixin.in_([context.mixin for context in changes.contextualization]))))
        for context in changes.contextualization:
            if context.mixin not in given:
                raise NotPermitted(f"contextualization ({context.mixin.rsplit('#', 1)[-1]}) is given when a "
                                   "compute is created, not later")
        for context in changes.contextualization:
            current = getattr(vm, context.field) if context.mixin in given else None
            if context.value is not KEEP and context.value != current:
                raise NotPermitted(f"{context.attribute} is given when a compute is created and cannot change")
    if changes.other_mixins:
        raise NotPermitted(f"the mixin {changes.other_mixins[0]} cannot be added to an existing compute")


def _sizes(vm: VirtualMachine, changes: ComputeChanges) -> tuple[int, float, str | None]:
    """Cores, memory and resource template after the change: a resource template's sizes, else
    the client's, else the compute's own (still its template's if they did not change)."""
    if changes.resource_tpl is not None:
        template = changes.resource_tpl
        return template.cores, template.memory_gib, template.identifier
    unchanged = changes.cores in (None, vm.cores) and changes.memory_gib in (None, vm.memory_gib)
    return (changes.cores or vm.cores, changes.memory_gib or vm.memory_gib,
            vm.resource_tpl if unchanged else None)


def resize_compute(ctx: PlaneContext, vm: VirtualMachine, cores: int, memory_gib: float,
                   resource_tpl: str | None) -> None:
    """Change a stopped compute's size (a new resource_tpl), re-reserving on its host."""
    session = ctx.session
    refuse_if_deleting(vm, "compute")
    if vm.bare_metal and ((cores, memory_gib) != (vm.cores, vm.memory_gib)
                          or resource_tpl not in (None, vm.resource_tpl)):
        refuse_bare_metal_resize(vm)
    offering = offering_named(session, resource_tpl)
    if is_bare_metal(offering) and not vm.bare_metal:
        raise InvalidRequest(f"the resource_tpl {offering.term!r} is a whole bare-metal node; a virtual machine "
                             "cannot become one: create a new compute with it")
    if (cores, memory_gib) != (vm.cores, vm.memory_gib):
        if vm.state != VmState.STOPPED:
            raise Conflict(f"a compute can only be resized while stopped; it is "
                           f"{VM_TRANSITIONS.occi_state(vm.state)} — stop it first")
        check_quota(session, vm.project_id, cores=cores - vm.cores, memory_gib=memory_gib - vm.memory_gib)
        ctx.placement.resize_vm(session, vm, cores, memory_gib)
    vm.cores, vm.memory_gib, vm.resource_tpl = cores, memory_gib, resource_tpl
    vm.offering_id = offering.id if offering else None


class ComputeMixin(Enum):
    """What a face may take off a compute."""

    TAG = "tag"                        # one of the caller's own mixins
    RESOURCE_TPL = "resource_tpl"      # its resource template (its sizes stay)
    AFFINITY_GROUP = "affinity_group"  # refused: its host was chosen by the group's rule
    OTHER = "other"                    # anything else: refused


def remove_from_compute(ctx: PlaneContext, compute_id: str, what: ComputeMixin, identifier: str) -> None:
    """Take a mixin (``identifier``, of the sort ``what``) off the caller's compute."""
    vm = get_compute(ctx.session, ctx.caller, compute_id)
    if what is ComputeMixin.TAG:
        tags.untag(ctx.session, ctx.caller, identifier, [compute_id])
    elif what is ComputeMixin.RESOURCE_TPL:
        vm.resource_tpl = None  # the sizes stay; they are just no longer a template's
    elif what is ComputeMixin.AFFINITY_GROUP:
        raise NotPermitted("a compute stays in the affinity group it was created in: its host was chosen by "
                           "the group's rule")
    else:
        raise NotPermitted(f"the mixin {identifier.rsplit('#', 1)[-1]} cannot be removed from a compute")
