"""Usage, as the administrator reads it: the hourly rows (``plane/usage_hours.py``) listed by
time, project and type, and an aggregation run on demand (the worker runs one every minute for
the hours that ended since the last)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from occistack.model import Project, UsageHour
from occistack.model.accounting import USAGE_TYPES
from occistack.plane import usage_hours
from occistack.plane.usage_hours import check_window
from occistack.plane.admin.common import Ref, check_whole
from occistack.plane.admin.lookup import find_project
from occistack.plane.admin.records.usage import UsageAggregated, UsageHourRecord, UsagePage
from occistack.plane.context import PlaneContext
from occistack.plane.errors import InvalidRequest
from occistack.model import utcnow

DEFAULT_ROWS, MOST_ROWS = 1000, 10_000
#: The most hours one aggregation on demand makes again: a year.
MOST_HOURS = 24 * 366

# The table's columns rather than the mapped class's: a Core statement is not run through the
# ORM's loading, which took a third of a 10,000-row listing (bench/usage_listing.py).
_hours, _projects = UsageHour.__table__.c, Project.__table__.c
_LISTING = (select(*UsageHour.__table__.columns, _projects.name)
            .outerjoin(Project.__table__, _projects.id == _hours.project_id))


@dataclass(frozen=True)
class UsageFilter:
    #: hours starting at or after ``start`` and before ``end`` (UTC; naive times are UTC).
    start: datetime | None = None
    end: datetime | None = None
    project: Ref | None = None
    #: one of USAGE_TYPES.
    usage_type: str | None = None
    #: at most this many rows (1 to MOST_ROWS).
    limit: int = DEFAULT_ROWS
    #: where the previous page stopped (its ``next_after``).
    after: str | None = None


@dataclass(frozen=True)
class AggregationWindow:
    """The hours that begin in [start, end) -- every one of them must have ended."""

    start: datetime
    end: datetime


def _check_usage_type(usage_type: str | None) -> str | None:
    if usage_type is not None and usage_type not in USAGE_TYPES:
        raise InvalidRequest(f"unknown usage type {usage_type!r}; the types are: {', '.join(USAGE_TYPES)}")
    return usage_type


def list_usage(ctx: PlaneContext, where: UsageFilter = UsageFilter()) -> UsagePage:
    """The hourly rows ``where`` selects, oldest hour first, at most ``where.limit``."""
    limit = check_whole("the number of rows", where.limit, 1, MOST_ROWS)
    start, end = check_window(where.start, where.end)
    query = _LISTING.order_by(_hours.hour, _hours.id).limit(limit + 1)
    if start is not None:
        query = query.where(_hours.hour >= start)
    if end is not None:
        query = query.where(_hours.hour < end)
    if where.project is not None:
        query = query.where(_hours.project_id == find_project(ctx.session, where.project).id)
    if _check_usage_type(where.usage_type) is not None:
        query = query.where(_hours.usage_type == where.usage_type)
    if where.after is not None:
        hour, row_id = _read_cursor(where.after)
        query = query.where(or_(_hours.hour > hour, and_(_hours.hour == hour, _hours.id > row_id)))
    rows = ctx.session.execute(query).all()
    records = tuple([UsageHourRecord(*row) for row in rows[:limit]])
    following = _cursor(records[-1]) if len(rows) > limit else None
    return UsagePage(records, following)


def _cursor(record: UsageHourRecord) -> str:
    return f"{record.hour.isoformat()}~{record.id}"


def _read_cursor(text: str) -> tuple[datetime, int]:
    hour, _, row_id = text.partition("~")
    try:
        return datetime.fromisoformat(hour), int(row_id)
    except ValueError:
        raise InvalidRequest(f"the page marker {text[:80]!r} is not one a listing gave; start again without "
                             "'after', then follow each page's 'next'") from None


def aggregate_usage(ctx: PlaneContext, window: AggregationWindow) -> UsageAggregated:
    """Make the hours of ``window`` again from the usage intervals (each replaces what it had:
    running it twice counts nothing twice)."""
    start, end = check_window(window.start, window.end)
    now = utcnow()
    if end > usage_hours.hour_of(now):
        raise InvalidRequest(f"the hour from {usage_hours.hour_of(now).isoformat()}Z has not ended yet; give a 'to' "
                             f"at or before it (hours are aggregated once they have ended)")
    hours = usage_hours.hours_between(start, end)
    if len(hours) > MOST_HOURS:
        raise InvalidRequest(f"{len(hours)} hours at once is too many; aggregate at most {MOST_HOURS} (a year) "
                             "at a time")
    done = [usage_hours.aggregate_hour(ctx.session, hour, now) for hour in hours]
    return UsageAggregated(len(done), sum(each.rows for each in done), hours[0] if hours else None,
                           hours[-1] if hours else None)
