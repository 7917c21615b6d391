"""A zone's networks as the faces ask for them: physical networks with their guest VLAN ranges,
and IP ranges (a zone's public ones, a pod's management ones)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from occistack.model import IpRange, VlanRange
from occistack.plane.admin import addresses, networks
from occistack.plane.admin.cases.common import UNCHANGED, Unchanged, actor_of, changes_of
from occistack.plane.admin.common import Ref, find_row
from occistack.plane.admin.lookup import find_physical_network
from occistack.plane.admin.networks import VlanSpec
from occistack.plane.admin.records.networks import (
    IpRangeRecord,
    PhysicalNetworkRecord,
    VlanRangeRecord,
    ip_range_record,
    ip_range_records,
    physical_network_record,
    physical_network_records,
    vlan_range_record,
)
from occistack.plane.context import PlaneContext
from occistack.plane.errors import NotFound


@dataclass(frozen=True)
class NewPhysicalNetwork:
    zone: Ref
    name: str
    #: what it carries, of guest, public, management and storage: a list, or comma-separated text.
    traffic_types: Sequence[str] | str = ("guest",)
    #: VLAN or none.
    isolation: str = "VLAN"
    #: the host bridge the traffic goes out on (like cloudbr0).
    bridge: str | None = None
    #: guest VLAN ranges, each "FIRST-LAST" text, one id or a (first, last) pair.
    vlan_ranges: Sequence[VlanSpec] = field(default_factory=tuple)


@dataclass(frozen=True)
class PhysicalNetworkChanges:
    """What may change of a physical network (networks.update_physical_network says when, and
    why its isolation may not)."""

    name: str | Unchanged = UNCHANGED
    #: a list, or comma-separated text.
    traffic_types: Sequence[str] | str | Unchanged = UNCHANGED
    #: None: none.
    bridge: str | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewVlanRange:
    first: int
    last: int


@dataclass(frozen=True)
class NewIpRange:
    #: public (a zone's, with its gateway and prefix length) or management (a pod's, in its subnet).
    purpose: str
    first: str
    last: str
    zone: Ref | None = None
    pod: Ref | None = None
    gateway: str | None = None
    prefix_length: int | None = None
    vlan: int | None = None


@dataclass(frozen=True)
class IpRangeChanges:
    """What may change of an IP range (addresses.update_ip_range says when, and why its gateway,
    prefix length, purpose, zone and pod may not)."""

    first: str | Unchanged = UNCHANGED
    last: str | Unchanged = UNCHANGED
    #: None: untagged.
    vlan: int | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class IpRangeFilter:
    zone: Ref | None = None
    purpose: str | None = None
    pod: Ref | None = None


# --- physical networks ------------------------------------------------------------------------------

def add_physical_network(ctx: PlaneContext, new: NewPhysicalNetwork) -> PhysicalNetworkRecord:
    return physical_network_record(ctx.session, networks.create_physical_network(
        ctx.session, zone=new.zone, name=new.name, traffic_types=new.traffic_types, isolation=new.isolation,
        bridge=new.bridge, vlan_ranges=new.vlan_ranges, actor=actor_of(ctx)))


def list_physical_networks(ctx: PlaneContext, zone: Ref | None = None) -> list[PhysicalNetworkRecord]:
    return physical_network_records(ctx.session, networks.list_physical_networks(ctx.session, zone=zone))


def show_physical_network(ctx: PlaneContext, physical_network: Ref, *,
                          zone: Ref | None = None) -> PhysicalNetworkRecord:
    return physical_network_record(ctx.session, find_physical_network(ctx.session, physical_network, zone=zone))


def update_physical_network(ctx: PlaneContext, physical_network: Ref, changes: PhysicalNetworkChanges, *,
                            zone: Ref | None = None) -> PhysicalNetworkRecord:
    return physical_network_record(ctx.session, networks.update_physical_network(
        ctx.session, physical_network, zone=zone, **changes_of("physical network", changes), actor=actor_of(ctx)))


def remove_physical_network(ctx: PlaneContext, physical_network: Ref, *, zone: Ref | None = None) -> None:
    """Its VLAN ranges go with it; not while a guest network uses it."""
    networks.remove_physical_network(ctx.session, physical_network, zone=zone, actor=actor_of(ctx))


# --- VLAN ranges ------------------------------------------------------------------------------------

def add_vlan_range(ctx: PlaneContext, physical_network: Ref, new: NewVlanRange, *,
                   zone: Ref | None = None) -> VlanRangeRecord:
    return vlan_range_record(networks.add_vlan_range(ctx.session, physical_network=physical_network,
                                                     first=new.first, last=new.last, zone=zone, actor=actor_of(ctx)))


def list_vlan_ranges(ctx: PlaneContext, physical_network: Ref | None = None, *,
                     zone: Ref | None = None) -> list[VlanRangeRecord]:
    """The ranges of one physical network, or of a zone's, or of every zone's."""
    return [vlan_range_record(vlan_range) for vlan_range in networks.list_vlan_ranges(
        ctx.session, physical_network=physical_network, zone=zone)]


def find_vlan_range(ctx: PlaneContext, physical_network: Ref, vlan_range: int | str, *,
                    zone: Ref | None = None) -> VlanRangeRecord:
    """A range of the physical network, by its id (an int) or its bounds ("FIRST-LAST" text):
    NotFound when the network has no such range (a range id of another network included)."""
    return vlan_range_record(_find_vlan_range(ctx, physical_network, vlan_range, zone))


def remove_vlan_range(ctx: PlaneContext, physical_network: Ref, vlan_range: int | str, *,
                      zone: Ref | None = None) -> VlanRangeRecord:
    """Remove a range (named as :func:`find_vlan_range` takes it) that no guest network uses;
    the range removed is returned."""
    found = _find_vlan_range(ctx, physical_network, vlan_range, zone)
    removed = vlan_range_record(found)
    networks.remove_vlan_range(ctx.session, found.id, actor=actor_of(ctx))
    return removed


def _find_vlan_range(ctx: PlaneContext, physical_network: Ref, vlan_range: int | str,
                     zone: Ref | None) -> VlanRange:
    network = find_physical_network(ctx.session, physical_network, zone=zone)
    if isinstance(vlan_range, int) and not isinstance(vlan_range, bool):
        found = ctx.session.get(VlanRange, vlan_range)
        if found is None or found.physical_network_id != network.id:
            raise NotFound(f"physical network {network.name!r} has no VLAN range with id {vlan_range}")
        return found
    bounds = networks.vlan_bounds(vlan_range)
    ranges = networks.list_vlan_ranges(ctx.session, physical_network=network.id)
    match = next((r for r in ranges if (r.first_vlan, r.last_vlan) == bounds), None)
    if match is None:
        existing = ", ".join(f"{r.first_vlan}-{r.last_vlan}" for r in ranges) or "none"
        raise NotFound(f"physical network {network.name!r} has no VLAN range {vlan_range}; its ranges are: {existing}")
    return match


# --- IP ranges --------------------------------------------------------------------------------------

def add_ip_range(ctx: PlaneContext, new: NewIpRange) -> IpRangeRecord:
    """A public range of a zone (whose first brings the zone's shared public network), or a
    management range of a pod."""
    return ip_range_record(ctx.session, addresses.add_ip_range(
        ctx.session, zone=new.zone, purpose=new.purpose, first=new.first, last=new.last, gateway=new.gateway,
        prefix_length=new.prefix_length, vlan=new.vlan, pod=new.pod, actor=actor_of(ctx)))


def list_ip_ranges(ctx: PlaneContext, where: IpRangeFilter = IpRangeFilter()) -> list[IpRangeRecord]:
    return ip_range_records(ctx.session, addresses.list_ip_ranges(ctx.session, zone=where.zone, purpose=where.purpose,
                                                                  pod=where.pod))


def show_ip_range(ctx: PlaneContext, range_id: int) -> IpRangeRecord:
    return ip_range_record(ctx.session, find_row(ctx.session, IpRange, range_id, "IP range"))


def update_ip_range(ctx: PlaneContext, range_id: int, changes: IpRangeChanges) -> IpRangeRecord:
    return ip_range_record(ctx.session, addresses.update_ip_range(ctx.session, range_id,
                                                                  **changes_of("IP range", changes),
                                                                  actor=actor_of(ctx)))


def remove_ip_range(ctx: PlaneContext, range_id: int) -> None:
    addresses.remove_ip_range(ctx.session, range_id, actor=actor_of(ctx))
