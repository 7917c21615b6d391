"""Acting on a compute (start, stop, restart, suspend, save) and deleting it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, VirtualMachine
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.model.template_states import TemplateState
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.events import record_event
from occistack.plane.tenant.bare_metal import bare_metal_action
from occistack.plane.tenant.compute import get_compute
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.jobs.deletes import request_delete
from occistack.plane.jobs.commands import links_of, nics_of
from occistack.plane.transitions import action_operation, apply_event

#: action term → (transition event, power operation for each method, default method)
POWER_ACTIONS: dict[str, tuple[Event, dict[str, str], str]] = {
    "start": (Event.START, {"": "start"}, ""),
    "stop": (Event.STOP, {"graceful": "stop", "acpioff": "stop", "poweroff": "poweroff"}, "graceful"),
    "restart": (Event.RESTART, {"graceful": "reboot", "warm": "reboot", "cold": "reset"}, "graceful"),
    "suspend": (Event.SUSPEND, {"hibernate": "suspend", "suspend": "suspend"}, "suspend"),
}
SAVE = "save"
#: How a compute can be saved: now (``hot``) or at its next stop (``deferred``).
SAVE_METHODS = ("hot", "deferred")


@dataclass(frozen=True, slots=True)
class ComputeAction:
    """An action on a compute: one of :data:`POWER_ACTIONS` or ``save``."""

    term: str
    #: how (the action's default when None): a power action's method, or save's hot / deferred.
    method: str | None = None
    #: save only: the term of the OS template to make (one is made up when None).
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SavedTemplate:
    """The private OS template a save makes (in ``pending`` until the disk is copied)."""

    term: str
    title: str


def act_on_compute(ctx: PlaneContext, compute_id: str, action: ComputeAction) -> SavedTemplate | None:
    """Start, stop, restart or suspend the caller's compute, or save its disk as an OS template
    (then the template made). IllegalTransition when the action does not apply in its state."""
    vm = get_compute(ctx.session, ctx.caller, compute_id)
    if action.term == SAVE:
        template = save_compute(ctx.session, ctx.caller, vm, action.name, action.method or "hot", ctx.dispatcher)
        return SavedTemplate(template.term, template.title)
    if action.term not in POWER_ACTIONS:
        raise InvalidRequest(f"a compute cannot {action.term}; its actions are {', '.join(POWER_ACTIONS)}, {SAVE}")
    compute_action(ctx.session, vm, action.term, action.method, ctx.dispatcher)
    return None


def delete_compute(ctx: PlaneContext, compute_id: str) -> None:
    """Delete the caller's compute (see :func:`destroy_compute`)."""
    destroy_compute(ctx.session, get_compute(ctx.session, ctx.caller, compute_id), ctx.dispatcher, ctx.caller)


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
    if method not in SAVE_METHODS:
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
        saved_from=vm.id, state=str(TemplateState.PENDING),
    )
    session.add(template)
    session.flush()
    if method == "hot" or vm.state == VmState.STOPPED:
        dispatcher.submit(session, Operation("snapshot_vm", vm.id, {"template_id": template.id}))
    return template


def destroy_compute(session: Session, vm: VirtualMachine, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state (see deletes.py): the compute and its links are marked, what
    they had not started is cancelled, and the teardown is queued behind the step under way.
    A repeated delete changes nothing."""
    links = [*nics_of(session, vm.id), *links_of(session, vm.id)]
    if not request_delete(session, vm, links):
        return
    operation = "destroy_bare_metal" if vm.bare_metal else "destroy_vm"
    job = dispatcher.submit(session, Operation(operation, vm.id), caller)
    kind = "bare-metal compute" if vm.bare_metal else "compute"
    record_event(session, "vm.destroy", "scheduled", "compute", vm.id, caller=caller, project_id=vm.project_id,
                 job_id=getattr(job, "id", None), description=f"delete of {kind} {vm.title or vm.id} requested")


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
