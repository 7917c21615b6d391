"""Each zone's shared public network: the network every project can link its computes to for a
routable address, handed out of that zone's public IP ranges only.

A zone gets it with its first public IP range (or, for a zone whose ranges predate that, by
the administrator's command). The first one of the cloud has the id ``public`` -- what the README
and existing clients use -- and the others ``public-<zone>``.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import ENTITY_ID_LENGTH, Entity, IpRange, Network, NetworkInterface, Zone
from occistack.model.states import NetworkState
from occistack.plane.errors import Conflict
from occistack.plane.admin.common import SYSTEM, Actor, Ref, record_change
from occistack.plane.admin.lookup import find_zone

#: The id of the first public network, which the demo and the README name.
FIRST_PUBLIC_NETWORK = "public"


#: A zone's shared public network: the first public network of no project in it.
_SHARED_PUBLIC = (Network.public.is_(True), Network.project_id.is_(None))


def zone_public_network(session: Session, zone_id: int) -> Network | None:
    """The zone's shared public network, if it has one."""
    return session.scalar(select(Network).where(Network.zone_id == zone_id, *_SHARED_PUBLIC)
                          .order_by(Network.created_at).limit(1))


def public_network_ids(session: Session, zone_ids: Iterable[int]) -> dict[int, str]:
    """zone id → the id of its shared public network, for those of ``zone_ids`` that have one."""
    found: dict[int, str] = {}
    for zone_id, network_id in session.execute(select(Network.zone_id, Network.id).where(
            Network.zone_id.in_(set(zone_ids)), *_SHARED_PUBLIC).order_by(Network.created_at)):
        found.setdefault(zone_id, network_id)
    return found


def give_zone_public_network(session: Session, zone: Zone, ip_range: IpRange, actor: Actor = SYSTEM) -> Network:
    """The zone's public network, created (addressed as ``ip_range``'s subnet) if it has none."""
    existing = zone_public_network(session, zone.id)
    if existing is not None:
        return existing
    subnet = ipaddress.ip_network(f"{ip_range.gateway}/{ip_range.prefix_length}", strict=False)
    network = Network(id=_free_id(session, zone), project_id=None, title=f"Public network of zone {zone.name}",
                      address=str(subnet), gateway=ip_range.gateway, allocation="dynamic", public=True,
                      zone_id=zone.id, state=NetworkState.ACTIVE)
    session.add(network)
    session.flush()
    record_change(session, actor, "network.create", "network", network.id,
                  f"shared public network {network.id} of zone {zone.name!r}")
    return network


def create_public_network(session: Session, zone: Ref, *, actor: Actor = SYSTEM) -> Network:
    """The administrator's command: give a zone that has public IP ranges its public network."""
    the_zone = find_zone(session, zone)
    existing = zone_public_network(session, the_zone.id)
    if existing is not None:
        raise Conflict(f"zone {the_zone.name!r} already has its public network {existing.id}")
    first_range = session.scalar(select(IpRange).where(IpRange.zone_id == the_zone.id, IpRange.purpose == "public")
                                 .order_by(IpRange.first_number).limit(1))
    if first_range is None:
        raise Conflict(f"zone {the_zone.name!r} has no public IP range to hand out addresses from: add one "
                       f"(ip-range add --zone {the_zone.name} --purpose public FIRST-LAST --gateway G "
                       "--prefix-length N), which gives the zone its public network as well")
    return give_zone_public_network(session, the_zone, first_range, actor)


def release_zone_public_network(session: Session, zone_id: int, actor: Actor = SYSTEM) -> None:
    """Remove the zone's public network once its last public range is gone (no address of it can
    be in use then: a range with allocations is not removed)."""
    if session.scalar(select(IpRange.id).where(IpRange.zone_id == zone_id, IpRange.purpose == "public")
                      .limit(1)) is not None:
        return
    network = zone_public_network(session, zone_id)
    if network is None or session.scalar(select(NetworkInterface.id).where(NetworkInterface.network_id == network.id)
                                         .limit(1)) is not None:
        return
    session.delete(network)
    session.flush()
    record_change(session, actor, "network.remove", "network", network.id,
                  f"shared public network {network.id}: its zone has no public IP range left")


def _free_id(session: Session, zone: Zone) -> str:
    for candidate in (FIRST_PUBLIC_NETWORK, f"public-{zone.name}"[:ENTITY_ID_LENGTH]):
        if session.scalar(select(Entity.id).where(Entity.id == candidate)) is None:
            return candidate
    return str(uuid.uuid4())
