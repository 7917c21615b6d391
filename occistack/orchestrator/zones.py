"""Availability zones as the use cases see them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..model import Zone
from .errors import Conflict, NotFound


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
