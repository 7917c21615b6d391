"""The event log: who did what to which resource, when, and how it ended.

Written in the transaction of the change itself, so an event exists exactly when the change
does; a job's events say "scheduled" when it is accepted and "completed" or "failed" when it
ends (CloudStack's event states).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..model import EventRecord
from .caller import Caller


def record_event(session: Session, action: str, state: str, resource_type: str, resource_id: str | int | None,
                 *, caller: Caller | None = None, actor: str | None = None, project_id: int | None = None,
                 job_id: int | None = None, description: str | None = None) -> EventRecord:
    """Add an event row; ``actor`` defaults to the caller's name, or "system"."""
    event = EventRecord(
        action=action, state=state, resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        actor=actor or (caller.user_name if caller else "system"),
        user_id=caller.user_id if caller else None,
        project_id=project_id if project_id is not None else (caller.project_id if caller else None),
        job_id=job_id, description=description[:4000] if description else None,
    )
    session.add(event)
    return event
