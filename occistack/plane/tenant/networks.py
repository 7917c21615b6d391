"""Networks and network interfaces: creating, acting on and deleting them, and handing out MAC
and IP addresses.

Addresses are unique by database constraint (``nics.mac``, ``nics(network_id, address)``); the
allocators pick a free one and, should a concurrent transaction take it first, the constraint
fails the flush inside a savepoint and the allocator tries the next one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from occistack.model import Entity, Network, NetworkInterface, VirtualMachine, Zone
from occistack.model.states import LINK_TRANSITIONS, NETWORK_TRANSITIONS, Event, LinkState, NetworkState
from occistack.plane.addresses import (
    allocate_public_address,
    allocate_vlan,
    dhcp_server_address,
    public_ranges,
    random_mac,
    release_vlan,
)
from occistack.plane.caller import Caller
from occistack.plane.jobs.deletes import is_deleting, refuse_if_deleting, request_delete, submit_network_delete
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.plane.events import record_event
from occistack.plane.identifiers import new_entity_id
from occistack.plane.quotas import check_quota
from occistack.plane.usage import open_usage
from occistack.plane.transitions import apply_event
from occistack.plane.zones import require_same_zone, zone_id_for

_ALLOCATION_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class NetworkRequest:
    entity_id: str | None = None
    title: str | None = None
    summary: str | None = None
    vlan: int | None = None
    label: str | None = None
    address: str | None = None
    gateway: str | None = None
    allocation: str | None = None
    zone_name: str | None = None


@dataclass(frozen=True, slots=True)
class NicRequest:
    network_id: str
    link_id: str | None = None
    mac: str | None = None
    title: str | None = None
    address: str | None = None


#: The networks a project (bound as ``project``) can use: its own and the shared ones.
VISIBLE_NETWORKS = select(Network).where(or_(Network.project_id == bindparam("project"),
                                             Network.project_id.is_(None)))


def get_network(session: Session, caller: Caller, network_id: str) -> Network:
    # By primary key: a network this transaction has already read costs no query.
    network = session.get(Network, network_id)
    if network is None or network.project_id not in (None, caller.project_id):
        raise NotFound(f"no network /network/{network_id}")
    return network


def create_network(session: Session, caller: Caller, request: NetworkRequest, dispatcher: Dispatcher) -> Network:
    """An isolated guest network: in an advanced zone it takes a VLAN of the zone's physical
    network (the one asked for, or the lowest free one)."""
    address, gateway = _checked_addressing(request.address, request.gateway)
    check_quota(session, caller.project_id, networks=1)
    zone_id = zone_id_for(session, request.zone_name)
    zone = session.get(Zone, zone_id) if zone_id is not None else None
    if zone is not None and zone.network_type == "basic":
        raise Conflict(f"zone {zone.name!r} uses basic networking: every guest is on its shared network; "
                       "isolated networks need an advanced zone")
    network = Network(
        id=new_entity_id(session, request.entity_id), project_id=caller.project_id, title=request.title,
        summary=request.summary, label=request.label, address=address, gateway=gateway,
        allocation=request.allocation or ("dynamic" if address else None), zone_id=zone_id,
        state=NetworkState.CREATING,
    )
    session.add(network)
    session.flush()
    if zone is not None:
        network.vlan = allocate_vlan(session, network, zone, request.vlan)
    elif request.vlan is not None:
        raise Conflict("the cloud has no zone to take a VLAN from; leave occi.network.vlan out")
    dispatcher.submit(session, Operation("create_network", network.id), caller)
    record_event(session, "network.create", "scheduled", "network", network.id, caller=caller,
                 description=f"network {network.title or network.id} requested"
                             + (f" ({network.address})" if network.address else ""))
    return network


def update_network(session: Session, network: Network, changes: dict) -> None:
    """Apply mutable attribute changes (title, summary, label, vlan, addressing)."""
    _require_owned(network)
    refuse_if_deleting(network, "network")
    if "address" in changes or "gateway" in changes:
        in_use = session.scalar(select(NetworkInterface.id).where(NetworkInterface.network_id == network.id)
                                .limit(1))
        if in_use is not None and changes.get("address", network.address) != network.address:
            raise Conflict("the network's address cannot change while interfaces use it; unlink them first")
        address, gateway = _checked_addressing(changes.get("address", network.address),
                                               changes.get("gateway", network.gateway))
        changes = {**changes, "address": address, "gateway": gateway}
    if changes.get("vlan") not in (None, network.vlan):
        in_use = session.scalar(select(NetworkInterface.id).where(NetworkInterface.network_id == network.id)
                                .limit(1))
        if in_use is not None:
            raise Conflict("the network's VLAN cannot change while interfaces use it; unlink them first")
        zone = session.get(Zone, network.zone_id) if network.zone_id is not None else None
        if zone is None:
            raise Conflict("the network is in no zone, so it has no VLAN range to choose from")
        release_vlan(session, network)
        changes = {**changes, "vlan": allocate_vlan(session, network, zone, changes["vlan"])}
    for name, value in changes.items():
        setattr(network, name, value)


def network_action(session: Session, network: Network, event: Event) -> None:
    _require_owned(network)
    refuse_if_deleting(network, "network")
    apply_event(session, network, NETWORK_TRANSITIONS, event)


def destroy_network(session: Session, network: Network, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state, also while computes use the network (see plane/jobs/deletes.py): the
    interfaces of computes that are not being deleted themselves are unplugged -- those
    computes keep running without them -- and the network goes once its last interface has."""
    _require_owned(network)
    # Marked before its interfaces are read: the mark locks the row, and a teardown that
    # removes an interface locks it too before it looks for a mark, so either that one sees
    # the mark or this one sees the interface gone.
    if not request_delete(session, network):
        return  # a repeated delete changes nothing
    nics = session.scalars(select(NetworkInterface).where(NetworkInterface.network_id == network.id)
                           .order_by(NetworkInterface.id)).all()
    if not nics:
        submit_network_delete(session, network, caller)
        return
    for nic in nics:
        vm = session.get(VirtualMachine, nic.vm_id)
        if not is_deleting(nic) and not (vm is not None and is_deleting(vm)):
            detach_nic(session, nic, dispatcher, caller)
    record_event(session, "network.delete", "requested", "network", network.id, caller=caller,
                 project_id=network.project_id,
                 description=f"waits until its {len(nics)} network interface(s) are unplugged")


def _require_owned(network: Network) -> None:
    if network.project_id is None:
        raise NotPermitted("this network is shared by the whole cloud; only an administrator can change it")


def _checked_addressing(address: str | None, gateway: str | None) -> tuple[str | None, str | None]:
    if address is None:
        if gateway is not None:
            raise InvalidRequest("occi.network.gateway needs occi.network.address (a CIDR such as 10.0.0.0/24)")
        return None, None
    try:
        network = ipaddress.ip_network(address, strict=False)
    except ValueError:
        raise InvalidRequest(f"occi.network.address {address!r} is not a CIDR network such as 10.0.0.0/24") from None
    if network.num_addresses < 4:
        raise InvalidRequest(f"occi.network.address {address} is too small; use at least a /30 (IPv4) or /126")
    if gateway is None:
        gateway = str(next(network.hosts()))
    else:
        try:
            if ipaddress.ip_address(gateway) not in network:
                raise InvalidRequest(f"occi.network.gateway {gateway} is outside {network}")
        except ValueError:
            raise InvalidRequest(f"occi.network.gateway {gateway!r} is not an IP address") from None
    return str(network), gateway


# --- network interfaces --------------------------------------------------------------------------

def add_nic(session: Session, vm: VirtualMachine, request: NicRequest, caller: Caller,
            interface: str | None = None) -> NetworkInterface:
    """Create a NIC row for ``vm`` on a visible network, with a free MAC, interface and address
    (``interface`` when the caller knows it is free, as for a VM being created).

    The row starts in ``attaching``; the caller submits whatever operation plugs it.
    """
    network = get_network(session, caller, request.network_id)
    refuse_if_deleting(network, f"network /network/{network.id}")
    if network.state in (NetworkState.DESTROYING, NetworkState.ERROR):
        raise Conflict(f"network /network/{network.id} is {network.state} and cannot take interfaces")
    require_same_zone(session, vm.zone_id, network.zone_id, f"network /network/{network.id}")
    link_id = new_entity_id(session, request.link_id)
    if interface is None:
        used_interfaces = set(session.scalars(select(NetworkInterface.interface)
                                              .where(NetworkInterface.vm_id == vm.id)))
        interface = next(f"eth{index}" for index in range(len(used_interfaces) + 1)
                         if f"eth{index}" not in used_interfaces)
    if request.mac is not None:
        taken = session.scalar(select(NetworkInterface.id).where(NetworkInterface.mac == request.mac.lower()))
        if taken is not None:
            raise Conflict(f"the MAC address {request.mac} is already in use")
    ranges = public_ranges(session, network.zone_id or vm.zone_id) if network.public else []
    if ranges:
        # A public network's addresses come from its own zone's public ranges (floating IPs),
        # which is the compute's zone (checked above).
        check_quota(session, vm.project_id, public_ips=1)
        nic = _new_nic(link_id, vm, network, request, interface, address=None)
        allocation = allocate_public_address(session, ranges, nic, request.address)
        open_usage(session, "public_ip", nic.id, vm.project_id, zone_id=allocation.zone_id,
                   description=allocation.address)
        return nic
    for attempt in range(_ALLOCATION_ATTEMPTS):
        nic = _new_nic(link_id, vm, network, request, interface, _free_address(session, network, request.address))
        try:
            with session.begin_nested():
                session.add(nic)
        except IntegrityError:
            # Someone took this MAC or address between our look and our insert; the savepoint
            # rollback has already discarded the row.
            if request.mac is not None or request.address is not None or attempt == _ALLOCATION_ATTEMPTS - 1:
                raise Conflict("the requested MAC or IP address was taken meanwhile; try again") from None
            continue
        return nic
    raise Conflict("no free MAC or IP address could be allocated; try again")


def _new_nic(link_id: str, vm: VirtualMachine, network: Network, request: NicRequest, interface: str,
             address: str | None) -> NetworkInterface:
    # network= sets the relationship too: the deploy command reads nic.network without a query.
    return NetworkInterface(network=network,
        id=link_id, project_id=vm.project_id, title=request.title, vm_id=vm.id, network_id=network.id,
        interface=interface, mac=(request.mac or random_mac()).lower(), state=LinkState.ATTACHING,
        address=address, gateway=network.gateway,
        # An address the client chose is static, whatever the network hands out by itself.
        allocation=("static" if request.address else network.allocation) if (network.address or network.public)
        else None,
    )


def nic_attached(session: Session, nic: NetworkInterface) -> None:
    apply_event(session, nic, LINK_TRANSITIONS, Event.SUCCEEDED)


def detach_nic(session: Session, nic: NetworkInterface, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state: queued behind the interface's step under way; nothing more
    when its compute is being deleted, which takes its links with it."""
    if not request_delete(session, nic):
        return
    vm = session.get(VirtualMachine, nic.vm_id)
    if vm is not None and is_deleting(vm):
        return
    dispatcher.submit(session, Operation("unplug_nic", nic.id), caller)


def _free_address(session: Session, network: Network, requested: str | None) -> str | None:
    if network.address is None:
        return None
    subnet = ipaddress.ip_network(network.address)
    reserved = {network.gateway, dhcp_server_address(network)}
    used = set(session.scalars(select(NetworkInterface.address).where(NetworkInterface.network_id == network.id)))
    if requested is not None:
        try:
            wanted = ipaddress.ip_address(requested)
        except ValueError:
            raise InvalidRequest(f"{requested!r} is not an IP address") from None
        if wanted not in subnet or str(wanted) in reserved:
            raise InvalidRequest(f"{requested} is not a usable address of {subnet} (its gateway and its "
                                 f"DHCP server's address {dhcp_server_address(network)} are taken)")
        if str(wanted) in used:
            raise Conflict(f"the address {requested} is already in use on /network/{network.id}")
        return str(wanted)
    for host in subnet.hosts():
        text = str(host)
        if text not in reserved and text not in used:
            return text
    raise Conflict(f"network /network/{network.id} ({subnet}) has no free address left")


def get_nic(session: Session, caller: Caller, link_id: str) -> NetworkInterface:
    nic = session.scalar(select(NetworkInterface).where(NetworkInterface.id == link_id,
                                                        Entity.project_id == caller.project_id))
    if nic is None:
        raise NotFound(f"no network interface /networkinterface/{link_id}")
    return nic
