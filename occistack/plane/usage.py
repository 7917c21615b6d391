"""Usage records: intervals of use opened and closed as resources change state.

``vm_allocated`` runs from a VM's successful deploy to its destruction, ``vm_running`` from
each start to the following stop, suspend or destruction, ``volume`` from creation to
deletion (a resize closes one interval and opens another with the new size), ``public_ip``
from allocation to release. Accounting records (APEL for EGI) are computed from them later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from occistack.model import UsageRecord, utcnow

usage = UsageRecord.__table__


_INSERT = insert(UsageRecord.__table__)


def open_usage(session: Session, usage_type: str | tuple[str, ...], resource_id: str, project_id: int | None, *,
               zone_id: int | None = None, cores: int | None = None, memory_gib: float | None = None,
               size_gib: float | None = None, description: str | None = None,
               at: datetime | None = None) -> None:
    """Open intervals of one or more types for a resource (one INSERT for all of them)."""
    types = (usage_type,) if isinstance(usage_type, str) else usage_type
    row = {"resource_id": resource_id, "project_id": project_id, "zone_id": zone_id, "cores": cores,
           "memory_gib": memory_gib, "size_gib": size_gib, "ended_at": None,
           "description": description[:255] if description else None, "started_at": at or utcnow()}
    session.execute(_INSERT, [{**row, "usage_type": kind} for kind in types])


def close_usage(session: Session, usage_type: str | tuple[str, ...], resource_id: str,
                at: datetime | None = None) -> int:
    """Close the open intervals of a resource; how many were open."""
    types = (usage_type,) if isinstance(usage_type, str) else usage_type
    result = session.execute(update(usage).where(usage.c.resource_id == resource_id,
                                                 usage.c.usage_type.in_(types), usage.c.ended_at.is_(None))
                             .values(ended_at=at or utcnow()).execution_options(synchronize_session=False))
    return result.rowcount
