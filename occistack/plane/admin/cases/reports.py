"""Reading the cloud back, as the faces ask for it: the event log, the capacity report, the
figures monitoring scrapes and the server's health."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from occistack.plane.admin import capacity, event_log, figures, health
from occistack.plane.admin.capacity import CapacityReport
from occistack.plane.admin.common import Ref
from occistack.plane.admin.event_log import DEFAULT_EVENTS
from occistack.plane.admin.figures import CloudFigures
from occistack.plane.admin.health import HealthQuestion, HealthReport
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


def cloud_figures(ctx: PlaneContext) -> CloudFigures:
    """Hosts by state, capacity per zone and resource, jobs by operation and state with their
    durations, agents' round trips: a few aggregate queries, whatever the cloud's size."""
    return figures.cloud_figures(ctx.session, ctx.now())


def check_health(open_session: Callable[[], AbstractContextManager[Session]], question: HealthQuestion) -> HealthReport:
    """The server's health checks (database, workers, agents, secondary storage). It opens its
    own session, since whether the database can be reached is one of its answers."""
    return health.check_health(open_session, question)
