"""Availability zones as the use cases see them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import Zone
from occistack.plane.errors import Conflict, NotFound


def zone_id_for(session: Session, zone_name: str | None) -> int | None:
    """The named zone, or with no name the first enabled one (None if the cloud has none)."""
    if zone_name is None:
        return session.scalar(select(Zone.id).where(Zone.enabled.is_(True)).order_by(Zone.id).limit(1))
    zone = session.scalar(select(Zone).where(Zone.name == zone_name))
    if zone is None:
        raise NotFound(f"no availability zone {zone_name!r}")
    if not zone.enabled:
        raise Conflict(f"availability zone {zone_name!r} is disabled; choose another")
    return zone.id


def zone_name(session: Session, zone_id: int) -> str:
    # By primary key: the zones a request names are read once and then come from the session.
    zone = session.get(Zone, zone_id)
    return zone.name if zone is not None else f"#{zone_id}"


def require_same_zone(session: Session, compute_zone_id: int | None, zone_id: int | None, what: str) -> None:
    """Refuse ``what`` (a network, a volume, a group: "network 7f3e…") for a compute of
    another zone: everything a compute links, attaches or joins lives in the compute's zone.
    Things in no zone (a cloud built before it had zones) fit any compute."""
    if compute_zone_id is None or zone_id is None or compute_zone_id == zone_id:
        return
    raise Conflict(f"{what} is in zone {zone_name(session, zone_id)}, the compute is in zone "
                   f"{zone_name(session, compute_zone_id)}: a compute uses only what is in its own zone; "
                   f"choose one of zone {zone_name(session, compute_zone_id)} or create the compute in zone "
                   f"{zone_name(session, zone_id)}")
