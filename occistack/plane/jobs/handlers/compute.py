"""Job handlers of the compute lifecycle: deploy, power actions, save, destroy.

A VM was placed when its request was accepted (its host and pool are reserved on the rows);
these handlers carry the change out on that host's agent and apply the outcome. A deploy that
fails on its host is retried on another one, avoiding every host that failed it, until no
host is left or the attempts run out.
"""

from __future__ import annotations

from sqlalchemy import select

from occistack.hostagent.protocol import (DeployGuest, DestroyGuest, PowerGuest,
                                          SnapshotGuest, SnapshotSaved)
from occistack.model import Host, NetworkInterface, OsTemplate, StorageLink, TemplateCopy, VirtualMachine
from occistack.model.states import LINK_TRANSITIONS, VM_TRANSITIONS, Event, LinkState, VmState
from occistack.model.template_states import (TEMPLATE_COPY_TRANSITIONS, TEMPLATE_TRANSITIONS, TemplateCopyEvent,
                                             TemplateCopyState, TemplateEvent, TemplateState)
from occistack.plane.host_states import finish_maintenance_when_empty
from occistack.plane.template_copies import (charge_secondary_storage, first_secondary_storage, move_copy, move_template,
                                             secondary_path_of)
from occistack.plane.jobs.deletes import (
    abandon_deferred_saves,
    begin_teardown,
    clear_delete_request,
    fail_waiting_deletes,
    submit_waiting_deletes,
)
from occistack.plane.events import record_event
from occistack.plane.errors import NoCapacity
from occistack.plane.transitions import apply_event, apply_event_where
from occistack.plane.usage import close_usage, offering_term, open_template_usage, open_usage
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed, sent_command, typed_result
from occistack.plane.jobs.commands import deploy_command, links_of, network_name, nics_of, secondary_url, volume_name
from occistack.plane.jobs.handlers.common import delete_entities

vms, nics_table, storage_links_table = VirtualMachine.__table__, NetworkInterface.__table__, StorageLink.__table__

#: How many hosts a deploy tries before it gives up.
DEPLOY_ATTEMPTS = 3


def _vm(ctx: StepContext) -> VirtualMachine | None:
    return ctx.session.get(VirtualMachine, ctx.job.entity_id)


def _host_name(ctx: StepContext, host_id: int | None) -> str:
    host = ctx.session.get(Host, host_id) if host_id is not None else None
    return host.name if host else "?"


# --- deploy ----------------------------------------------------------------------------------

def deploy_vm(ctx: StepContext) -> Outcome:
    # Step 0 is usually taken by the request that accepted the VM (it writes the command);
    # a worker runs it when the job had to wait behind another, and for HA restarts.
    if ctx.step > 0 and ctx.answer(DeployGuest).error is None:
        _deployed(ctx)
        return Outcome.DONE
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE  # deleted before it was deployed
    if ctx.step == 0:
        if vm.host_id is None:
            raise StepFailed("no host was reserved for it")
        ctx.send(vm.host_id, deploy_command(ctx.session, vm))
        return Outcome.WAIT
    answer = ctx.answer(DeployGuest)
    failed_on = _host_name(ctx, vm.host_id)
    if vm.delete_requested_at is not None:
        raise StepFailed(f"deploy failed on host {failed_on}: {answer.error} (not retried: the compute is being "
                         "deleted)")
    avoided = [*ctx.progress().get("avoid_hosts", []), vm.host_id]
    tried = len(avoided)
    if tried >= DEPLOY_ATTEMPTS:
        raise StepFailed(f"deploy failed on host {failed_on}: {answer.error} (tried {tried} hosts)")
    try:
        ctx.services.placement.move_vm(ctx.session, vm, avoid_hosts=set(avoided))
    except NoCapacity as error:
        raise StepFailed(f"deploy failed on host {failed_on}: {answer.error}; no other host can take it: "
                         f"{error.reason}") from None
    ctx.progress(avoid_hosts=avoided)
    record_event(ctx.session, "vm.deploy", "started", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=f"retrying on host {_host_name(ctx, vm.host_id)} after "
                                                 f"{failed_on} failed: {answer.error}")
    ctx.send(vm.host_id, deploy_command(ctx.session, vm))
    return Outcome.WAIT


def _deployed(ctx: StepContext) -> None:
    """Running: the VM and its links move by SUCCEEDED (one conditional UPDATE per table,
    nothing loaded), the usage intervals open, the event is written."""
    session, vm_id = ctx.session, ctx.job.entity_id
    moved = apply_event_where(session, vms, "id", vm_id, VM_TRANSITIONS, VmState.STARTING, Event.SUCCEEDED)
    usage = ctx.arguments.get("usage")
    if not moved or usage is None:
        vm = _vm(ctx)
        if vm is None:
            return  # deleted meanwhile
        if not moved:
            apply_event(session, vm, VM_TRANSITIONS, Event.SUCCEEDED)  # says why, if it cannot
        usage = {"project_id": vm.project_id, "zone_id": vm.zone_id, "cores": vm.cores,
                 "memory_gib": vm.memory_gib, "template": session.get(OsTemplate, vm.template_id).term,
                 "offering": offering_term(session, vm)}
    # The request that accepted the VM says which kinds of links it has; without that, both.
    for table in (nics_table, storage_links_table):
        if table.name in ctx.arguments.get("links", (table.name,)):
            apply_event_where(session, table, "vm_id", vm_id, LINK_TRANSITIONS, LinkState.ATTACHING,
                              Event.SUCCEEDED)
    open_usage(session, ("vm_allocated", "vm_running"), vm_id, usage["project_id"], zone_id=usage["zone_id"],
               cores=usage["cores"], memory_gib=usage["memory_gib"], description=usage["template"],
               offering=usage.get("offering"))
    record_event(session, "vm.deploy", "completed", "compute", vm_id, project_id=usage["project_id"],
                 job_id=ctx.job.id, description=f"compute deployed from OS template {usage['template']}")


def deploy_failed(ctx: StepContext, message: str) -> None:
    vm = _vm(ctx)
    if vm is None:
        return
    if VM_TRANSITIONS.allows(vm.state, Event.FAILED):
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.FAILED, f"deploy failed: {message}")
    # A VM that never ran holds no host: give its reservation back.
    ctx.services.placement.release_vm(ctx.session, vm)
    for link in [*_nics(ctx, vm.id), *_storage_links(ctx, vm.id)]:
        if link.state == LinkState.ATTACHING:
            apply_event(ctx.session, link, LINK_TRANSITIONS, Event.FAILED, "the compute failed to deploy")
    record_event(ctx.session, "vm.deploy", "failed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=message)


# --- power actions and save ----------------------------------------------------------------

def power_vm(ctx: StepContext) -> Outcome:
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE
    operation = ctx.arguments["operation"]
    if ctx.step == 0:
        ctx.send(vm.host_id, PowerGuest(vm.instance_name, operation))
        return Outcome.WAIT
    if ctx.step == 1:
        answer = ctx.answer(PowerGuest)
        if answer.error is not None:
            raise StepFailed(f"{operation} failed: {answer.error}")
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
        if vm.state == VmState.RUNNING:
            close_usage(ctx.session, "vm_running", vm.id)
            open_usage(ctx.session, "vm_running", vm.id, vm.project_id, zone_id=vm.zone_id, cores=vm.cores,
                       memory_gib=vm.memory_gib, offering=offering_term(ctx.session, vm))
        else:
            close_usage(ctx.session, "vm_running", vm.id)
        record_event(ctx.session, f"vm.{operation}", "completed", "compute", vm.id, project_id=vm.project_id,
                     job_id=ctx.job.id, description=f"{operation} done; the compute is "
                                                    f"{VM_TRANSITIONS.occi_state(vm.state)}")
        if vm.state == VmState.STOPPED and _send_deferred_snapshots(ctx, vm):
            return Outcome.WAIT
        return Outcome.DONE
    _saved(ctx)  # step 2: the deferred snapshots taken at the stop
    return Outcome.DONE


def power_failed(ctx: StepContext, message: str) -> None:
    vm = _vm(ctx)
    if vm is not None and VM_TRANSITIONS.allows(vm.state, Event.FAILED):
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.FAILED, message)
    record_event(ctx.session, f"vm.{ctx.arguments.get('operation', 'power')}", "failed", "compute",
                 ctx.job.entity_id, project_id=vm.project_id if vm else None, job_id=ctx.job.id,
                 description=message)


def _send_deferred_snapshots(ctx: StepContext, vm: VirtualMachine) -> bool:
    pending = ctx.session.scalars(select(OsTemplate).where(OsTemplate.saved_from == vm.id,
                                                           OsTemplate.state == str(TemplateState.PENDING))).all()
    for template in pending:
        ctx.send(vm.host_id, _snapshot_command(ctx.session, vm, template))
    return bool(pending)


def _snapshot_command(session, vm: VirtualMachine, template: OsTemplate) -> SnapshotGuest:
    """Save the guest's disk as ``template``'s image; where the VM's zone has secondary
    storage, the host also copies it there, so that every host of the zone can deploy it
    (without one, the image stays on the host that saved it)."""
    destination = None
    copy = session.scalar(select(TemplateCopy).where(TemplateCopy.template_id == template.id,
                                                     TemplateCopy.zone_id == vm.zone_id))
    if copy is None:
        copy = TemplateCopy(template_id=template.id, zone_id=vm.zone_id, state=str(TemplateCopyState.PENDING))
        session.add(copy)
    store = first_secondary_storage(session, vm.zone_id)
    if store is not None:
        copy.secondary_storage_id, copy.secondary_path = store.id, secondary_path_of(template)
        destination = secondary_url(store.url, copy.secondary_path)
    return SnapshotGuest(vm.instance_name, template.term, template_id=template.id, destination=destination)


def snapshot_vm(ctx: StepContext) -> Outcome:
    vm = _vm(ctx)
    template = ctx.session.get(OsTemplate, ctx.arguments["template_id"])
    if vm is None or template is None:
        raise StepFailed("the compute or its new template went away before it was saved")
    if ctx.step == 0:
        ctx.send(vm.host_id, _snapshot_command(ctx.session, vm, template))
        return Outcome.WAIT
    _saved(ctx)
    return Outcome.DONE


def _saved(ctx: StepContext) -> None:
    for command in ctx.answers:
        template = ctx.session.get(OsTemplate, sent_command(command).template_id)
        if template is None:
            continue
        copy = ctx.session.scalar(select(TemplateCopy).where(TemplateCopy.template_id == template.id))
        if command.error is None:
            copied: SnapshotSaved = typed_result(command, SnapshotGuest)
            if copied.checksum and copy is not None and copy.secondary_storage_id is not None:
                # In secondary storage now: any host of the zone makes root disks from it.
                template.checksum = copied.checksum
                template.size_gib = max(template.size_gib, copied.size_gib or 0.0)
                charge_secondary_storage(ctx.session, copy.secondary_storage_id, template.size_gib)
            elif copy is not None:
                # The image stays on the host that saved it; the zone still has the template.
                copy.secondary_storage_id = copy.secondary_path = None
            if copy is not None:
                move_copy(ctx.session, copy, TemplateCopyEvent.SUCCEEDED)
                copy.progress, copy.size_gib = 100, template.size_gib
                if copy.secondary_storage_id is not None:
                    open_template_usage(ctx.session, copy, template)
            move_template(ctx.session, template, TemplateEvent.SAVED)
            record_event(ctx.session, "template.save", "completed", "template", template.id,
                         project_id=template.project_id, job_id=ctx.job.id,
                         description=f"OS template {template.term!r} saved from compute {ctx.job.entity_id}")
        else:
            move_template(ctx.session, template, TemplateEvent.SAVE_FAILED)
            template.description = f"saving failed: {command.error}"
            if copy is not None:
                move_copy(ctx.session, copy, TemplateCopyEvent.FAILED, template.description)


def snapshot_failed(ctx: StepContext, message: str) -> None:
    template = ctx.session.get(OsTemplate, ctx.arguments.get("template_id"))
    # Only a template still being saved: one a delete gave up on already says why.
    if template is not None and TEMPLATE_TRANSITIONS.allows(template.state, TemplateEvent.SAVE_FAILED):
        move_template(ctx.session, template, TemplateEvent.SAVE_FAILED)
        template.description = f"saving failed: {message}"
        for copy in ctx.session.scalars(select(TemplateCopy).where(TemplateCopy.template_id == template.id)).all():
            if TEMPLATE_COPY_TRANSITIONS.allows(copy.state, TemplateCopyEvent.FAILED):
                move_copy(ctx.session, copy, TemplateCopyEvent.FAILED, template.description)


# --- destroy ---------------------------------------------------------------------------------

def destroy_vm(ctx: StepContext) -> Outcome:
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE
    nics, links = _nics(ctx, vm.id), _storage_links(ctx, vm.id)
    if ctx.step == 0:
        # Queued behind whatever step was under way when the delete came: from its state now.
        begin_teardown(ctx.session, vm, VM_TRANSITIONS, Event.DESTROY)
    if ctx.step == 0 and vm.instance_name and vm.host_id is not None:
        ctx.send(vm.host_id, DestroyGuest(vm.instance_name,
                                          volumes=tuple(volume_name(link.volume_id) for link in links),
                                          macs=tuple(nic.mac for nic in nics),
                                          networks=tuple(sorted({network_name(nic.network_id) for nic in nics}))))
        return Outcome.WAIT
    if ctx.step > 0:
        answer = ctx.answer(DestroyGuest)
        if answer.error is not None:
            raise StepFailed(f"destroy failed: {answer.error}")
    host_id = vm.host_id
    ctx.services.placement.release_vm(ctx.session, vm)
    close_usage(ctx.session, ("vm_running", "vm_allocated"), vm.id)
    for nic in nics:
        close_usage(ctx.session, "public_ip", nic.id)
    abandon_deferred_saves(ctx.session, vm.id)
    record_event(ctx.session, "vm.destroy", "completed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=f"compute {vm.title or vm.id} deleted")
    # A resource's links are part of it (GFD.221 composition): they go with it.
    delete_entities(ctx.session, [link.id for link in [*nics, *links]] + [vm.id])
    # Volumes and networks whose delete waited for this compute to let go of them go now.
    submit_waiting_deletes(ctx.session, volume_ids=[link.volume_id for link in links],
                           network_ids=[nic.network_id for nic in nics])
    finish_maintenance_when_empty(ctx.session, host_id)
    return Outcome.DONE


def destroy_failed(ctx: StepContext, message: str) -> None:
    vm = _vm(ctx)
    if vm is not None:
        compute_delete_failed(ctx.session, vm, message)
    record_event(ctx.session, "vm.destroy", "failed", "compute", ctx.job.entity_id,
                 project_id=vm.project_id if vm else None, job_id=ctx.job.id, description=message)


def compute_delete_failed(session, vm: VirtualMachine, message: str) -> None:
    """The compute stays, in error with the reason, no longer being deleted (a DELETE retries);
    its links stay with it, and the deletes that waited for it to let go of a volume or a
    network fail too."""
    begin_teardown(session, vm, VM_TRANSITIONS, Event.DESTROY)
    apply_event(session, vm, VM_TRANSITIONS, Event.FAILED, message)
    links = [*nics_of(session, vm.id), *links_of(session, vm.id)]
    for row in [vm, *links]:
        clear_delete_request(session, row)
    fail_waiting_deletes(session, f"its compute {vm.id} could not be deleted: {message}",
                         volume_ids=[link.volume_id for link in links if isinstance(link, StorageLink)],
                         network_ids=[link.network_id for link in links if isinstance(link, NetworkInterface)])


def _nics(ctx: StepContext, vm_id: str) -> list[NetworkInterface]:
    return nics_of(ctx.session, vm_id)


def _storage_links(ctx: StepContext, vm_id: str) -> list[StorageLink]:
    return links_of(ctx.session, vm_id)


HANDLERS = {
    "deploy_vm": JobHandler(deploy_vm, deploy_failed),
    "power_vm": JobHandler(power_vm, power_failed),
    "snapshot_vm": JobHandler(snapshot_vm, snapshot_failed),
    "destroy_vm": JobHandler(destroy_vm, destroy_failed),
}
