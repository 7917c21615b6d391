"""Networks: creating, changing, acting on and deleting them, and unplugging the interfaces
on them (nics.py makes those).

The use cases take a :class:`PlaneContext` and a request; the functions under them work on
rows, for the admin side's deletes (admin_deletes.py) too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from occistack.model import Network, NetworkInterface, VirtualMachine, Zone
from occistack.model.states import NETWORK_TRANSITIONS, Event, NetworkState
from occistack.plane.addresses import allocate_vlan, release_vlan
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.plane.events import record_event
from occistack.plane.identifiers import new_entity_id
from occistack.plane.quotas import check_quota
from occistack.plane.admin import default_networks
from occistack.plane.tenant import tags
from occistack.plane.tenant.changes import KEEP, Keep, TagChanges, apply_tag_changes
from occistack.plane.deleting import is_deleting, refuse_if_deleting
from occistack.plane.jobs.deletes import request_delete, submit_network_delete
from occistack.plane.transitions import apply_event
from occistack.plane.zones import zone_id_for


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
    #: make it the project's default network in its zone (default_networks.py).
    default: bool = False
    #: identifiers of the caller's own mixins to tag it with.
    tags: tuple[str, ...] = ()
    #: identifiers of categories the face knows no meaning of on a network (refused).
    other_mixins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkChanges:
    """What a client asks of a network; a field at KEEP asks nothing. A shared network takes no
    changes of its own, but the caller may tag it or make it the project's default."""

    title: str | None | Keep = KEEP
    summary: str | None | Keep = KEEP
    vlan: int | None | Keep = KEEP
    label: str | None | Keep = KEEP
    address: str | None | Keep = KEEP
    gateway: str | None | Keep = KEEP
    allocation: str | None | Keep = KEEP
    #: True: make it the project's default in its zone; False: no longer the default.
    default: bool | Keep = KEEP
    #: zones (names) the client names: each must be the network's own.
    zone_names: tuple[str, ...] = ()
    other_mixins: tuple[str, ...] = ()
    tags: TagChanges = field(default_factory=TagChanges)


class NetworkAction(Enum):
    UP = "up"
    DOWN = "down"


_ACTION_EVENTS = {NetworkAction.UP: Event.UP, NetworkAction.DOWN: Event.DOWN}


class NetworkMixin(Enum):
    """What a face may take off a network."""

    TAG = "tag"                          # one of the caller's own mixins
    DEFAULT = "default"                  # its being the project's default network
    ADDRESSING = "addressing"            # its IP addressing (address, gateway, allocation)
    OTHER = "other"                      # anything else: refused


_ADDRESSING_FIELDS = ("address", "gateway", "allocation")


def create_network(ctx: PlaneContext, request: NetworkRequest) -> str:
    """Create a network in the caller's project (see :func:`new_network`); its id."""
    if request.other_mixins:
        raise NotPermitted(f"the mixin {request.other_mixins[0]} does not apply to a network")
    network = new_network(ctx.session, ctx.caller, request, ctx.dispatcher)
    tags.tag_all(ctx.session, ctx.caller, request.tags, network.id)
    if request.default:
        default_networks.make_default_network(ctx.session, ctx.caller.project_id, network)
    return network.id


def update_network(ctx: PlaneContext, network_id: str, changes: NetworkChanges) -> None:
    session, project_id = ctx.session, ctx.caller.project_id
    network = get_network(session, ctx.caller, network_id)
    if changes.zone_names:
        zone = session.scalar(select(Zone.name).where(Zone.id == network.zone_id)) if network.zone_id else None
        if any(asked != zone for asked in changes.zone_names):
            raise NotPermitted("a network cannot move to another availability zone")
    if changes.other_mixins:
        raise NotPermitted(f"the mixin {changes.other_mixins[0]} cannot be added to an existing network")
    fields = {name: getattr(changes, name) for name in ("vlan", "label", *_ADDRESSING_FIELDS, "title", "summary")
              if getattr(changes, name) is not KEEP}
    if fields:
        change_network(session, network, fields)
    if changes.default is True:
        default_networks.make_default_network(session, project_id, network)
    elif changes.default is False:
        default_networks.unmake_default_network(session, project_id, network)
    apply_tag_changes(ctx, network.id, changes.tags)


def act_on_network(ctx: PlaneContext, network_id: str, action: NetworkAction) -> None:
    """Bring the caller's network up or down (IllegalTransition where its state does not allow)."""
    network = get_network(ctx.session, ctx.caller, network_id)
    _require_owned(network)
    refuse_if_deleting(network, "network")
    apply_event(ctx.session, network, NETWORK_TRANSITIONS, _ACTION_EVENTS[action])


def delete_network(ctx: PlaneContext, network_id: str) -> None:
    """Delete the caller's network (see :func:`destroy_network`)."""
    destroy_network(ctx.session, get_network(ctx.session, ctx.caller, network_id), ctx.dispatcher, ctx.caller)


def remove_from_network(ctx: PlaneContext, network_id: str, what: NetworkMixin, identifier: str) -> None:
    """Take a mixin (``identifier``, of the sort ``what``) off a network the caller sees."""
    if what is NetworkMixin.TAG:
        tags.untag(ctx.session, ctx.caller, identifier, [network_id])
    elif what is NetworkMixin.DEFAULT:
        default_networks.unmake_default_network(ctx.session, ctx.caller.project_id,
                                                get_network(ctx.session, ctx.caller, network_id))
    elif what is NetworkMixin.ADDRESSING:
        change_network(ctx.session, get_network(ctx.session, ctx.caller, network_id),
                       dict.fromkeys(_ADDRESSING_FIELDS))
    else:
        raise NotPermitted(f"the mixin {identifier.rsplit('#', 1)[-1]} cannot be removed from a network")


# --- the rows they write -------------------------------------------------------------------------

#: The networks a project (bound as ``project``) can use: its own and the shared ones.
VISIBLE_NETWORKS = select(Network).where(or_(Network.project_id == bindparam("project"),
                                             Network.project_id.is_(None)))


def get_network(session: Session, caller: Caller, network_id: str) -> Network:
    # By primary key: a network this transaction has already read costs no query.
    network = session.get(Network, network_id)
    if network is None or network.project_id not in (None, caller.project_id):
        raise NotFound(f"no network {network_id}")
    return network


def new_network(session: Session, caller: Caller, request: NetworkRequest, dispatcher: Dispatcher) -> Network:
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


def change_network(session: Session, network: Network, changes: dict) -> None:
    """Apply attribute changes (column → value: title, summary, label, vlan, addressing) to a
    network of the project's own."""
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


def detach_nic(session: Session, nic: NetworkInterface, dispatcher: Dispatcher, caller: Caller | None = None) -> None:
    """Accepted in every state: queued behind the interface's step under way; nothing more
    when its compute is being deleted, which takes its links with it."""
    if not request_delete(session, nic):
        return
    vm = session.get(VirtualMachine, nic.vm_id)
    if vm is not None and is_deleting(vm):
        return
    dispatcher.submit(session, Operation("unplug_nic", nic.id), caller)


def dhcp_server_address(network: Network) -> str | None:
    """Where a private network's DHCP server answers: the subnet's last usable address, which
    is therefore never given to a NIC (the gateway, if any, stays the guests' router)."""
    if network.address is None or network.public:
        return None
    subnet = ipaddress.ip_network(network.address)
    if subnet.num_addresses < 4:
        return None  # a /31 or /32 has no room for a server beside its guests
    return str(subnet.broadcast_address - 1)


