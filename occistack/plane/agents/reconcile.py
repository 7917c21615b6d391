"""Reconciliation: the database brought in line with what a host reports of its guests.

Every heartbeat of an agent may carry the states of all its guests (read with one bulk
hypervisor call). A guest powered off from inside, paused or started by hand on the host, or
gone altogether, moves its VM by the transition table's ``found_*`` events, with a state
message that says what was seen, an event record, and its running-usage interval closed or
opened. VMs in a transitional state, or with a job under way, are left alone: their job will
bring them to a stable state itself, and its reading of the host is newer than a heartbeat's.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from occistack.model import Job, VirtualMachine
from occistack.model.jobs import UNFINISHED
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.plane.events import record_event
from occistack.plane.transitions import apply_event
from occistack.plane.usage import close_usage, open_usage

_STABLE = (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED)
#: reported guest state → (the VM state it means, the event that moves a VM there).
_OBSERVED = {
    "running": (VmState.RUNNING, Event.FOUND_RUNNING),
    "stopped": (VmState.STOPPED, Event.FOUND_STOPPED),
    "suspended": (VmState.SUSPENDED, Event.FOUND_SUSPENDED),
    "absent": (None, Event.FOUND_ABSENT),
}


def reconcile_host(session: Session, host_id: int, host_name: str, guests: dict[str, str]) -> list[str]:
    """Apply a host's report; the ids of the VMs that moved."""
    busy = exists().where(Job.entity_id == VirtualMachine.id, Job.state.in_([str(s) for s in UNFINISHED]))
    vms = session.scalars(select(VirtualMachine).where(
        VirtualMachine.host_id == host_id, VirtualMachine.state.in_([str(s) for s in _STABLE]),
        VirtualMachine.instance_name.is_not(None), ~busy)).all()
    moved = []
    for vm in vms:
        reported = guests.get(vm.instance_name, "absent")
        target, event = _OBSERVED.get(reported, (None, None))
        if event is None or target == vm.state:
            continue
        message = (f"the guest {vm.instance_name} is no longer defined on host {host_name}"
                   if target is None else f"host {host_name} reports the guest {reported}, outside any request")
        apply_event(session, vm, VM_TRANSITIONS, event, message if target is None else None)
        close_usage(session, "vm_running", vm.id)
        if vm.state == VmState.RUNNING:
            open_usage(session, "vm_running", vm.id, vm.project_id, zone_id=vm.zone_id, cores=vm.cores,
                       memory_gib=vm.memory_gib)
        record_event(session, "vm.reconcile", "completed", "compute", vm.id, actor=f"agent:{host_name}",
                     project_id=vm.project_id, description=message)
        moved.append(vm.id)
    return moved
