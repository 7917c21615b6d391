"""Reading the cloud back, as the faces ask for it: the event log and the capacity report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from occistack.plane.admin import capacity, event_log
from occistack.plane.admin.capacity import CapacityReport
from occistack.plane.admin.common import Ref
from occistack.plane.admin.event_log import DEFAULT_EVENTS
from occistack.plane.admin.records.reports import EventLogRecord, event_record
from occistack.plane.context import PlaneContext


@dataclass(frozen=True)
class EventFilter:
    #: only events at or after this time.
    since: datetime | None = None
    project: Ref | None = None
    #: "host" for every host's events, "host:3" for one host's.
    resource: str | None = None
    #: "zone.create", or "zone" for every zone action.
    action: str | None = None
    #: at most this many (1 to event_log.MOST_EVENTS).
    limit: int = DEFAULT_EVENTS


def list_events(ctx: PlaneContext, where: EventFilter = EventFilter()) -> list[EventLogRecord]:
    """The events ``where`` selects, newest first."""
    return [event_record(event) for event in event_log.list_events(
        ctx.session, since=where.since, project=where.project, resource=where.resource, action=where.action,
        limit=where.limit)]


def capacity_report(ctx: PlaneContext) -> CapacityReport:
    """Used and total capacity per zone and for the whole cloud."""
    return capacity.capacity_report(ctx.session)
