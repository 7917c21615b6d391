"""Job handlers of bare-metal computes (plane/tenant/bare_metal.py): deploying on a node,
switching it, destroying it -- and checking a node's BMC, which is how a node becomes Up.

A bare-metal node runs no agent. The worker talks to its BMC itself, through the power driver
(drivers/power) with the password unsealed for the call, and applies the outcome in the same
step's transaction. The driver confirms every power change with the BMC before it returns
(``power_on`` and ``power_off`` wait until the BMC reports the new state), so a compute is
never called active, stopped or gone on the strength of a request the BMC merely accepted.

Every failure -- no answer, a refused password, a BMC that will not switch the node -- is a
StepFailed saying which node and why: the worker rolls the step back and the handler's failure
half moves the compute to error with that message and writes the event.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from occistack.drivers.power.base import BmcAddress, BmcAuthenticationFailed, BmcUnreachable, PowerDriver, PowerError
from occistack.model import BARE_METAL, Host, OsTemplate, VirtualMachine
from occistack.model.states import VM_TRANSITIONS, Event, HostEvent, VmState
from occistack.plane.host_states import finish_maintenance_when_empty
from occistack.plane.jobs.deletes import begin_teardown
from occistack.plane.events import record_event
from occistack.plane.agents.gateway import move_host_status
from occistack.plane.sealing import SealingError
from occistack.plane.transitions import apply_event
from occistack.plane.usage import close_usage, offering_term, open_usage
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.handlers.common import delete_entities
from occistack.plane.jobs.handlers.compute import compute_delete_failed

#: How long a graceful stop or restart waits for the node's operating system to obey the ACPI
#: power button before the compute goes to error (read at each use, so tests can shorten it).
SOFT_OFF_WAIT_SECONDS = 120.0
SOFT_OFF_POLL_SECONDS = 1.0

#: A power operation (bare_metal.BARE_METAL_ACTIONS) → how its success and failure read.
_OPERATION_WORDS = {"power_on": ("start", "power on"), "power_off": ("stop", "power off"),
                    "soft_off": ("stop", "shut down"), "reset": ("restart", "reset"),
                    "soft_restart": ("restart", "restart")}


@dataclass(frozen=True, slots=True)
class Node:
    """A bare-metal host with what it takes to talk to its BMC."""

    host: Host
    bmc: BmcAddress
    power: PowerDriver

    @property
    def name(self) -> str:
        return self.host.name


def node_of(ctx: StepContext, host: Host | None) -> Node:
    """The node with its BMC credentials unsealed; StepFailed when it cannot be reached at all."""
    if host is None:
        raise StepFailed("its bare-metal node no longer exists")
    if not host.bmc_address:
        raise StepFailed(f"bare-metal node {host.name} has no BMC recorded ('occistack host bmc {host.name} …')")
    power = ctx.services.power
    if power is None:
        raise StepFailed("this management server has no power driver (occistack.power = none), so it cannot switch "
                         "bare-metal nodes")
    try:
        password = ctx.services.sealer.open(host.bmc_password_sealed or "")
    except SealingError as error:
        raise StepFailed(f"the BMC password of bare-metal node {host.name} cannot be unsealed: {error}") from None
    return Node(host, BmcAddress(host.bmc_address, port=host.bmc_port, username=host.bmc_username or "",
                                 password=password), power)


@contextmanager
def talking_to(node: Node, doing: str) -> Iterator[None]:
    """The one place where the power driver's errors become step failures that say why."""
    try:
        yield
    except BmcUnreachable as error:
        raise StepFailed(f"cannot {doing} bare-metal node {node.name}: its BMC at {node.bmc} does not answer "
                         f"({error})") from None
    except BmcAuthenticationFailed as error:
        raise StepFailed(f"cannot {doing} bare-metal node {node.name}: its BMC refused the recorded user name or "
                         f"password ({error})") from None
    except PowerError as error:
        raise StepFailed(f"cannot {doing} bare-metal node {node.name}: {error}") from None


def _vm(ctx: StepContext) -> VirtualMachine | None:
    return ctx.session.get(VirtualMachine, ctx.job.entity_id)


def _node_of_vm(ctx: StepContext, vm: VirtualMachine) -> Node:
    if vm.host_id is None:
        raise StepFailed("no bare-metal node is reserved for it")
    return node_of(ctx, ctx.session.get(Host, vm.host_id))


def _switch_on(node: Node, boot_device: str | None) -> None:
    node.power.power_on(node.bmc, boot_device=boot_device)
    if node.power.status(node.bmc) != "on":
        raise PowerError(f"BMC {node.bmc} reports the node off right after powering it on")


def _shut_down(node: Node) -> None:
    """An ACPI power-button press, then wait until the operating system has switched it off."""
    node.power.soft_off(node.bmc)
    deadline = time.monotonic() + SOFT_OFF_WAIT_SECONDS
    while node.power.status(node.bmc) != "off":
        if time.monotonic() >= deadline:
            raise PowerError(f"its operating system did not shut down within {SOFT_OFF_WAIT_SECONDS:g} s of an ACPI "
                             "power-button press; use the method poweroff to cut its power, or cold to reset it")
        time.sleep(SOFT_OFF_POLL_SECONDS)


# --- deploy ----------------------------------------------------------------------------------

def deploy_bare_metal(ctx: StepContext) -> Outcome:
    session = ctx.session
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE
    node = _node_of_vm(ctx, vm)
    with talking_to(node, "power on"):
        # The node must boot what the compute asked for: whatever runs on it now was not.
        was_on = node.power.status(node.bmc) == "on"
        if was_on:
            node.power.power_off(node.bmc)
        _switch_on(node, vm.boot_device)
    apply_event(session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
    template = session.get(OsTemplate, vm.template_id)
    open_usage(session, ("vm_allocated", "vm_running"), vm.id, vm.project_id, zone_id=vm.zone_id, cores=vm.cores,
               memory_gib=vm.memory_gib, description=template.term if template else None,
               offering=offering_term(session, vm))
    record_event(session, "vm.deploy", "completed", "compute", vm.id, project_id=vm.project_id, job_id=ctx.job.id,
                 description=f"bare-metal node {node.name} powered on, booting from {vm.boot_device}"
                             + (" (it was on: powered off first)" if was_on else ""))
    return Outcome.DONE


def deploy_failed(ctx: StepContext, message: str) -> None:
    """The compute goes to error and keeps its node: the node's power is unknown after a
    failed exchange, so it is released only by a delete that has powered it off."""
    vm = _vm(ctx)
    if vm is None:
        return
    if VM_TRANSITIONS.allows(vm.state, Event.FAILED):
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.FAILED, f"deploy failed: {message}")
    record_event(ctx.session, "vm.deploy", "failed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=message)


# --- start, stop, restart --------------------------------------------------------------------

def power_bare_metal(ctx: StepContext) -> Outcome:
    session = ctx.session
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE
    operation = ctx.arguments["operation"]
    action, verb = _OPERATION_WORDS[operation]
    node = _node_of_vm(ctx, vm)
    with talking_to(node, verb):
        if operation == "power_on":
            _switch_on(node, vm.boot_device)
        elif operation == "power_off":
            node.power.power_off(node.bmc)
        elif operation == "soft_off":
            _shut_down(node)
        elif operation == "reset":
            node.power.reset(node.bmc)
        else:  # soft_restart: the graceful restart, as an operating system would do it itself
            _shut_down(node)
            _switch_on(node, vm.boot_device)
    apply_event(session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
    close_usage(session, "vm_running", vm.id)
    if vm.state == VmState.RUNNING:
        open_usage(session, "vm_running", vm.id, vm.project_id, zone_id=vm.zone_id, cores=vm.cores,
                   memory_gib=vm.memory_gib, offering=offering_term(session, vm))
    record_event(session, f"vm.{action}", "completed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=f"bare-metal node {node.name}: {verb} done")
    return Outcome.DONE


def power_failed(ctx: StepContext, message: str) -> None:
    vm = _vm(ctx)
    if vm is not None and VM_TRANSITIONS.allows(vm.state, Event.FAILED):
        apply_event(ctx.session, vm, VM_TRANSITIONS, Event.FAILED, message)
    action = _OPERATION_WORDS.get(ctx.arguments.get("operation"), ("power",))[0]
    record_event(ctx.session, f"vm.{action}", "failed", "compute", ctx.job.entity_id,
                 project_id=vm.project_id if vm else None, job_id=ctx.job.id, description=message)


# --- destroy ---------------------------------------------------------------------------------

def destroy_bare_metal(ctx: StepContext) -> Outcome:
    session = ctx.session
    vm = _vm(ctx)
    if vm is None:
        return Outcome.DONE
    begin_teardown(session, vm, VM_TRANSITIONS, Event.DESTROY)
    host_id = vm.host_id
    freed = ""
    if host_id is not None:
        node = _node_of_vm(ctx, vm)
        with talking_to(node, "power off"):
            node.power.power_off(node.bmc)
            if node.power.status(node.bmc) != "off":
                raise PowerError(f"BMC {node.bmc} reports the node on right after powering it off")
        freed = f"; bare-metal node {node.name} powered off and free again"
    ctx.services.placement.release_vm(session, vm)
    close_usage(session, ("vm_running", "vm_allocated"), vm.id)
    record_event(session, "vm.destroy", "completed", "compute", vm.id, project_id=vm.project_id,
                 job_id=ctx.job.id, description=f"deleted{freed}")
    delete_entities(session, [vm.id])
    finish_maintenance_when_empty(session, host_id)
    return Outcome.DONE


def destroy_failed(ctx: StepContext, message: str) -> None:
    """The compute goes to error holding its node: nobody has seen the node off."""
    vm = _vm(ctx)
    if vm is not None:
        compute_delete_failed(ctx.session, vm, f"delete failed: {message}")
    record_event(ctx.session, "vm.destroy", "failed", "compute", ctx.job.entity_id,
                 project_id=vm.project_id if vm else None, job_id=ctx.job.id, description=message)


# --- a node's BMC ----------------------------------------------------------------------------

def check_bare_metal_node(ctx: StepContext) -> Outcome:
    """Read the node's power state through its BMC: an answer makes the node Up (placement uses
    it from then on); a failure leaves it out, and its state message says why."""
    host = ctx.session.get(Host, ctx.arguments["host_id"])
    if host is None or host.hypervisor != BARE_METAL or not host.bmc_address:
        return Outcome.DONE  # removed, or its BMC forgotten, meanwhile
    node = node_of(ctx, host)
    with talking_to(node, "reach"):
        power = node.power.status(node.bmc)
    move_host_status(ctx.session, host, HostEvent.BMC_ANSWERED)
    host.state_message = f"its BMC at {node.bmc} answered: the node is {power}"
    record_event(ctx.session, "host.bmc", "completed", "host", host.id, job_id=ctx.job.id,
                 description=f"bare-metal node {host.name}: {host.state_message}")
    return Outcome.DONE


def node_check_failed(ctx: StepContext, message: str) -> None:
    host = ctx.session.get(Host, ctx.arguments["host_id"])
    if host is None:
        return
    move_host_status(ctx.session, host, HostEvent.BMC_FAILED)
    host.state_message = message
    record_event(ctx.session, "host.bmc", "failed", "host", host.id, job_id=ctx.job.id, description=message)


HANDLERS = {
    "deploy_bare_metal": JobHandler(deploy_bare_metal, deploy_failed),
    "power_bare_metal": JobHandler(power_bare_metal, power_failed),
    "destroy_bare_metal": JobHandler(destroy_bare_metal, destroy_failed),
    "check_bare_metal_node": JobHandler(check_bare_metal_node, node_check_failed),
}
