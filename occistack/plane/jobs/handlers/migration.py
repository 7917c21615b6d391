"""The job that moves a guest to another host (started by plane/admin/migration.py).

Step 0: the target implements the guest's networks and writes its config drive (ReceiveGuest).
Step 1: the source moves the guest there and lets go of what it held (MigrateGuest).
Step 2: the move is done in the rows -- the source's CPU and memory given back, the VM on the
target, running (or stopped) again -- and the target plugs its NICs (PlugNic; what it serves
by DHCP). Step 3: the plugs answered; one that failed is told in the event log, the move stands.

Until step 2 the guest is on its source: a failure there (the target refused, the hypervisor's
migration failed or timed out) gives the target's claim back and leaves the compute as it was,
running (or stopped) on its source, with the reason as its state message. A host that was
waiting for its guests to leave before its maintenance is told when the last has.
"""

from __future__ import annotations

from occistack.hostagent.protocol import MigrateGuest, PlugNic, ReceiveGuest
from occistack.model import Host, VirtualMachine
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.plane.events import record_event
from occistack.plane.host_states import finish_maintenance_when_empty
from occistack.plane.jobs.commands import deploy_command, network_name, network_spec, nics_of
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.transitions import apply_event

#: A live migration of a large, busy guest takes a while: its step waits this long for the source.
MIGRATION_WAIT_SECONDS = 3600.0


def _name(ctx: StepContext, host_id: int) -> str:
    host = ctx.session.get(Host, host_id)
    return host.name if host is not None else str(host_id)


def migrate_vm(ctx: StepContext) -> Outcome:
    vm = ctx.session.get(VirtualMachine, ctx.job.entity_id)
    source, target = ctx.arguments["source_host_id"], ctx.arguments["target_host_id"]
    if vm is None:
        return Outcome.DONE  # deleted meanwhile; its delete gave everything back
    if ctx.step == 0:
        deploy = deploy_command(ctx.session, vm)
        ctx.send(target, ReceiveGuest(deploy.guest, networks=deploy.networks))
        return Outcome.WAIT
    if ctx.step == 1:
        received = ctx.answer(ReceiveGuest)
        if received.error is not None:
            raise StepFailed(f"host {_name(ctx, target)} could not prepare for it: {received.error}")
        nics = nics_of(ctx.session, vm.id)
        target_host = ctx.session.get(Host, target)
        ctx.send(source, MigrateGuest(
            vm.instance_name, target_host.name, target_host.address, live=bool(ctx.arguments.get("live", True)),
            copy_storage=bool(ctx.arguments.get("copy_storage", False)), macs=tuple(nic.mac for nic in nics),
            networks=tuple(sorted({network_name(nic.network_id) for nic in nics}))))
        return Outcome.WAIT
    if ctx.step == 2:
        moved = ctx.answer(MigrateGuest)
        if moved.error is not None:
            raise StepFailed(f"it could not move to host {_name(ctx, target)}: {moved.error}")
        _moved(ctx, vm, source, target)
        nics = nics_of(ctx.session, vm.id)
        for nic in nics:
            ctx.send(target, PlugNic(vm.instance_name, network_spec(ctx.session, nic.network), nic.mac,
                                     address=nic.address))
        return Outcome.WAIT if nics else Outcome.DONE
    for failed in ctx.failures():
        record_event(ctx.session, "vm.migrate", "failed", "compute", vm.id, project_id=vm.project_id,
                     job_id=ctx.job.id, description=f"moved, but a NIC could not be plugged on host "
                                                    f"{_name(ctx, target)}: {failed.error}")
    return Outcome.DONE


def _moved(ctx: StepContext, vm: VirtualMachine, source: int, target: int) -> None:
    ctx.services.placement.finish_migration(ctx.session, vm, target)
    stopped = ctx.arguments.get("was") == str(VmState.STOPPED)
    apply_event(ctx.session, vm, VM_TRANSITIONS, Event.MIGRATED_STOPPED if stopped else Event.SUCCEEDED)
    record_event(ctx.session, "vm.migrate", "completed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=f"compute {vm.title or vm.id} moved from host {_name(ctx, source)!r} "
                                                f"to {_name(ctx, target)!r} "
                                                f"({'live' if ctx.arguments.get('live') else 'cold'})")
    finish_maintenance_when_empty(ctx.session, source)


def migrate_failed(ctx: StepContext, message: str) -> None:
    vm = ctx.session.get(VirtualMachine, ctx.job.entity_id)
    target = ctx.arguments.get("target_host_id")
    if vm is None or vm.host_id == target:
        return  # gone, or it had moved before the failure (a NIC plug that timed out)
    ctx.services.placement.abandon_migration(ctx.session, vm, target)
    source_name = _name(ctx, vm.host_id) if vm.host_id is not None else "?"
    stopped = ctx.arguments.get("was") == str(VmState.STOPPED)
    told = f"migration failed: {message}; the compute stays on host {source_name}"
    if vm.state == VmState.MIGRATING:
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.MIGRATED_STOPPED if stopped else Event.FAILED, told)
    record_event(ctx.session, "vm.migrate", "failed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=told)


HANDLERS = {
    "migrate_vm": JobHandler(migrate_vm, migrate_failed, wait_seconds=MIGRATION_WAIT_SECONDS),
}
