"""Bare-metal computes: a compute that is a whole node of a bare-metal cluster (the seed's
"BareMetal via IPMI").

How one is asked for: the administrator defines a service offering whose hypervisor is
``BareMetal`` (``occistack offering create metal-large --cores 32 --memory-gib 256 --hypervisor
BareMetal``); OCCI users see it as a resource_tpl mixin like any other, and a compute created
with it is placed on a node of a BareMetal cluster instead of on a KVM host. The mixin carries one
attribute of its own, ``occistack.compute.boot_device``, with which the user says what the node
boots from (``network`` -- PXE -- unless they say otherwise). Every other path stays as it was:
a compute without such an offering is a virtual machine on KVM.

What differs from a virtual machine, and why:

* placement reserves the node whole -- all its CPU and memory, whatever the offering asked --
  among the Up, enabled nodes that have a BMC and hold nothing; the offering's sizes are the
  least a node must have. The reservation is released when the compute is deleted (and not
  when a deploy fails: a node whose BMC failed us may be on, running whatever it booted, until
  a delete has powered it off and the BMC has confirmed it);
* the node's NICs and disks are its own hardware, so a bare-metal compute takes no network or
  storage links, and no contextualization (there is no config drive to carry it);
* the actions are what a BMC can do: start (power on from the boot device), stop (an ACPI
  power-button press, or ``poweroff`` to cut the power), restart (graceful: a button press, then
  on again; ``warm``/``cold``: a hard reset). A BMC cannot suspend a machine, nor save its disk.

The handlers that talk to the BMCs are in handlers/bare_metal.py.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from occistack.model import BARE_METAL, OsTemplate, ServiceOffering, VirtualMachine
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.plane.caller import Caller
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import InvalidRequest
from occistack.plane.events import record_event
from occistack.plane.identifiers import new_entity_id
from occistack.plane.tenant.tags import resolve_tags
from occistack.plane.transitions import action_operation, apply_event
from occistack.plane.usage import record_compute_owner

#: What a user may write as a boot device → the power driver's name for it (drivers.power
#: BOOT_DEVICES). The names are pyghmi's and ipmitool's, so whoever knows either is understood.
BOOT_DEVICE_NAMES: dict[str, str] = {
    "network": "network", "pxe": "network",
    "hd": "disk", "disk": "disk",
    "cdrom": "cdrom", "optical": "cdrom",
    "bios": "bios", "setup": "bios",
}
DEFAULT_BOOT_DEVICE = "network"

#: OCCI action term → (transition event, the power operation for each method, default method).
BARE_METAL_ACTIONS: dict[str, tuple[Event, dict[str, str], str]] = {
    "start": (Event.START, {"": "power_on"}, ""),
    "stop": (Event.STOP, {"graceful": "soft_off", "acpioff": "soft_off", "poweroff": "power_off"}, "graceful"),
    "restart": (Event.RESTART, {"graceful": "soft_restart", "warm": "reset", "cold": "reset"}, "graceful"),
}


def boot_device_for(name: str | None) -> str:
    """The power driver's name for the boot device a user wrote (the default when None)."""
    if name is None:
        return DEFAULT_BOOT_DEVICE
    device = BOOT_DEVICE_NAMES.get(name)
    if device is None:
        raise InvalidRequest(f"unknown boot device {name!r}; accepted: {', '.join(BOOT_DEVICE_NAMES)}")
    return device


def is_bare_metal(offering: ServiceOffering | None) -> bool:
    return offering is not None and offering.hypervisor == BARE_METAL


def deploy_bare_metal(session: Session, caller: Caller, request, template: OsTemplate,
                      offering: ServiceOffering, zone_id: int | None, dispatcher: Dispatcher,
                      placement, hostname: str | None = None) -> tuple[VirtualMachine, int | None]:
    """Write the compute, reserve a whole node for it (NoCapacity when none is free), and queue
    its deploy -- all in the request's transaction; the compute and its deploy job's id. ``request``
    is a compute.ComputeRequest whose quota and template checks have passed."""
    _refuse_what_a_node_cannot_take(request)
    boot_device = boot_device_for(request.boot_device)
    vm = VirtualMachine(
        id=new_entity_id(session, request.entity_id), project_id=caller.project_id, title=request.title,
        summary=request.summary, hostname=hostname, architecture=request.architecture or template.architecture,
        cores=request.cores, memory_gib=request.memory_gib, share=request.share, speed_ghz=request.speed_ghz,
        template_id=template.id, resource_tpl=request.resource_tpl, zone_id=zone_id, offering_id=offering.id,
        ha_enabled=False, bare_metal=True, boot_device=boot_device, state=VmState.STARTING,
        mixin_rows=resolve_tags(session, caller, request.tags),
    )
    placement.place_whole_host(session, vm, zone_id=zone_id, host_tags=_tags(offering.host_tags))
    session.add(vm)
    session.flush()
    record_compute_owner(session, vm, caller.user_id, None)
    job = dispatcher.submit(session, Operation("deploy_bare_metal", vm.id), caller)
    record_event(session, "vm.deploy", "scheduled", "compute", vm.id, caller=caller, job_id=getattr(job, "id", None),
                 description=f"a whole bare-metal node, booting from {boot_device}")
    return vm, getattr(job, "id", None)


def _refuse_what_a_node_cannot_take(request) -> None:
    if request.nics or request.disks:
        raise InvalidRequest("a bare-metal compute takes no links: its node's network interfaces and disks are its "
                             "own hardware; create it without Link lines (and without networkinterface or "
                             "storagelink entities pointing at it)")
    if request.user_data is not None or request.ssh_public_key is not None:
        raise InvalidRequest("a bare-metal compute takes no contextualization (user_data, ssh_key): nothing "
                             "carries it to the node; let what the node boots (e.g. its PXE installer) set it up")
    if request.affinity_group is not None:
        raise InvalidRequest("affinity groups place virtual machines on shared hosts; a bare-metal compute is a "
                             "node of its own, so it joins none")


def refuse_links(vm: VirtualMachine, what: str) -> None:
    """A link (``what``) cannot be added to a bare-metal compute: its node's hardware is fixed."""
    if vm.bare_metal:
        raise InvalidRequest(f"a bare-metal compute takes no {what}: its node's network interfaces and disks are "
                             "its own hardware")


def change_boot_device(vm: VirtualMachine, name: str) -> None:
    """What the node boots from at its next start or restart."""
    if not vm.bare_metal:
        raise InvalidRequest("a boot device is chosen for bare-metal computes only; this compute is a virtual "
                             "machine")
    vm.boot_device = boot_device_for(name)


def refuse_resize(vm: VirtualMachine) -> None:
    raise InvalidRequest("a bare-metal compute is a whole node and cannot be resized; delete it and create a "
                         "new one with another bare-metal resource_tpl")


def bare_metal_action(session: Session, vm: VirtualMachine, action: str, method: str | None,
                      dispatcher: Dispatcher) -> None:
    """Start, stop or restart the node through its BMC (see the module docstring)."""
    if action not in BARE_METAL_ACTIONS:
        raise InvalidRequest(f"a bare-metal compute cannot {action}: its BMC can only switch it on, off and "
                             f"reset it; its actions are {', '.join(BARE_METAL_ACTIONS)}")
    event, operation = action_operation(BARE_METAL_ACTIONS, action, method)
    apply_event(session, vm, VM_TRANSITIONS, event)
    dispatcher.submit(session, Operation("power_bare_metal", vm.id, {"operation": operation}))


def _tags(text: str | None) -> frozenset[str]:
    return frozenset(tag.strip() for tag in (text or "").split(",") if tag.strip())
