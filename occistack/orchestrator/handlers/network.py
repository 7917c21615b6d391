"""Job handlers of networks and network interfaces.

A guest network needs no host work when it is created: its VLAN and addresses were allocated
with the request, and a host implements it (bridge, VLAN tag) when a guest on it is deployed
or plugged there -- as CloudStack implements networks on demand. Deleting it gives its VLAN
back (the allocation row goes with it); hosts drop what they no longer use.
"""

from __future__ import annotations

from ...model import Network, NetworkInterface, VirtualMachine
from ...model.states import LINK_TRANSITIONS, NETWORK_TRANSITIONS, Event
from ..events import record_event
from ..transitions import apply_event
from ..usage import close_usage
from .base import JobHandler, Outcome, StepContext, StepFailed
from .common import delete_entities, network_name, network_spec


def create_network(ctx: StepContext) -> Outcome:
    network = ctx.session.get(Network, ctx.job.entity_id)
    if network is not None:
        apply_event(ctx.session, network, NETWORK_TRANSITIONS, Event.SUCCEEDED)
        record_event(ctx.session, "network.create", "completed", "network", network.id,
                     project_id=network.project_id, job_id=ctx.job.id,
                     description=f"network {network.title or network.id} created"
                                 + (f" on VLAN {network.vlan}" if network.vlan is not None else ""))
    return Outcome.DONE


def delete_network(ctx: StepContext) -> Outcome:
    network = ctx.session.get(Network, ctx.job.entity_id)
    if network is not None:
        record_event(ctx.session, "network.delete", "completed", "network", network.id,
                     project_id=network.project_id, job_id=ctx.job.id,
                     description=f"network {network.title or network.id} deleted")
        delete_entities(ctx.session, [network.id])
    return Outcome.DONE


def network_failed(ctx: StepContext, message: str) -> None:
    network = ctx.session.get(Network, ctx.job.entity_id)
    if network is not None and NETWORK_TRANSITIONS.allows(network.state, Event.FAILED):
        apply_event(ctx.session, network, NETWORK_TRANSITIONS, Event.FAILED, message)


def plug_nic(ctx: StepContext) -> Outcome:
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is None:
        return Outcome.DONE
    vm = ctx.session.get(VirtualMachine, nic.vm_id)
    if ctx.step == 0:
        spec = network_spec(ctx.session, ctx.session.get(Network, nic.network_id))
        ctx.send(vm.host_id, "plug_nic", {"guest": vm.instance_name, "network": spec.pop("name"), "mac": nic.mac,
                                          "address": nic.address, **spec})
        return Outcome.WAIT
    answer = ctx.answer("plug_nic")
    if answer.error is not None:
        raise StepFailed(f"plugging the interface failed: {answer.error}")
    apply_event(ctx.session, nic, LINK_TRANSITIONS, Event.SUCCEEDED)
    return Outcome.DONE


def unplug_nic(ctx: StepContext) -> Outcome:
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is None:
        return Outcome.DONE
    vm = ctx.session.get(VirtualMachine, nic.vm_id)
    if ctx.step == 0 and vm.host_id is not None and vm.instance_name:
        ctx.send(vm.host_id, "unplug_nic", {"guest": vm.instance_name, "mac": nic.mac})
        return Outcome.WAIT
    if ctx.step > 0:
        answer = ctx.answer("unplug_nic")
        if answer.error is not None:
            raise StepFailed(f"unplugging the interface failed: {answer.error}")
    close_usage(ctx.session, "public_ip", nic.id)
    delete_entities(ctx.session, [nic.id])
    return Outcome.DONE


def nic_failed(ctx: StepContext, message: str) -> None:
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is not None and LINK_TRANSITIONS.allows(nic.state, Event.FAILED):
        apply_event(ctx.session, nic, LINK_TRANSITIONS, Event.FAILED, message)


HANDLERS = {
    "create_network": JobHandler(create_network, network_failed),
    "delete_network": JobHandler(delete_network, network_failed),
    "plug_nic": JobHandler(plug_nic, nic_failed),
    "unplug_nic": JobHandler(unplug_nic, nic_failed),
}

__all__ = ["HANDLERS", "network_name"]
