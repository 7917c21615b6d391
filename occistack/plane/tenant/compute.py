"""The compute lifecycle: deploy, start, stop, restart, suspend, save, resize, destroy."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from occistack.model import NetworkInterface, OsTemplate, ServiceOffering, StorageLink, VirtualMachine
from occistack.model.direct_writes import insert_now
from occistack.model.occi.crtp import CRTP_SCHEME
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.plane.admin.template_copies import ready_copies, template_copy_in_zone
from occistack.plane.tenant.affinity import affinity_group_zone
from occistack.plane.tenant.bare_metal import bare_metal_action, deploy_bare_metal, is_bare_metal, refuse_links
from occistack.plane.tenant.bare_metal import refuse_resize as refuse_bare_metal_resize
from occistack.plane.caller import Caller
from occistack.plane.tenant.default_networks import default_network as default_network_in_zone
from occistack.plane.dispatch import Dispatcher, FirstCommand, Operation
from occistack.plane.tenant.deletes import refuse_if_deleting, request_delete
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, UnknownTemplate
from occistack.plane.events import record_event
from occistack.plane.jobs.handlers.common import instance_name
from occistack.plane.jobs.handlers.compute import deploy_arguments, deploy_command
from occistack.plane.identifiers import new_entity_id
from occistack.plane.limits import SiteLimits
from occistack.plane.tenant.networks import NicRequest, add_nic, get_network
from occistack.plane.quotas import check_quota
from occistack.plane.tenant.storage import DiskRequest, add_storage_link, get_volume
from occistack.plane.tenant.tags import resolve_tags
from occistack.plane.transitions import action_operation, apply_event
from occistack.plane.zones import require_same_zone, zone_id_for


@dataclass(frozen=True, slots=True)
class ComputeRequest:
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
    #: identifiers of tag-like mixins (contextualization, user mixins) to record.
    tags: tuple[str, ...] = ()
    nics: tuple[NicRequest, ...] = ()
    disks: tuple[DiskRequest, ...] = ()
    #: the affinity group (by id) whose host rules placement follows.
    affinity_group_id: int | None = None
    #: with no NIC requested: join the project's default network in the compute's zone
    #: (default_networks.py), or refuse saying how to choose one.
    pick_network: bool = True
    #: what a bare-metal compute's node boots from (see bare_metal.py); None: the default.
    boot_device: str | None = None


#: OCCI action term → (transition event, power operation for each method, default method)
POWER_ACTIONS: dict[str, tuple[Event, dict[str, str], str]] = {
    "start": (Event.START, {"": "start"}, ""),
    "stop": (Event.STOP, {"graceful": "stop", "acpioff": "stop", "poweroff": "poweroff"}, "graceful"),
    "restart": (Event.RESTART, {"graceful": "reboot", "warm": "reboot", "cold": "reset"}, "graceful"),
    "suspend": (Event.SUSPEND, {"hibernate": "suspend", "suspend": "suspend"}, "suspend"),
}


def get_compute(session: Session, caller: Caller, vm_id: str) -> VirtualMachine:
    vm = session.scalar(select(VirtualMachine).where(VirtualMachine.id == vm_id,
                                                     VirtualMachine.project_id == caller.project_id))
    if vm is None:
        raise NotFound(f"no compute /compute/{vm_id}")
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
    if template.state != "ready":
        raise Conflict(f"OS template {term!r} is {template.state} and cannot be deployed yet")
    return template


#: Built once, as the other statements of a create: building one costs more than running it.
_TEMPLATE_BY_TERM = select(OsTemplate).where(OsTemplate.term == bindparam("term"), or_(
    OsTemplate.project_id.is_(None), OsTemplate.project_id == bindparam("project")))


def deploy_compute(session: Session, caller: Caller, request: ComputeRequest, dispatcher: Dispatcher,
                   placement, limits: SiteLimits = SiteLimits()) -> VirtualMachine:
    """Check the site's limits and the quota, write the VM, its NICs and storage links in
    ``starting``/``attaching``, reserve a host and a pool for it (NoCapacity when nothing
    fits), and queue the deploy -- all in the request's transaction."""
    limits.check_nic_count(len(request.nics))
    template = find_template(session, caller, request.template_term)
    if request.cores < template.min_cores:
        raise InvalidRequest(f"OS template {template.term!r} needs at least {template.min_cores} cores")
    if request.memory_gib < template.min_memory_gib:
        raise InvalidRequest(f"OS template {template.term!r} needs at least {template.min_memory_gib:g} GiB of memory")
    offering = _offering(session, request.resource_tpl)
    # A root disk is storage of the project's as a volume is (a bare-metal node's disks are not the cloud's).
    root_gib = 0.0 if is_bare_metal(offering) else (offering.disk_gib if offering and offering.disk_gib
                                                     else template.size_gib)
    check_quota(session, caller.project_id, vms=1, cores=request.cores, memory_gib=request.memory_gib,
                storage_gib=root_gib)
    zone_id = zone_id_for(session, request.zone_name) if request.zone_name is not None else None
    if is_bare_metal(offering):
        return deploy_bare_metal(session, caller, request, template, offering, zone_id, dispatcher, placement,
                                 hostname=request.hostname or _hostname_from(request.title))
    if request.boot_device is not None:
        raise InvalidRequest("a boot device is chosen for bare-metal computes only; this compute's resource_tpl "
                             "places it on a virtual machine host")
    zone_id = _zone_of_links(session, caller, request, zone_id)
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
        affinity_group_id=request.affinity_group_id,
        user_data=request.user_data, ssh_public_key=request.ssh_public_key, state=VmState.STARTING,
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
    return vm


def _offering(session: Session, resource_tpl: str | None) -> ServiceOffering | None:
    """The site's service offering a resource_tpl identifier names (None for the CRTP sizes)."""
    if not resource_tpl or resource_tpl.startswith(CRTP_SCHEME):
        return None
    return session.scalar(select(ServiceOffering).where(ServiceOffering.term == resource_tpl.rsplit("#", 1)[-1]))


def compute_action(session: Session, vm: VirtualMachine, action: str, method: str | None,
                   dispatcher: Dispatcher) -> None:
    refuse_if_deleting(vm, "compute")
    if vm.bare_metal:
        return bare_metal_action(session, vm, action, method, dispatcher)
    event, operation = action_operation(POWER_ACTIONS, action, method)
    apply_event(session, vm, VM_TRANSITIONS, event)
    dispatcher.submit(session, Operation("power_vm", vm.id, {"operation": operation}))


def save_compute(session: Session, caller: Caller, vm: VirtualMachine, name: str | None, method: str,
                 dispatcher: Dispatcher) -> OsTemplate:
    """Save the compute's disk as a new private OS template.

    ``hot`` saves now, whatever the compute's state; ``deferred`` waits for the compute's next
    stop (at once if it is already stopped), as the OCCI 1.2 save action defines.
    """
    refuse_if_deleting(vm, "compute")
    if method not in ("hot", "deferred"):
        raise InvalidRequest(f"method {method!r} is not accepted for save; accepted: hot, deferred")
    if vm.bare_metal:
        raise InvalidRequest("a bare-metal compute cannot be saved as an OS template: its disks are its node's "
                             "own, out of the cloud's reach")
    if vm.state in (VmState.STARTING, VmState.DESTROYING, VmState.ERROR):
        raise Conflict(f"the compute is {VM_TRANSITIONS.occi_state(vm.state)} and cannot be saved now")
    source = session.get(OsTemplate, vm.template_id)
    term = name or _unused_term(session, f"{(vm.title or 'compute')}-saved")
    if session.scalar(select(OsTemplate.id).where(OsTemplate.term == term)) is not None:
        raise Conflict(f"an OS template named {term!r} already exists; choose another name")
    template = OsTemplate(
        # A title fits os_templates.title (255) even when the compute's own title is that long.
        term=term, title=f"Saved from {vm.title or vm.id}"[:255], description=f"Saved from compute {vm.id}",
        os_family=source.os_family, os_name=source.os_name, os_version=source.os_version,
        architecture=vm.architecture or source.architecture, size_gib=source.size_gib, min_cores=1,
        min_memory_gib=source.min_memory_gib, extra_attributes={}, project_id=caller.project_id,
        saved_from=vm.id, state="pending",
    )
    session.add(template)
    session.flush()
    if method == "hot" or vm.state == VmState.STOPPED:
        dispatcher.submit(session, Operation("snapshot_vm", vm.id, {"template_id": template.id}))
    return template


def resize_compute(session: Session, vm: VirtualMachine, cores: int, memory_gib: float,
                   resource_tpl: str | None, placement) -> None:
    """Change a stopped compute's size (a new resource_tpl), re-reserving on its host."""
    refuse_if_deleting(vm, "compute")
    if vm.bare_metal and ((cores, memory_gib) != (vm.cores, vm.memory_gib)
                          or resource_tpl not in (None, vm.resource_tpl)):
        refuse_bare_metal_resize(vm)
    offering = _offering(session, resource_tpl)
    if is_bare_metal(offering) and not vm.bare_metal:
        raise InvalidRequest(f"the resource_tpl {offering.term!r} is a whole bare-metal node; a virtual machine "
                             "cannot become one: create a new compute with it")
    if (cores, memory_gib) != (vm.cores, vm.memory_gib):
        if vm.state != VmState.STOPPED:
            raise Conflict(f"a compute can only be resized while stopped; it is "
                           f"{VM_TRANSITIONS.occi_state(vm.state)} — stop it first")
        check_quota(session, vm.project_id, cores=cores - vm.cores, memory_gib=memory_gib - vm.memory_gib)
        placement.resize_vm(session, vm, cores, memory_gib)
    vm.cores, vm.memory_gib, vm.resource_tpl = cores, memory_gib, resource_tpl
    vm.offering_id = offering.id if offering else None


def destroy_compute(session: Session, vm: VirtualMachine, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state (see deletes.py): the compute and its links are marked, what
    they had not started is cancelled, and the teardown is queued behind the step under way.
    A repeated delete changes nothing."""
    links = [*_nics_of(session, vm.id), *_storage_links_of(session, vm.id)]
    if not request_delete(session, vm, links):
        return
    operation = "destroy_bare_metal" if vm.bare_metal else "destroy_vm"
    job = dispatcher.submit(session, Operation(operation, vm.id), caller)
    kind = "bare-metal compute" if vm.bare_metal else "compute"
    record_event(session, "vm.destroy", "scheduled", "compute", vm.id, caller=caller, project_id=vm.project_id,
                 job_id=getattr(job, "id", None), description=f"delete of {kind} {vm.title or vm.id} requested")


def _nics_of(session: Session, vm_id: str) -> list[NetworkInterface]:
    return list(session.scalars(select(NetworkInterface).where(NetworkInterface.vm_id == vm_id)))


def _storage_links_of(session: Session, vm_id: str) -> list[StorageLink]:
    return list(session.scalars(select(StorageLink).where(StorageLink.vm_id == vm_id)))


def attach_nic(session: Session, caller: Caller, vm: VirtualMachine, request: NicRequest,
               dispatcher: Dispatcher, limits: SiteLimits = SiteLimits()) -> NetworkInterface:
    refuse_links(vm, "network links")
    refuse_if_deleting(vm, "compute")
    limits.check_nic_count(1 + session.scalar(select(func.count()).select_from(NetworkInterface)
                                              .where(NetworkInterface.vm_id == vm.id)))
    if vm.state not in (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED):
        raise Conflict(f"the compute is {vm.state}; wait until it is active or inactive to link a network")
    nic = add_nic(session, vm, request, caller)
    session.flush()
    dispatcher.submit(session, Operation("plug_nic", nic.id))
    return nic


def _zone_of_links(session: Session, caller: Caller, request: ComputeRequest, zone_id: int | None) -> int | None:
    """The compute's zone, decided once: its availability-zone mixin's (``zone_id``), else its
    links', else its affinity group's members'; None leaves it to placement. Whatever it links
    or joins must be in that zone (409 naming both zones otherwise)."""
    for nic in request.nics:
        network = get_network(session, caller, nic.network_id)
        zone_id = _in_zone(session, zone_id, network.zone_id, f"network /network/{network.id}")
    for disk in request.disks:
        volume = get_volume(session, caller, disk.volume_id)
        zone_id = _in_zone(session, zone_id, volume.zone_id, f"storage /storage/{volume.id}")
    if request.affinity_group_id is not None:
        group_zone, group_name = affinity_group_zone(session, request.affinity_group_id)
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


def _unused_term(session: Session, base: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", base).strip("-.") or "saved"
    stem = stem[:50]
    if not stem[0].isalnum():
        stem = "t" + stem
    candidate, counter = stem, 1
    while session.scalar(select(OsTemplate.id).where(OsTemplate.term == candidate)) is not None:
        counter += 1
        candidate = f"{stem}-{counter}"
    return candidate
