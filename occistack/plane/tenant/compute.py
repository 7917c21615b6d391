"""Creating a compute: what a face asks for (:class:`ComputeRequest`) and :func:`create_compute`.

Changing one is compute_changes.py; acting on and deleting one, compute_actions.py; linking it
to networks and storage, links.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, ServiceOffering, TemplateShare, VirtualMachine
from occistack.model.direct_writes import insert_now
from occistack.model.occi.crtp import CRTP_SCHEME
from occistack.model.states import VmState
from occistack.model.template_states import TemplateState
from occistack.plane.template_copies import ready_copies, template_copy_in_zone
from occistack.plane.admin.affinity import affinity_group_id_for, affinity_group_zone, join_affinity_group
from occistack.plane.tenant.bare_metal import deploy_bare_metal, is_bare_metal
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.admin.default_networks import default_network as default_network_in_zone
from occistack.plane.dispatch import FirstCommand, Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, UnknownTemplate
from occistack.plane.events import record_event
from occistack.plane.jobs.commands import deploy_arguments, deploy_command, instance_name
from occistack.plane.identifiers import new_entity_id
from occistack.plane.tenant.keypairs import public_key_named
from occistack.plane.tenant.networks import get_network
from occistack.plane.tenant.nics import NicRequest, add_nic
from occistack.plane.quotas import check_quota
from occistack.plane.tenant.storage import DiskRequest, add_storage_link, get_volume
from occistack.plane.tenant.tags import resolve_tags
from occistack.plane.usage import record_compute_owner
from occistack.plane.zones import require_same_zone, zone_id_for


@dataclass(frozen=True, slots=True)
class ComputeRequest:
    """A compute to create, as a face asks for it (sizes already decided: a face's resource
    template fixes them, else the client's, else the face's defaults)."""

    template_term: str
    cores: int
    memory_gib: float
    entity_id: str | None = None
    title: str | None = None
    summary: str | None = None
    hostname: str | None = None
    architecture: str | None = None
    share: int | None = None
    speed_ghz: float | None = None
    resource_tpl: str | None = None
    zone_name: str | None = None
    user_data: str | None = None
    ssh_public_key: str | None = None
    #: the name of one of the caller's key pairs, whose public key the compute is given
    #: (instead of ``ssh_public_key``).
    key_name: str | None = None
    #: identifiers of tag-like mixins (contextualization, user mixins) to record.
    tags: tuple[str, ...] = ()
    nics: tuple[NicRequest, ...] = ()
    disks: tuple[DiskRequest, ...] = ()
    #: the name of the project's affinity group whose host rule placement follows.
    affinity_group: str | None = None
    #: with no NIC requested: join the project's default network in the compute's zone
    #: (default_networks.py), or refuse saying how to choose one.
    pick_network: bool = True
    #: what a bare-metal compute's node boots from (see bare_metal.py); None: the default.
    boot_device: str | None = None


@dataclass(frozen=True, slots=True)
class ComputeCreated:
    compute_id: str
    #: the job that deploys it (None where the dispatcher keeps no job rows).
    job_id: int | None


def get_compute(session: Session, caller: Caller, vm_id: str) -> VirtualMachine:
    """The caller's project's compute ``vm_id`` (NotFound for any other)."""
    vm = session.scalar(select(VirtualMachine).where(VirtualMachine.id == vm_id,
                                                     VirtualMachine.project_id == caller.project_id))
    if vm is None:
        raise NotFound(f"no compute {vm_id}")
    return vm


def find_template(session: Session, caller: Caller, term: str) -> OsTemplate:
    template = session.scalar(_TEMPLATE_BY_TERM, {"term": term, "project": caller.project_id})
    if template is None:
        # A create naming a template it cannot use is malformed (400), not a missing resource.
        raise UnknownTemplate(f"no OS template {term!r}; GET /os_tpl/ or /-/ lists the templates")
    if template.format != "template":
        # An ISO boots an installer or a rescue system; it is no disk to make a compute from.
        raise InvalidRequest(f"{term!r} is an ISO image, not an OS template: a compute cannot be deployed from it; "
                             "GET /os_tpl/ lists the templates")
    if template.state != TemplateState.READY:
        raise Conflict(f"OS template {term!r} is {template.state} and cannot be deployed yet")
    return template


#: Built once, as the other statements of a create: building one costs more than running it.
#: A project may use the public templates, its own, and those shared with it.
_TEMPLATE_BY_TERM = select(OsTemplate).where(OsTemplate.term == bindparam("term"), or_(
    OsTemplate.project_id.is_(None), OsTemplate.project_id == bindparam("project"),
    OsTemplate.id.in_(select(TemplateShare.template_id).where(TemplateShare.project_id == bindparam("project")))))


def create_compute(ctx: PlaneContext, request: ComputeRequest) -> ComputeCreated:
    """Check the site's limits and the quota, write the VM, its NICs and storage links in
    ``starting``/``attaching``, reserve a host and a pool for it (NoCapacity when nothing
    fits), and queue the deploy -- all in the context's transaction."""
    session, caller, dispatcher, placement = ctx.session, ctx.caller, ctx.dispatcher, ctx.placement
    request = _with_named_key(session, caller, request)
    group_id = (affinity_group_id_for(session, caller.project_id, request.affinity_group)
                if request.affinity_group is not None else None)
    ctx.limits.check_nic_count(len(request.nics))
    template = find_template(session, caller, request.template_term)
    if request.cores < template.min_cores:
        raise InvalidRequest(f"OS template {template.term!r} needs at least {template.min_cores} cores")
    if request.memory_gib < template.min_memory_gib:
        raise InvalidRequest(f"OS template {template.term!r} needs at least {template.min_memory_gib:g} GiB of memory")
    offering = offering_named(session, request.resource_tpl)
    # A root disk is storage of the project's as a volume is (a bare-metal node's disks are not the cloud's).
    root_gib = 0.0 if is_bare_metal(offering) else (offering.disk_gib if offering and offering.disk_gib
                                                     else template.size_gib)
    check_quota(session, caller.project_id, vms=1, cores=request.cores, memory_gib=request.memory_gib,
                storage_gib=root_gib)
    if group_id is not None:
        join_affinity_group(session, group_id)  # after the project's row: model/contention.py's order
    zone_id = zone_id_for(session, request.zone_name) if request.zone_name is not None else None
    if is_bare_metal(offering):
        vm, job_id = deploy_bare_metal(session, caller, request, template, offering, zone_id, dispatcher, placement,
                                       hostname=request.hostname or _hostname_from(request.title))
        return ComputeCreated(vm.id, job_id)
    if request.boot_device is not None:
        raise InvalidRequest("a boot device is chosen for bare-metal computes only; this compute's resource_tpl "
                             "places it on a virtual machine host")
    zone_id = _zone_of_links(session, caller, request, zone_id, group_id)
    copies = ready_copies(session, template)
    if zone_id is None and len(copies) == 1:
        # Nothing else decides the zone, and one zone alone holds the template: placement
        # chooses there rather than in a zone the compute could not boot in.
        zone_id = copies[0].zone_id
    vm = VirtualMachine(
        id=new_entity_id(session, request.entity_id), project_id=caller.project_id, title=request.title,
        summary=request.summary, hostname=request.hostname or _hostname_from(request.title),
        architecture=request.architecture or template.architecture, cores=request.cores,
        memory_gib=request.memory_gib, share=request.share, speed_ghz=request.speed_ghz,
        template_id=template.id, resource_tpl=request.resource_tpl, zone_id=zone_id,
        offering_id=offering.id if offering else None, ha_enabled=bool(offering and offering.ha_enabled),
        affinity_group_id=group_id,
        user_data=request.user_data, ssh_public_key=request.ssh_public_key, key_name=request.key_name,
        state=VmState.STARTING,
        mixin_rows=resolve_tags(session, caller, request.tags),
    )
    vm.instance_name = instance_name(vm)
    # Planned before the row is written, so that its host and pool go into the same INSERT;
    # claimed last (see PlacementService.plan_vm).
    planned = placement.plan_vm(session, vm, zone_id=zone_id, disk_gib=root_gib)
    if zone_id is None and vm.zone_id is not None:
        # Placement decided the zone: a claim that has to choose again stays in it, with the
        # default network chosen there.
        planned = replace(planned, request=replace(planned.request, zone_id=vm.zone_id))
    copy = template_copy_in_zone(session, template, vm.zone_id, copies)  # 409 unless the compute's zone has it
    insert_now(session, vm)
    record_compute_owner(session, vm, caller.user_id, root_gib)
    # The default network stays referenced here: the session's identity map holds objects only
    # weakly, and add_nic finds it there instead of reading it again.
    default_network = (None if request.nics or not request.pick_network
                       else default_network_in_zone(session, caller, vm.zone_id))
    requested_nics = request.nics or ((NicRequest(network_id=default_network.id),) if default_network else ())
    nics = [add_nic(session, vm, nic, caller, interface=f"eth{index}") for index, nic in enumerate(requested_nics)]
    links = [add_storage_link(session, vm, disk, caller) for disk in request.disks]
    command = deploy_command(session, vm, template, nics, links, copy)
    session.flush()
    placement.claim_vm(session, vm, planned)  # may choose another host, if the planned one filled up
    # The request has every row of the deploy's first step at hand: it writes the command for
    # the host itself, and no worker needs to run that step.
    job = dispatcher.submit_waiting(session, Operation("deploy_vm", vm.id, deploy_arguments(vm, template, nics, links)),
                                    [FirstCommand(vm.host_id, command)], caller)
    record_event(session, "vm.deploy", "scheduled", "compute", vm.id, caller=caller,
                 job_id=getattr(job, "id", None),
                 description=f"compute {vm.title or vm.id} requested: {vm.cores} cores, {vm.memory_gib:g} GiB, "
                             f"OS template {template.term}")
    return ComputeCreated(vm.id, getattr(job, "id", None))


def _with_named_key(session: Session, caller: Caller, request: ComputeRequest) -> ComputeRequest:
    """The request with the public key of the key pair it names: copied, so the compute keeps
    it (and its config drive carries it) whatever becomes of the key pair."""
    if request.key_name is None:
        return request
    if request.ssh_public_key is not None:
        raise InvalidRequest("give a compute either a public key or the name of one of your key pairs, not both")
    try:
        key = public_key_named(session, caller, request.key_name)
    except NotFound as error:
        # A create naming a key pair it cannot use is malformed (400), as one naming an unknown
        # OS template is.
        raise InvalidRequest(str(error)) from None
    return replace(request, ssh_public_key=key)


def offering_named(session: Session, resource_tpl: str | None) -> ServiceOffering | None:
    """The site's service offering a resource_tpl identifier names (None for the CRTP sizes)."""
    if not resource_tpl or resource_tpl.startswith(CRTP_SCHEME):
        return None
    return session.scalar(select(ServiceOffering).where(ServiceOffering.term == resource_tpl.rsplit("#", 1)[-1]))


def _zone_of_links(session: Session, caller: Caller, request: ComputeRequest, zone_id: int | None,
                   group_id: int | None) -> int | None:
    """The compute's zone, decided once: its availability-zone mixin's (``zone_id``), else its
    links', else its affinity group's members'; None leaves it to placement. Whatever it links
    or joins must be in that zone (409 naming both zones otherwise)."""
    for nic in request.nics:
        network = get_network(session, caller, nic.network_id)
        zone_id = _in_zone(session, zone_id, network.zone_id, f"network {network.id}")
    for disk in request.disks:
        volume = get_volume(session, caller, disk.volume_id)
        zone_id = _in_zone(session, zone_id, volume.zone_id, f"storage {volume.id}")
    if group_id is not None:
        group_zone, group_name = affinity_group_zone(session, group_id)
        zone_id = _in_zone(session, zone_id, group_zone,
                           f"affinity group {group_name!r}, which holds computes of one zone,")
    return zone_id


def _in_zone(session: Session, zone_id: int | None, thing_zone_id: int | None, what: str) -> int | None:
    if zone_id is None:
        return thing_zone_id
    require_same_zone(session, zone_id, thing_zone_id, what)
    return zone_id


def _hostname_from(title: str | None) -> str | None:
    if not title:
        return None
    # rOCCI-cli defaults the hostname to the title; make that a valid host name.
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", title).strip("-").lower()
    return cleaned[:63] or None
