"""High availability: fencing a host whose agent stopped answering, and restarting its HA VMs.

A host in Alert has missed its heartbeats for a while, but silence proves nothing: the host
may still run its guests and write to their disks behind a broken management network. So a
host is presumed dead only once it has been *fenced* -- powered off through its BMC, and the
BMC has confirmed it is off. Then the host is Down, its HA-enabled VMs are placed on other
hosts and deployed there from their (shared) disks, and its other VMs are marked stopped.

A host that cannot be fenced (no BMC recorded, the BMC unreachable or refusing) is never
presumed dead: its VMs stay where they are, and an alert event and the host's state message
say why. The sweep tries again after ``GatewaySettings.fence_retry_seconds``.
"""

from __future__ import annotations

from sqlalchemy import select

from occistack.drivers.power.base import BmcAddress, BmcUnreachable, PowerError
from occistack.model import Host, VirtualMachine, utcnow
from occistack.model.states import VM_TRANSITIONS, Event, HostEvent, HostStatus, VmState
from occistack.plane.dispatch import Operation
from occistack.plane.alerts import FENCE_FAILED, HOST_DOWN, raise_alert
from occistack.plane.events import record_event
from occistack.plane.agents.gateway import move_host_status
from occistack.plane.errors import NoCapacity
from occistack.plane.sealing import SealingError
from occistack.plane.transitions import apply_event
from occistack.plane.usage import close_usage
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed

#: VM states whose guest was running on the host when it failed.
_WAS_RUNNING = (VmState.RUNNING, VmState.SUSPENDED)


def fence_host(ctx: StepContext) -> Outcome:
    session = ctx.session
    host = session.get(Host, ctx.arguments["host_id"])
    if host is None or host.status not in (HostStatus.ALERT, HostStatus.DISCONNECTED):
        return Outcome.DONE  # removed, or its agent came back meanwhile
    host.fence_attempted_at = utcnow()
    stranded = _vms_on(session, host)
    keep = f"its {len(stranded)} VM(s) stay where they are" if stranded else "it runs no VMs"
    if not host.bmc_address:
        raise StepFailed(f"host {host.name} stopped answering and cannot be fenced: no BMC is recorded for it "
                         f"('occistack host bmc {host.name} …'); {keep}")
    try:
        password = ctx.services.sealer.open(host.bmc_password_sealed or "")
        ctx.services.power.power_off(BmcAddress(host.bmc_address, port=host.bmc_port,
                                                username=host.bmc_username or "", password=password))
    except BmcUnreachable as error:
        raise StepFailed(f"host {host.name} stopped answering and cannot be fenced: its BMC at "
                         f"{host.bmc_address}:{host.bmc_port} does not answer ({error}); {keep}") from None
    except (PowerError, SealingError) as error:
        raise StepFailed(f"host {host.name} stopped answering and cannot be fenced: {error}; {keep}") from None
    move_host_status(session, host, HostEvent.FENCED)
    host.state_message = "fenced: powered off through its BMC after its heartbeats stopped"
    record_event(session, "host.fence", "completed", "host", host.id, job_id=ctx.job.id,
                 description=f"host {host.name} powered off through its BMC and marked Down")
    raise_alert(session, HOST_DOWN, "host", host.id, f"host {host.name} was fenced (powered off through its BMC) "
                f"after its heartbeats stopped; it is Down", zone_id=host.zone_id)
    for vm in stranded:
        _recover(ctx, host, vm)
    return Outcome.DONE


def _vms_on(session, host: Host) -> list[VirtualMachine]:
    return list(session.scalars(select(VirtualMachine).where(
        VirtualMachine.host_id == host.id, VirtualMachine.state.in_([str(state) for state in _WAS_RUNNING]))))


def _recover(ctx: StepContext, host: Host, vm: VirtualMachine) -> None:
    session = ctx.session
    close_usage(session, ("vm_running", "vm_allocated"), vm.id)
    if not vm.ha_enabled:
        apply_event(session, vm, VM_TRANSITIONS, Event.FOUND_STOPPED)
        vm.state_message = f"stopped: its host {host.name} failed and was fenced (this compute is not HA-enabled)"
        record_event(session, "vm.ha", "completed", "compute", vm.id, project_id=vm.project_id, job_id=ctx.job.id,
                     description=vm.state_message)
        return
    try:
        ctx.services.placement.move_vm(session, vm, avoid_hosts={host.id})
    except NoCapacity as error:
        apply_event(session, vm, VM_TRANSITIONS, Event.FOUND_ABSENT,
                    f"its host {host.name} failed and no other host can take it: {error.reason}")
        record_event(session, "vm.ha", "failed", "compute", vm.id, project_id=vm.project_id, job_id=ctx.job.id,
                     description=vm.state_message)
        return
    apply_event(session, vm, VM_TRANSITIONS, Event.HA_RESTART)
    ctx.services.dispatcher.submit(session, Operation("deploy_vm", vm.id))
    record_event(session, "vm.ha", "started", "compute", vm.id, project_id=vm.project_id, job_id=ctx.job.id,
                 description=f"restarting on host {session.get(Host, vm.host_id).name}: host {host.name} failed "
                             "and was fenced")


def fencing_failed(ctx: StepContext, message: str) -> None:
    """The alert: the host stays in Alert, its VMs where they are, and everyone can read why."""
    host = ctx.session.get(Host, ctx.arguments["host_id"])
    if host is None:
        return
    host.fence_attempted_at = utcnow()
    host.state_message = message
    record_event(ctx.session, "host.fence", "failed", "host", host.id, job_id=ctx.job.id, description=message)
    raise_alert(ctx.session, FENCE_FAILED, "host", host.id, message, zone_id=host.zone_id)


HANDLERS = {"fence_host": JobHandler(fence_host, fencing_failed)}
