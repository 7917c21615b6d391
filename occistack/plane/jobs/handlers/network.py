"""Job handlers of networks and network interfaces.

A guest network needs no host work when it is created: its VLAN and addresses were allocated
with the request, and a host implements it (bridge, VLAN tag) when a guest on it is deployed
or plugged there -- as CloudStack implements networks on demand. Deleting it gives its VLAN
back (the allocation row goes with it); hosts drop what they no longer use.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from occistack.hostagent.protocol import PlugNic, UnplugNic
from occistack.model import Network, NetworkInterface, VirtualMachine
from occistack.model.states import LINK_TRANSITIONS, NETWORK_TRANSITIONS, Event
from occistack.plane.jobs.deletes import begin_teardown, clear_delete_request, fail_waiting_deletes, submit_waiting_deletes
from occistack.plane.events import record_event
from occistack.plane.transitions import apply_event
from occistack.plane.usage import close_usage
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.commands import network_spec
from occistack.plane.jobs.handlers.common import delete_entities


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
        begin_teardown(ctx.session, network, NETWORK_TRANSITIONS, Event.DESTROY)
        if ctx.session.scalar(select(exists().where(NetworkInterface.network_id == network.id))):
            raise StepFailed("delete failed: network interfaces were added to it meanwhile")
        record_event(ctx.session, "network.delete", "completed", "network", network.id,
                     project_id=network.project_id, job_id=ctx.job.id,
                     description=f"network {network.title or network.id} deleted")
        delete_entities(ctx.session, [network.id])
    return Outcome.DONE


def network_failed(ctx: StepContext, message: str) -> None:
    network = ctx.session.get(Network, ctx.job.entity_id)
    if network is not None and NETWORK_TRANSITIONS.allows(network.state, Event.FAILED):
        apply_event(ctx.session, network, NETWORK_TRANSITIONS, Event.FAILED, message)


def delete_network_failed(ctx: StepContext, message: str) -> None:
    """In error with the reason, and no longer being deleted: a DELETE retries."""
    network = ctx.session.get(Network, ctx.job.entity_id)
    if network is None:
        return
    begin_teardown(ctx.session, network, NETWORK_TRANSITIONS, Event.DESTROY)
    apply_event(ctx.session, network, NETWORK_TRANSITIONS, Event.FAILED, message)
    clear_delete_request(ctx.session, network)


def plug_nic(ctx: StepContext) -> Outcome:
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is None:
        return Outcome.DONE
    vm = ctx.session.get(VirtualMachine, nic.vm_id)
    if ctx.step == 0:
        network = network_spec(ctx.session, ctx.session.get(Network, nic.network_id))
        ctx.send(vm.host_id, PlugNic(vm.instance_name, network, nic.mac, nic.address))
        return Outcome.WAIT
    answer = ctx.answer(PlugNic)
    if answer.error is not None:
        raise StepFailed(f"plugging the interface failed: {answer.error}")
    apply_event(ctx.session, nic, LINK_TRANSITIONS, Event.SUCCEEDED)
    return Outcome.DONE


def unplug_nic(ctx: StepContext) -> Outcome:
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is None:
        return Outcome.DONE
    vm = ctx.session.get(VirtualMachine, nic.vm_id)
    if ctx.step == 0:
        begin_teardown(ctx.session, nic, LINK_TRANSITIONS, Event.DETACH)
    if ctx.step == 0 and vm.host_id is not None and vm.instance_name:
        ctx.send(vm.host_id, UnplugNic(vm.instance_name, nic.mac))
        return Outcome.WAIT
    if ctx.step > 0:
        answer = ctx.answer(UnplugNic)
        if answer.error is not None:
            raise StepFailed(f"unplugging the interface failed: {answer.error}")
    close_usage(ctx.session, "public_ip", nic.id)
    delete_entities(ctx.session, [nic.id])
    submit_waiting_deletes(ctx.session, network_ids=[nic.network_id])  # a delete may wait for it
    return Outcome.DONE


def nic_failed(ctx: StepContext, message: str) -> None:
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is not None and LINK_TRANSITIONS.allows(nic.state, Event.FAILED):
        apply_event(ctx.session, nic, LINK_TRANSITIONS, Event.FAILED, message)


def unplug_failed(ctx: StepContext, message: str) -> None:
    """The interface stays, in error with the reason and no longer being deleted; a delete of
    its network that waited for it fails too."""
    nic = ctx.session.get(NetworkInterface, ctx.job.entity_id)
    if nic is None:
        return
    begin_teardown(ctx.session, nic, LINK_TRANSITIONS, Event.DETACH)
    apply_event(ctx.session, nic, LINK_TRANSITIONS, Event.FAILED, message)
    clear_delete_request(ctx.session, nic)
    fail_waiting_deletes(ctx.session, f"its network interface {nic.id} could not be unplugged: {message}",
                         network_ids=[nic.network_id])


HANDLERS = {
    "create_network": JobHandler(create_network, network_failed),
    "delete_network": JobHandler(delete_network, delete_network_failed),
    "plug_nic": JobHandler(plug_nic, nic_failed),
    "unplug_nic": JobHandler(unplug_nic, unplug_failed),
}

__all__ = ["HANDLERS"]
