"""What each operation does on the drivers, and what its success or failure does to the rows.

Each entry pairs a *run* function (driver calls, then the success transition) with an *on
failure* function (the failure transition, with the backend's message as the state message).
The dispatcher decides when they run: at once in this issue, from a job worker in the next.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..drivers.base import GuestSpec
from ..model import Entity, Network, NetworkInterface, OsTemplate, StorageLink, VirtualMachine, Volume
from ..model.states import (
    LINK_TRANSITIONS,
    NETWORK_TRANSITIONS,
    VM_TRANSITIONS,
    VOLUME_TRANSITIONS,
    Event,
    LinkState,
    VmState,
)
from .dispatch import Operation
from .transitions import apply_event


def instance_name(vm: VirtualMachine) -> str:
    """The hypervisor's name for a guest, CloudStack style: i-<project>-<id>."""
    return f"i-{vm.project_id}-{vm.id}"


def volume_name(volume_id: str) -> str:
    return f"vol-{volume_id}"


def network_name(network_id: str) -> str:
    return f"net-{network_id}"


# --- compute -------------------------------------------------------------------------------------

def _deploy_vm(session: Session, drivers, operation: Operation) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    template = session.get(OsTemplate, vm.template_id)
    nics = _nics(session, vm.id)
    links = _storage_links(session, vm.id)
    vm.instance_name = instance_name(vm)
    for nic in nics:
        _implement_network(session, drivers, nic.network_id)
        drivers.network.plug(vm.instance_name, network_name(nic.network_id), nic.mac)
    drivers.compute.deploy(GuestSpec(
        name=vm.instance_name, cores=vm.cores, memory_mib=int(vm.memory_gib * 1024), image=template.term,
        architecture=vm.architecture or "x64", hostname=vm.hostname, user_data=vm.user_data,
        ssh_public_key=vm.ssh_public_key, nics=tuple((nic.mac, network_name(nic.network_id)) for nic in nics),
        disks=tuple((volume_name(link.volume_id), link.device_id) for link in links),
    ))
    for link in links:
        drivers.storage.attach(vm.instance_name, volume_name(link.volume_id), link.device_id)
    apply_event(session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
    for link in [*nics, *links]:
        apply_event(session, link, LINK_TRANSITIONS, Event.SUCCEEDED)


def _deploy_failed(session: Session, operation: Operation, message: str) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    apply_event(session, vm, VM_TRANSITIONS, Event.FAILED, f"deploy failed: {message}")
    for link in [*_nics(session, vm.id), *_storage_links(session, vm.id)]:
        if link.state == LinkState.ATTACHING:
            apply_event(session, link, LINK_TRANSITIONS, Event.FAILED, "the compute failed to deploy")


def _power_vm(session: Session, drivers, operation: Operation) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    drivers.compute.power(vm.instance_name, operation.arguments["operation"])
    apply_event(session, vm, VM_TRANSITIONS, Event.SUCCEEDED)
    if vm.state == VmState.STOPPED:
        _take_deferred_snapshots(session, drivers, vm)


def _power_failed(session: Session, operation: Operation, message: str) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    apply_event(session, vm, VM_TRANSITIONS, Event.FAILED,
                f"{operation.arguments['operation']} failed: {message}")


def _take_deferred_snapshots(session: Session, drivers, vm: VirtualMachine) -> None:
    pending = session.scalars(select(OsTemplate).where(OsTemplate.saved_from == vm.id,
                                                       OsTemplate.state == "pending"))
    for template in pending:
        _snapshot(drivers, vm, template)


def _snapshot_vm(session: Session, drivers, operation: Operation) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    template = session.get(OsTemplate, operation.arguments["template_id"])
    _snapshot(drivers, vm, template)


def _snapshot(drivers, vm: VirtualMachine, template: OsTemplate) -> None:
    drivers.compute.snapshot(vm.instance_name, template.term)
    template.state = "ready"


def _snapshot_failed(session: Session, operation: Operation, message: str) -> None:
    template = session.get(OsTemplate, operation.arguments["template_id"])
    template.state = "error"
    template.description = f"saving failed: {message}"


def _destroy_vm(session: Session, drivers, operation: Operation) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    nics = _nics(session, vm.id)
    links = _storage_links(session, vm.id)
    if vm.instance_name:
        for link in links:
            drivers.storage.detach(vm.instance_name, volume_name(link.volume_id))
        for nic in nics:
            drivers.network.unplug(vm.instance_name, nic.mac)
        drivers.compute.destroy(vm.instance_name)
    # A resource's links are part of it (GFD.221 composition): they go with it.
    _delete_entities(session, [link.id for link in [*nics, *links]] + [vm.id])


def _destroy_failed(session: Session, operation: Operation, message: str) -> None:
    vm = session.get(VirtualMachine, operation.entity_id)
    apply_event(session, vm, VM_TRANSITIONS, Event.FAILED, f"destroy failed: {message}")


# --- storage -------------------------------------------------------------------------------------

def _create_volume(session: Session, drivers, operation: Operation) -> None:
    volume = session.get(Volume, operation.entity_id)
    drivers.storage.create_volume(volume_name(volume.id), volume.size_gib)
    apply_event(session, volume, VOLUME_TRANSITIONS, Event.SUCCEEDED)


def _create_volume_failed(session: Session, operation: Operation, message: str) -> None:
    volume = session.get(Volume, operation.entity_id)
    apply_event(session, volume, VOLUME_TRANSITIONS, Event.FAILED, f"creation failed: {message}")


def _resize_volume(session: Session, drivers, operation: Operation) -> None:
    volume = session.get(Volume, operation.entity_id)
    drivers.storage.resize_volume(volume_name(volume.id), operation.arguments["size_gib"])
    volume.size_gib = operation.arguments["size_gib"]
    volume.state_message = None


def _resize_volume_failed(session: Session, operation: Operation, message: str) -> None:
    volume = session.get(Volume, operation.entity_id)
    volume.state_message = f"resize to {operation.arguments['size_gib']:g} GiB failed: {message}"


def _delete_volume(session: Session, drivers, operation: Operation) -> None:
    drivers.storage.delete_volume(volume_name(operation.entity_id))
    _delete_entities(session, [operation.entity_id])


def _delete_volume_failed(session: Session, operation: Operation, message: str) -> None:
    volume = session.get(Volume, operation.entity_id)
    apply_event(session, volume, VOLUME_TRANSITIONS, Event.FAILED, f"deletion failed: {message}")


def _attach_volume(session: Session, drivers, operation: Operation) -> None:
    link = session.get(StorageLink, operation.entity_id)
    vm = session.get(VirtualMachine, link.vm_id)
    drivers.storage.attach(vm.instance_name, volume_name(link.volume_id), link.device_id)
    apply_event(session, link, LINK_TRANSITIONS, Event.SUCCEEDED)


def _detach_volume(session: Session, drivers, operation: Operation) -> None:
    link = session.get(StorageLink, operation.entity_id)
    vm = session.get(VirtualMachine, link.vm_id)
    drivers.storage.detach(vm.instance_name, volume_name(link.volume_id))
    _delete_entities(session, [link.id])


# --- networks ------------------------------------------------------------------------------------

def _create_network(session: Session, drivers, operation: Operation) -> None:
    network = session.get(Network, operation.entity_id)
    drivers.network.create_network(network_name(network.id), network.vlan)
    apply_event(session, network, NETWORK_TRANSITIONS, Event.SUCCEEDED)


def _create_network_failed(session: Session, operation: Operation, message: str) -> None:
    network = session.get(Network, operation.entity_id)
    apply_event(session, network, NETWORK_TRANSITIONS, Event.FAILED, f"creation failed: {message}")


def _delete_network(session: Session, drivers, operation: Operation) -> None:
    drivers.network.delete_network(network_name(operation.entity_id))
    _delete_entities(session, [operation.entity_id])


def _delete_network_failed(session: Session, operation: Operation, message: str) -> None:
    network = session.get(Network, operation.entity_id)
    apply_event(session, network, NETWORK_TRANSITIONS, Event.FAILED, f"deletion failed: {message}")


def _plug_nic(session: Session, drivers, operation: Operation) -> None:
    nic = session.get(NetworkInterface, operation.entity_id)
    vm = session.get(VirtualMachine, nic.vm_id)
    _implement_network(session, drivers, nic.network_id)
    drivers.network.plug(vm.instance_name, network_name(nic.network_id), nic.mac)
    apply_event(session, nic, LINK_TRANSITIONS, Event.SUCCEEDED)


def _unplug_nic(session: Session, drivers, operation: Operation) -> None:
    nic = session.get(NetworkInterface, operation.entity_id)
    vm = session.get(VirtualMachine, nic.vm_id)
    drivers.network.unplug(vm.instance_name, nic.mac)
    _delete_entities(session, [nic.id])


def _link_failed(what: str):
    def on_failure(session: Session, operation: Operation, message: str) -> None:
        link = session.get(Entity, operation.entity_id)
        apply_event(session, link, LINK_TRANSITIONS, Event.FAILED, f"{what} failed: {message}")
    return on_failure


# --- helpers -------------------------------------------------------------------------------------

def _implement_network(session: Session, drivers, network_id: str) -> None:
    """Make sure the host has the guest's network (CloudStack "implements" a network on the
    hosts that need it, when they need it)."""
    network = session.get(Network, network_id)
    drivers.network.create_network(network_name(network.id), network.vlan)


def _nics(session: Session, vm_id: str) -> list[NetworkInterface]:
    return list(session.scalars(select(NetworkInterface).where(NetworkInterface.vm_id == vm_id)
                                .order_by(NetworkInterface.interface)))


def _storage_links(session: Session, vm_id: str) -> list[StorageLink]:
    return list(session.scalars(select(StorageLink).where(StorageLink.vm_id == vm_id)
                                .order_by(StorageLink.device_id)))


def _delete_entities(session: Session, entity_ids: list[str]) -> None:
    """Delete entity rows; the kind tables and tags follow by ON DELETE CASCADE."""
    session.flush()
    for entity_id in entity_ids:
        row = session.get(Entity, entity_id)
        if row is not None:
            session.expunge(row)
    session.execute(delete(Entity.__table__).where(Entity.__table__.c.id.in_(entity_ids)))


HANDLERS = {
    "deploy_vm": (_deploy_vm, _deploy_failed),
    "power_vm": (_power_vm, _power_failed),
    "snapshot_vm": (_snapshot_vm, _snapshot_failed),
    "destroy_vm": (_destroy_vm, _destroy_failed),
    "create_volume": (_create_volume, _create_volume_failed),
    "resize_volume": (_resize_volume, _resize_volume_failed),
    "delete_volume": (_delete_volume, _delete_volume_failed),
    "attach_volume": (_attach_volume, _link_failed("attaching the storage")),
    "detach_volume": (_detach_volume, _link_failed("detaching the storage")),
    "create_network": (_create_network, _create_network_failed),
    "delete_network": (_delete_network, _delete_network_failed),
    "plug_nic": (_plug_nic, _link_failed("plugging the interface")),
    "unplug_nic": (_unplug_nic, _link_failed("unplugging the interface")),
}
