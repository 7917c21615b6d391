"""Network interfaces: a compute's NIC on a network, with a free MAC, interface and address.

Addresses are unique by database constraint (``nics.mac``, ``nics(network_id, address)``); the
allocators pick a free one and, should a concurrent transaction take it first, the constraint
fails the flush inside a savepoint and the allocator tries the next one. links.py plugs and
unplugs them on running computes; compute.py gives a new compute its first ones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from occistack.model import Entity, Network, NetworkInterface, VirtualMachine
from occistack.model.states import LINK_TRANSITIONS, Event, LinkState, NetworkState
from occistack.plane.addresses import allocate_public_address, public_ranges, random_mac
from occistack.plane.caller import Caller
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.identifiers import new_entity_id
from occistack.plane.quotas import check_quota
from occistack.plane.deleting import refuse_if_deleting
from occistack.plane.tenant.networks import dhcp_server_address, get_network
from occistack.plane.transitions import apply_event
from occistack.plane.usage import open_usage
from occistack.plane.zones import require_same_zone

_ALLOCATION_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class NicRequest:
    """A network interface to make: the network, and what the client chose of its own."""

    network_id: str
    link_id: str | None = None
    mac: str | None = None
    title: str | None = None
    address: str | None = None
    #: identifiers of the caller's own mixins to tag the interface with.
    tags: tuple[str, ...] = ()


def add_nic(session: Session, vm: VirtualMachine, request: NicRequest, caller: Caller,
            interface: str | None = None) -> NetworkInterface:
    """Create a NIC row for ``vm`` on a visible network, with a free MAC, interface and address
    (``interface`` when the caller knows it is free, as for a VM being created).

    The row starts in ``attaching``; the caller submits whatever operation plugs it.
    """
    network = get_network(session, caller, request.network_id)
    refuse_if_deleting(network, f"network {network.id}")
    if network.state in (NetworkState.DESTROYING, NetworkState.ERROR):
        raise Conflict(f"network {network.id} is {network.state} and cannot take interfaces")
    require_same_zone(session, vm.zone_id, network.zone_id, f"network {network.id}")
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
                   description=allocation.address, compute_id=vm.id)
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
            raise Conflict(f"the address {requested} is already in use on network {network.id}")
        return str(wanted)
    for host in subnet.hosts():
        text = str(host)
        if text not in reserved and text not in used:
            return text
    raise Conflict(f"network {network.id} ({subnet}) has no free address left")


def get_nic(session: Session, caller: Caller, link_id: str) -> NetworkInterface:
    nic = session.scalar(select(NetworkInterface).where(NetworkInterface.id == link_id,
                                                        Entity.project_id == caller.project_id))
    if nic is None:
        raise NotFound(f"no network interface {link_id}")
    return nic
