"""The event log: who did what to which resource, when, and how it ended.

Written in the transaction of the change itself, so an event exists exactly when the change
does; a job's events say "scheduled" when it is accepted and "completed" or "failed" when it
ends (CloudStack's event states).

Every event names its actor: the caller of a use case; for a job's events, the user whose
request started the job (the job's ``user_id``), so a user's delete or stop is theirs in the
log even though a worker finished it; "system" only for what nobody asked for. Every event
has a description: a short sentence for a reader of ``occistack events``.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from occistack.model import EventRecord, Job, User, utcnow
from occistack.plane.caller import Caller

_INSERT = insert(EventRecord.__table__)
#: A job's event: its actor and user are the job's user, read in the INSERT itself.
_JOB_USER = select(Job.user_id).where(Job.id == bindparam("of_job")).scalar_subquery()
_INSERT_FOR_JOB = insert(EventRecord.__table__).values(
    actor=func.coalesce(select(User.name).where(User.id == _JOB_USER).scalar_subquery(), "system"),
    user_id=_JOB_USER)


def record_event(session: Session, action: str, state: str, resource_type: str, resource_id: str | int | None,
                 *, caller: Caller | None = None, actor: str | None = None, project_id: int | None = None,
                 job_id: int | None = None, description: str | None = None, user_id: int | None = None) -> None:
    """Add an event row; ``actor`` defaults to the caller's name, else to the user of the job
    ``job_id``, else "system". Written at once with a Core INSERT: events are never read back
    in the transaction that writes them, and the ORM's unit of work would cost more than the
    insert."""
    values = {
        "created_at": utcnow(), "action": action, "state": state, "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "project_id": project_id if project_id is not None else (caller.project_id if caller else None),
        "job_id": job_id, "description": (description or _described(action, state, resource_type, resource_id))[:4000],
    }
    if actor is None and caller is None and user_id is None and job_id is not None:
        session.execute(_INSERT_FOR_JOB, {**values, "of_job": job_id})
        return
    session.execute(_INSERT, {
        **values, "actor": actor or (caller.user_name if caller else "system"),
        "user_id": user_id if user_id is not None else (caller.user_id if caller else None),
    })


def _described(action: str, state: str, resource_type: str, resource_id: str | int | None) -> str:
    """The sentence of an event whose writer gave none: "vm.start completed for compute 3f2…"."""
    return f"{action} {state} for {resource_type} {resource_id}" if resource_id is not None else f"{action} {state}"
