"""A zone's physical networks (the wires its traffic rides on) and the guest VLAN ranges they
hand out. No two VLAN ranges of one zone overlap: a guest network's VLAN id then names one
network of the zone, whichever physical network carries it."""

from __future__ import annotations

import re
from typing import Iterable

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from occistack.model import GuestVlan, Network, PhysicalNetwork, VlanRange, Zone
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_name,
    count,
    find_row,
    record_change,
    refuse_duplicate,
    refuse_if_used,
)
from occistack.plane.admin.lookup import find_physical_network, find_zone

ISOLATION_METHODS = ("VLAN", "none")
TRAFFIC_TYPES = ("guest", "public", "management", "storage")
#: Traffic a zone sends over one physical network only (guest traffic may be spread).
_SINGLE_NETWORK_TRAFFIC = ("public", "management", "storage")
FIRST_VLAN, LAST_VLAN = 1, 4094
#: Linux interface names: at most 15 characters (IFNAMSIZ - 1).
_BRIDGE = re.compile(r"[A-Za-z0-9_.\-]{1,15}")

VlanSpec = str | int | tuple[int, int] | list[int]


def create_physical_network(session: Session, *, zone: Ref, name: str, traffic_types: Iterable[str] | str = ("guest",),
                            isolation: str = "VLAN", bridge: str | None = None,
                            vlan_ranges: Iterable[VlanSpec] = (), actor: Actor = SYSTEM) -> PhysicalNetwork:
    the_zone = find_zone(session, zone)
    check_name("physical network", name)
    check_choice("isolation method", isolation, ISOLATION_METHODS)
    traffic = _traffic_types(traffic_types)
    _check_bridge(bridge)
    refuse_duplicate(session, PhysicalNetwork, "a physical network",
                     [PhysicalNetwork.zone_id == the_zone.id, PhysicalNetwork.name == name],
                     f"named {name!r}", f"in zone {the_zone.name!r}")
    _refuse_shared_traffic(session, the_zone, traffic)
    network = PhysicalNetwork(zone_id=the_zone.id, name=name, isolation=isolation, traffic_types=",".join(traffic),
                              bridge=bridge)
    session.add(network)
    session.flush()
    record_change(session, actor, "physical_network.create", "physical_network", network.id,
                  f"physical network {name!r} ({','.join(traffic)}) in zone {the_zone.name!r}")
    for spec in vlan_ranges:
        first, last = vlan_bounds(spec)
        _add_vlan_range(session, the_zone, network, first, last, actor)
    return network


def _check_bridge(bridge: object) -> None:
    if bridge is not None and not (isinstance(bridge, str) and _BRIDGE.fullmatch(bridge)):
        raise InvalidRequest(f"the bridge {bridge!r} is not a network interface name: at most 15 letters, digits, "
                             "'.', '-' or '_'")


def _refuse_shared_traffic(session: Session, zone: Zone, traffic: list[str], network_id: int | None = None) -> None:
    """A zone sends its public, management and storage traffic over one physical network each
    (``network_id``: the network itself, when its traffic changes)."""
    for other in session.scalars(select(PhysicalNetwork).where(PhysicalNetwork.zone_id == zone.id,
                                                               PhysicalNetwork.id != network_id)):
        shared = set(traffic) & set(other.traffic_types.split(",")) & set(_SINGLE_NETWORK_TRAFFIC)
        if shared:
            raise Conflict(f"physical network {other.name!r} already carries the {', '.join(sorted(shared))} traffic "
                           f"of zone {zone.name!r}; a zone has one physical network for each of "
                           f"{', '.join(_SINGLE_NETWORK_TRAFFIC)}")


def update_physical_network(session: Session, physical_network: Ref, *, zone: Ref | None = None, name=UNCHANGED,
                            traffic_types=UNCHANGED, bridge=UNCHANGED, actor: Actor = SYSTEM) -> PhysicalNetwork:
    """Rename a physical network (a label for administrators, unique in its zone), or change
    the traffic it carries and the host bridge (None: none) that traffic goes out on, checked
    as when it was created, while no guest network uses it: those were plugged into its bridge
    for its traffic. Its isolation stays: its VLAN ranges (added and removed on their own) and
    the guest VLANs handed out from them depend on it. CloudStack's updatePhysicalNetwork
    likewise changes tags, speed and VLAN ranges, not the isolation."""
    found = find_physical_network(session, physical_network, zone=zone)
    the_zone = session.get(Zone, found.zone_id)
    changed = {}
    if name is not UNCHANGED and name != found.name:
        check_name("physical network", name)
        refuse_duplicate(session, PhysicalNetwork, "a physical network",
                         [PhysicalNetwork.zone_id == found.zone_id, PhysicalNetwork.name == name],
                         f"named {name!r}", f"in zone {the_zone.name!r}")
        changed["name"] = name
    if traffic_types is not UNCHANGED:
        traffic = _traffic_types(traffic_types)
        _refuse_shared_traffic(session, the_zone, traffic, found.id)
        changed["traffic_types"] = ",".join(traffic)
    if bridge is not UNCHANGED:
        _check_bridge(bridge)
        changed["bridge"] = bridge
    rewired = sorted(column for column in ("traffic_types", "bridge")
                     if column in changed and changed[column] != getattr(found, column))
    if rewired:
        users = count(session, Network, Network.physical_network_id == found.id)
        if users:
            raise Conflict(f"physical network {found.name!r} keeps its {' and '.join(rewired)}: {users} guest "
                           f"network{'' if users == 1 else 's'} {'is' if users == 1 else 'are'} plugged into it")
    apply_changes(session, found, "physical network", changed, actor)
    return found


def _traffic_types(value: Iterable[str] | str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    traffic: list[str] = []
    for item in items:
        item = item.strip() if isinstance(item, str) else item
        check_choice("traffic type", item, TRAFFIC_TYPES)
        if item not in traffic:
            traffic.append(item)
    if not traffic:
        raise InvalidRequest(f"a physical network carries at least one traffic type: {', '.join(TRAFFIC_TYPES)}")
    return traffic


def vlan_bounds(spec: VlanSpec) -> tuple[int, int]:
    """"100-199", "100", 100, (100, 199) → (first, last)."""
    if isinstance(spec, str):
        first_text, _, last_text = spec.partition("-")
        try:
            return int(first_text), int(last_text or first_text)
        except ValueError:
            raise InvalidRequest(f"VLAN range {spec!r} is not FIRST-LAST (like 100-199)") from None
    if isinstance(spec, int) and not isinstance(spec, bool):
        return spec, spec
    if (isinstance(spec, (tuple, list)) and len(spec) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in spec)):
        return spec[0], spec[1]
    raise InvalidRequest(f"VLAN range {spec!r} is not FIRST-LAST (like 100-199) or a pair of ids")


def add_vlan_range(session: Session, *, physical_network: Ref, first: int, last: int, zone: Ref | None = None,
                   actor: Actor = SYSTEM) -> VlanRange:
    network = find_physical_network(session, physical_network, zone=zone)
    return _add_vlan_range(session, session.get(Zone, network.zone_id), network, first, last, actor)


def _add_vlan_range(session: Session, zone: Zone, network: PhysicalNetwork, first: int, last: int,
                    actor: Actor) -> VlanRange:
    if not all(isinstance(vlan, int) and not isinstance(vlan, bool) for vlan in (first, last)):
        raise InvalidRequest(f"VLAN ids are whole numbers from {FIRST_VLAN} to {LAST_VLAN}; got {first!r} and {last!r}")
    label = f"VLAN range {first}-{last}"
    if network.isolation != "VLAN":
        raise InvalidRequest(f"physical network {network.name!r} is not isolated by VLAN (its isolation is "
                             f"{network.isolation}): it has no VLAN ranges")
    if not (FIRST_VLAN <= first <= LAST_VLAN and FIRST_VLAN <= last <= LAST_VLAN):
        raise InvalidRequest(f"{label} is out of range: VLAN ids are {FIRST_VLAN} to {LAST_VLAN}")
    if first > last:
        raise InvalidRequest(f"{label} is backwards: the first id must not be above the last")
    clash = session.execute(
        select(VlanRange, PhysicalNetwork.name)
        .join(PhysicalNetwork, PhysicalNetwork.id == VlanRange.physical_network_id)
        .where(PhysicalNetwork.zone_id == zone.id, VlanRange.first_vlan <= last, VlanRange.last_vlan >= first)
        .order_by(VlanRange.first_vlan).limit(1)).first()
    if clash is not None:
        other, network_name = clash
        raise Conflict(f"{label} overlaps the range {other.first_vlan}-{other.last_vlan} of physical network "
                       f"{network_name!r} in zone {zone.name!r}")
    vlan_range = VlanRange(physical_network_id=network.id, first_vlan=first, last_vlan=last)
    session.add(vlan_range)
    session.flush()
    record_change(session, actor, "vlan_range.add", "vlan_range", vlan_range.id,
                  f"{label} on physical network {network.name!r} of zone {zone.name!r}")
    return vlan_range


def remove_vlan_range(session: Session, range_id: int, *, actor: Actor = SYSTEM) -> None:
    vlan_range = find_row(session, VlanRange, range_id, "VLAN range")
    label = f"VLAN range {vlan_range.first_vlan}-{vlan_range.last_vlan}"
    refuse_if_used(label, {"guest network VLAN": count(
        session, GuestVlan, and_(GuestVlan.physical_network_id == vlan_range.physical_network_id,
                                 GuestVlan.vlan.between(vlan_range.first_vlan, vlan_range.last_vlan)))})
    session.delete(vlan_range)
    session.flush()
    record_change(session, actor, "vlan_range.remove", "vlan_range", range_id, label)


def list_physical_networks(session: Session, *, zone: Ref | None = None) -> list[PhysicalNetwork]:
    query = select(PhysicalNetwork).order_by(PhysicalNetwork.zone_id, PhysicalNetwork.name)
    if zone is not None:
        query = query.where(PhysicalNetwork.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


def list_vlan_ranges(session: Session, *, physical_network: Ref | None = None,
                     zone: Ref | None = None) -> list[VlanRange]:
    query = (select(VlanRange).join(PhysicalNetwork, PhysicalNetwork.id == VlanRange.physical_network_id)
             .order_by(PhysicalNetwork.zone_id, VlanRange.first_vlan))
    if physical_network is not None:
        network = find_physical_network(session, physical_network, zone=zone)
        query = query.where(VlanRange.physical_network_id == network.id)
    elif zone is not None:
        query = query.where(PhysicalNetwork.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


def remove_physical_network(session: Session, physical_network: Ref, *, zone: Ref | None = None,
                            actor: Actor = SYSTEM) -> None:
    """Its VLAN ranges go with it; not while a guest network uses it."""
    found = find_physical_network(session, physical_network, zone=zone)
    refuse_if_used(f"physical network {found.name!r}", {
        "guest network": count(session, Network, Network.physical_network_id == found.id),
        "guest network VLAN": count(session, GuestVlan, GuestVlan.physical_network_id == found.id),
    })
    for vlan_range in session.scalars(select(VlanRange).where(VlanRange.physical_network_id == found.id)):
        session.delete(vlan_range)
    # Without ORM relationships the unit of work does not order these deletes: children first.
    session.flush()
    session.delete(found)
    session.flush()
    record_change(session, actor, "physical_network.remove", "physical_network", found.id,
                  f"physical network {found.name!r}")
