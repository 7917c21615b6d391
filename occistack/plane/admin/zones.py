"""Regions and zones: the first things a site administrator creates, in CloudStack's order.

A zone is published to OCCI users as an availability_zone mixin whose term is the zone's name,
so its name must be a valid OCCI term; the name rule of ``common`` is exactly that.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import (
    Cluster,
    Host,
    IpRange,
    Network,
    PhysicalNetwork,
    Pod,
    Region,
    SecondaryStorage,
    StoragePool,
    VirtualMachine,
    Volume,
    Zone,
)
from occistack.plane.admin.addresses import dns_servers, ipv4_network
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_name,
    check_title,
    count,
    record_change,
    refuse_duplicate,
    refuse_if_used,
    set_enabled,
)
from occistack.plane.admin.lookup import find_region, find_zone

NETWORK_TYPES = ("basic", "advanced")
DEFAULT_GUEST_CIDR = "10.1.1.0/24"


def create_region(session: Session, *, name: str, title: str | None = None, actor: Actor = SYSTEM) -> Region:
    check_name("region", name)
    refuse_duplicate(session, Region, "a region", [Region.name == name], f"named {name!r}")
    region = Region(name=name, title=check_title("region", title))
    session.add(region)
    session.flush()
    record_change(session, actor, "region.create", "region", region.id, f"region {name!r}")
    return region


def update_region(session: Session, region: Ref, *, title=UNCHANGED, actor: Actor = SYSTEM) -> Region:
    """Change a region's title. Its name stays: it is how administrators and scripts name the
    region, as CloudStack's updateRegion keeps its id."""
    found = find_region(session, region)
    changed = {}
    if title is not UNCHANGED:
        changed["title"] = check_title("region", title)
    apply_changes(session, found, "region", changed, actor)
    return found


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.name)))


def remove_region(session: Session, region: Ref, *, actor: Actor = SYSTEM) -> None:
    found = find_region(session, region)
    refuse_if_used(f"region {found.name!r}", {"zone": count(session, Zone, Zone.region_id == found.id)})
    session.delete(found)
    session.flush()
    record_change(session, actor, "region.remove", "region", found.id, f"region {found.name!r}")


def create_zone(session: Session, *, name: str, title: str | None = None, network_type: str = "advanced",
                guest_cidr: str | None = None, dns: str | list[str] | None = None, region: Ref | None = None,
                enabled: bool = True, actor: Actor = SYSTEM) -> Zone:
    """A zone, enabled at once unless ``enabled`` is false (CloudStack creates zones disabled
    so that they can be completed first; here a zone without hosts simply places nothing)."""
    check_name("zone", name)
    check_choice("network type", network_type, NETWORK_TYPES)
    cidr = str(ipv4_network("the guest CIDR", guest_cidr if guest_cidr is not None else DEFAULT_GUEST_CIDR))
    servers = dns_servers(dns)
    region_id = find_region(session, region).id if region is not None else None
    refuse_duplicate(session, Zone, "a zone", [Zone.name == name], f"named {name!r}")
    zone = Zone(name=name, title=check_title("zone", title), network_type=network_type, guest_cidr=cidr, dns=servers,
                region_id=region_id, enabled=bool(enabled))
    session.add(zone)
    session.flush()
    record_change(session, actor, "zone.create", "zone", zone.id, f"{network_type} zone {name!r}")
    return zone


def update_zone(session: Session, zone: Ref, *, title=UNCHANGED, guest_cidr=UNCHANGED, dns=UNCHANGED,
                region=UNCHANGED, actor: Actor = SYSTEM) -> Zone:
    """Change what a zone's users and new networks see: its title, the guest CIDR an isolated
    network gets when none is asked for (networks made before keep theirs), its guests' DNS
    servers, its region (None: none). Its name is the availability_zone mixin clients hold, and
    its network type decides how every network in it was built: both stay as created."""
    found = find_zone(session, zone)
    changed = {}
    if title is not UNCHANGED:
        changed["title"] = check_title("zone", title)
    if guest_cidr is not UNCHANGED:
        changed["guest_cidr"] = str(ipv4_network("the guest CIDR", guest_cidr if guest_cidr is not None
                                                 else DEFAULT_GUEST_CIDR))
    if dns is not UNCHANGED:
        changed["dns"] = dns_servers(dns)
    if region is not UNCHANGED:
        changed["region_id"] = find_region(session, region).id if region is not None else None
    apply_changes(session, found, "zone", changed, actor)
    return found


def list_zones(session: Session) -> list[Zone]:
    return list(session.scalars(select(Zone).order_by(Zone.name)))


def enable_zone(session: Session, zone: Ref, *, actor: Actor = SYSTEM) -> Zone:
    return set_enabled(session, find_zone(session, zone), "zone", True, actor)


def disable_zone(session: Session, zone: Ref, *, actor: Actor = SYSTEM) -> Zone:
    """A disabled zone is no longer offered as an availability zone and placement skips it;
    what runs there keeps running."""
    return set_enabled(session, find_zone(session, zone), "zone", False, actor)


def remove_zone(session: Session, zone: Ref, *, actor: Actor = SYSTEM) -> None:
    found = find_zone(session, zone)
    refuse_if_used(f"zone {found.name!r}", {
        "pod": count(session, Pod, Pod.zone_id == found.id),
        "cluster": count(session, Cluster, Cluster.zone_id == found.id),
        "host": count(session, Host, Host.zone_id == found.id),
        "primary storage pool": count(session, StoragePool, StoragePool.zone_id == found.id),
        "secondary storage": count(session, SecondaryStorage, SecondaryStorage.zone_id == found.id),
        "physical network": count(session, PhysicalNetwork, PhysicalNetwork.zone_id == found.id),
        "IP range": count(session, IpRange, IpRange.zone_id == found.id),
        "virtual machine": count(session, VirtualMachine, VirtualMachine.zone_id == found.id),
        "volume": count(session, Volume, Volume.zone_id == found.id),
        "guest network": count(session, Network, Network.zone_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "zone.remove", "zone", found.id, f"zone {found.name!r}")
