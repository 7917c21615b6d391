"""Job handlers of the compute lifecycle: deploy, power actions, save, destroy.

A VM was placed when its request was accepted (its host and pool are reserved on the rows);
these handlers carry the change out on that host's agent and apply the outcome. A deploy that
fails on its host is retried on another one, avoiding every host that failed it, until no
host is left or the attempts run out.
"""

from __future__ import annotations

from sqlalchemy import select

from ...model import Host, Network, NetworkInterface, OsTemplate, StorageLink, VirtualMachine
from ...model.states import LINK_TRANSITIONS, VM_TRANSITIONS, Event, LinkState, VmState
from ..admin.hosts import finish_maintenance_when_empty
from ..events import record_event
from ..placement import NoCapacity
from ..transitions import apply_event
from ..usage import close_usage, open_usage
from .base import JobHandler, Outcome, StepContext, StepFailed
from .common import delete_entities, instance_name, network_name, network_spec, volume_name

#: How many hosts a deploy tries before it gives up.
DEPLOY_ATTEMPTS = 3


def _vm(ctx: StepContext) -> VirtualMachine | None:
    return ctx.session.get(VirtualMachine, ctx.job.entity_id)


def _host_name(ctx: StepContext, host_id: int | None) -> str:
    host = ctx.session.get(Host, host_id) if host_id is not None else None
    return host.name if host else "?"


# --- deploy ----------------------------------------------------------------------------------

def deploy_vm(ctx: StepContext) -> Outcome:
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE  # deleted before it was deployed
    if ctx.step == 0:
        if vm.host_id is None:
            raise StepFailed("no host was reserved for it")
        _send_deploy(ctx, vm)
        return Outcome.WAIT
    answer = ctx.answer("deploy_guest")
    if answer.error is None:
        _deployed(ctx, vm)
        return Outcome.DONE
    failed_on = _host_name(ctx, vm.host_id)
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
    _send_deploy(ctx, vm)
    return Outcome.WAIT


def _send_deploy(ctx: StepContext, vm: VirtualMachine) -> None:
    session = ctx.session
    template = session.get(OsTemplate, vm.template_id)
    nics = _nics(ctx, vm.id)
    links = _storage_links(ctx, vm.id)
    vm.instance_name = vm.instance_name or instance_name(vm)
    networks = {nic.network_id: network_spec(session, session.get(Network, nic.network_id)) for nic in nics}
    guest = {
        "name": vm.instance_name, "cores": vm.cores, "memory_mib": int(round(vm.memory_gib * 1024)),
        "image": template.term, "architecture": vm.architecture or "x64", "hostname": vm.hostname,
        "user_data": vm.user_data, "ssh_public_key": vm.ssh_public_key,
        "nics": [[nic.mac, network_name(nic.network_id)] for nic in nics],
        "disks": [[volume_name(link.volume_id), link.device_id] for link in links],
    }
    ctx.send(vm.host_id, "deploy_guest", {
        "guest": guest, "networks": list(networks.values()),
        "volumes": [{"name": volume_name(link.volume_id), "device": link.device_id} for link in links],
    })


def _deployed(ctx: StepContext, vm: VirtualMachine) -> None:
    apply_event(ctx.session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
    for link in [*_nics(ctx, vm.id), *_storage_links(ctx, vm.id)]:
        if link.state == LinkState.ATTACHING:
            apply_event(ctx.session, link, LINK_TRANSITIONS, Event.SUCCEEDED)
    template = ctx.session.get(OsTemplate, vm.template_id)
    for usage_type in ("vm_allocated", "vm_running"):
        open_usage(ctx.session, usage_type, vm.id, vm.project_id, zone_id=vm.zone_id, cores=vm.cores,
                   memory_gib=vm.memory_gib, description=template.term if template else None)
    record_event(ctx.session, "vm.deploy", "completed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=f"running on host {_host_name(ctx, vm.host_id)}")


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
        ctx.send(vm.host_id, "power_guest", {"name": vm.instance_name, "operation": operation})
        return Outcome.WAIT
    if ctx.step == 1:
        answer = ctx.answer("power_guest")
        if answer.error is not None:
            raise StepFailed(f"{operation} failed: {answer.error}")
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
        if vm.state == VmState.RUNNING:
            close_usage(ctx.session, "vm_running", vm.id)
            open_usage(ctx.session, "vm_running", vm.id, vm.project_id, zone_id=vm.zone_id, cores=vm.cores,
                       memory_gib=vm.memory_gib)
        else:
            close_usage(ctx.session, "vm_running", vm.id)
        record_event(ctx.session, f"vm.{operation}", "completed", "compute", vm.id, project_id=vm.project_id,
                     job_id=ctx.job.id)
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
                                                           OsTemplate.state == "pending")).all()
    for template in pending:
        ctx.send(vm.host_id, "snapshot_guest", {"name": vm.instance_name, "image": template.term,
                                                "template_id": template.id})
    return bool(pending)


def snapshot_vm(ctx: StepContext) -> Outcome:
    vm = _vm(ctx)
    template = ctx.session.get(OsTemplate, ctx.arguments["template_id"])
    if vm is None or template is None:
        raise StepFailed("the compute or its new template went away before it was saved")
    if ctx.step == 0:
        ctx.send(vm.host_id, "snapshot_guest", {"name": vm.instance_name, "image": template.term,
                                                "template_id": template.id})
        return Outcome.WAIT
    _saved(ctx)
    return Outcome.DONE


def _saved(ctx: StepContext) -> None:
    for command in ctx.answers:
        template = ctx.session.get(OsTemplate, command.payload["template_id"])
        if template is None:
            continue
        if command.error is None:
            template.state = "ready"
            record_event(ctx.session, "template.save", "completed", "template", template.id,
                         project_id=template.project_id, job_id=ctx.job.id)
        else:
            template.state = "error"
            template.description = f"saving failed: {command.error}"


def snapshot_failed(ctx: StepContext, message: str) -> None:
    template = ctx.session.get(OsTemplate, ctx.arguments.get("template_id"))
    if template is not None:
        template.state = "error"
        template.description = f"saving failed: {message}"


# --- destroy ---------------------------------------------------------------------------------

def destroy_vm(ctx: StepContext) -> Outcome:
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE
    nics, links = _nics(ctx, vm.id), _storage_links(ctx, vm.id)
    if ctx.step == 0 and vm.instance_name and vm.host_id is not None:
        ctx.send(vm.host_id, "destroy_guest", {"name": vm.instance_name,
                                               "volumes": [volume_name(link.volume_id) for link in links],
                                               "macs": [nic.mac for nic in nics]})
        return Outcome.WAIT
    if ctx.step > 0:
        answer = ctx.answer("destroy_guest")
        if answer.error is not None:
            raise StepFailed(f"destroy failed: {answer.error}")
    host_id = vm.host_id
    ctx.services.placement.release_vm(ctx.session, vm)
    close_usage(ctx.session, ("vm_running", "vm_allocated"), vm.id)
    for nic in nics:
        close_usage(ctx.session, "public_ip", nic.id)
    record_event(ctx.session, "vm.destroy", "completed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id)
    # A resource's links are part of it (GFD.221 composition): they go with it.
    delete_entities(ctx.session, [link.id for link in [*nics, *links]] + [vm.id])
    finish_maintenance_when_empty(ctx.session, host_id)
    return Outcome.DONE


def destroy_failed(ctx: StepContext, message: str) -> None:
    vm = _vm(ctx)
    if vm is not None and VM_TRANSITIONS.allows(vm.state, Event.FAILED):
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.FAILED, message)
    record_event(ctx.session, "vm.destroy", "failed", "compute", ctx.job.entity_id,
                 project_id=vm.project_id if vm else None, job_id=ctx.job.id, description=message)


def _nics(ctx: StepContext, vm_id: str) -> list[NetworkInterface]:
    return list(ctx.session.scalars(select(NetworkInterface).where(NetworkInterface.vm_id == vm_id)
                                    .order_by(NetworkInterface.interface)))


def _storage_links(ctx: StepContext, vm_id: str) -> list[StorageLink]:
    return list(ctx.session.scalars(select(StorageLink).where(StorageLink.vm_id == vm_id)
                                    .order_by(StorageLink.device_id)))


HANDLERS = {
    "deploy_vm": JobHandler(deploy_vm, deploy_failed),
    "power_vm": JobHandler(power_vm, power_failed),
    "snapshot_vm": JobHandler(snapshot_vm, snapshot_failed),
    "destroy_vm": JobHandler(destroy_vm, destroy_failed),
}
