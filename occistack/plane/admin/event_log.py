"""Reading the event log: who did what to which resource, newest first."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from occistack.model import EventRecord
from occistack.plane.errors import InvalidRequest
from occistack.plane.admin.common import Ref, check_whole
from occistack.plane.admin.lookup import find_project

DEFAULT_EVENTS, MOST_EVENTS = 100, 1000


def list_events(session: Session, *, since: datetime | None = None, project: Ref | None = None,
                resource: str | None = None, action: str | None = None,
                limit: int = DEFAULT_EVENTS) -> list[EventRecord]:
    """Events at or after ``since``, of ``project``, about ``resource`` ("host" for every host,
    "host:3" for one), with ``action`` ("zone.create"; "zone" for every zone action), newest
    first, at most ``limit`` of them."""
    limit = check_whole("the number of events", limit, 1, MOST_EVENTS)
    query = select(EventRecord).order_by(EventRecord.created_at.desc(), EventRecord.id.desc()).limit(limit)
    if since is not None:
        query = query.where(EventRecord.created_at >= _as_stored(since))
    if project is not None:
        query = query.where(EventRecord.project_id == find_project(session, project).id)
    if resource is not None:
        resource_type, separator, resource_id = resource.partition(":")
        if not resource_type or (separator and not resource_id):
            raise InvalidRequest(f"the resource filter {resource!r} is not TYPE or TYPE:ID (like host or host:3)")
        query = query.where(EventRecord.resource_type == resource_type)
        if separator:
            query = query.where(EventRecord.resource_id == resource_id)
    if action is not None:
        if not action:
            raise InvalidRequest("the action filter is empty; name an action (like zone.create) or a group (zone)")
        if "." in action:
            query = query.where(EventRecord.action == action)
        else:
            pattern = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
            query = query.where(or_(EventRecord.action == action, EventRecord.action.like(pattern, escape="\\")))
    return list(session.scalars(query))


def _as_stored(moment: datetime) -> datetime:
    """Event times are stored as naive UTC."""
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment
