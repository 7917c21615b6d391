"""The event log: who did what to which resource, when, and how it ended.

Written in the transaction of the change itself, so an event exists exactly when the change
does; a job's events say "scheduled" when it is accepted and "completed" or "failed" when it
ends (CloudStack's event states).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sqlalchemy import insert

from ..model import EventRecord, utcnow
from .caller import Caller


_INSERT = insert(EventRecord.__table__)


def record_event(session: Session, action: str, state: str, resource_type: str, resource_id: str | int | None,
                 *, caller: Caller | None = None, actor: str | None = None, project_id: int | None = None,
                 job_id: int | None = None, description: str | None = None, user_id: int | None = None) -> None:
    """Add an event row; ``actor`` defaults to the caller's name, or "system". Written at once
    with a Core INSERT: events are never read back in the transaction that writes them, and
    the ORM's unit of work would cost more than the insert."""
    session.execute(_INSERT, {
        "created_at": utcnow(), "action": action, "state": state, "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "actor": actor or (caller.user_name if caller else "system"),
        "user_id": user_id if user_id is not None else (caller.user_id if caller else None),
        "project_id": project_id if project_id is not None else (caller.project_id if caller else None),
        "job_id": job_id, "description": description[:4000] if description else None,
    })
