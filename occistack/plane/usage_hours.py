"""Hourly usage, as CloudStack's usage server makes it: each clock hour (UTC) of the usage
intervals (``plane/usage.py``) becomes one row per resource and type -- how much of the hour a
VM was running or allocated (with its offering), a volume's or a template copy's GiB-hours, a
public address held.

An hour is made whole or not at all: its rows are deleted and written again in one transaction,
and ``usage_hour_runs`` notes it. Running an hour twice gives the same rows, never twice the
hours. Only hours that have ended are aggregated: an hour still running would change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from occistack.model import UsageHour, UsageHourRun, UsageRecord, utcnow
from occistack.plane.errors import InvalidRequest

HOUR = timedelta(hours=1)
#: The types whose rows count GiB-hours (size × time).
SIZED_TYPES = ("volume", "template")
#: How many hours one sweep of the worker aggregates at most, each in a transaction of its own:
#: a backlog (a worker down for a week) is caught up over a few sweeps, not in one long pause.
CATCH_UP_HOURS = 24

#: How far before the latest aggregated hour the worker looks for hours that were skipped.
LOOK_BACK = timedelta(days=7)

_intervals = UsageRecord.__table__


def as_utc(moment: datetime) -> datetime:
    """Times are stored as naive UTC; an aware time is converted, a naive one taken as UTC."""
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def check_window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """A window's ends as stored (naive UTC); refused when it ends before it starts."""
    start, end = (as_utc(start) if start else None), (as_utc(end) if end else None)
    if start is not None and end is not None and start > end:
        raise InvalidRequest(f"from ({start.isoformat()}Z) is after to ({end.isoformat()}Z); give from <= to")
    return start, end


def hour_of(moment: datetime) -> datetime:
    """The start of the clock hour ``moment`` falls in."""
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class HourDone:
    hour: datetime
    rows: int


def aggregate_hour(session: Session, hour: datetime, now: datetime | None = None) -> HourDone:
    """Write the rows of the hour starting at ``hour`` (on the hour, naive UTC), replacing any
    it had; the hour must have ended by ``now``."""
    if hour != hour_of(hour):
        raise ValueError(f"{hour.isoformat()} is not on the hour")
    end = hour + HOUR
    if end > (now or utcnow()):
        raise ValueError(f"the hour from {hour.isoformat()} has not ended yet")
    intervals = session.execute(
        select(_intervals).where(_intervals.c.started_at < end,
                                 or_(_intervals.c.ended_at.is_(None), _intervals.c.ended_at > hour))
        .order_by(_intervals.c.started_at, _intervals.c.id)).all()
    rows: dict[tuple[str, str], dict] = {}
    for interval in intervals:
        seconds = (min(interval.ended_at or end, end) - max(interval.started_at, hour)).total_seconds()
        if seconds <= 0:
            continue
        key = (interval.usage_type, interval.resource_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"hour": hour, "usage_type": interval.usage_type, "resource_id": interval.resource_id,
                               "seconds": 0.0, "gib_seconds": 0.0, "size_gib": None}
        # The latest interval of the hour says what the resource is (a resize, a changed offering).
        row.update(project_id=interval.project_id, zone_id=interval.zone_id, cores=interval.cores,
                   memory_gib=interval.memory_gib)
        row["offering"] = interval.offering or row.get("offering")
        row["description"] = interval.description or row.get("description")
        row["seconds"] += seconds
        if interval.size_gib is not None:
            row["gib_seconds"] += interval.size_gib * seconds
            row["size_gib"] = max(row["size_gib"] or 0.0, interval.size_gib)
    values = []
    for row in rows.values():
        seconds, gib_seconds = row.pop("seconds"), row.pop("gib_seconds")
        row["hours"] = min(seconds / 3600.0, 1.0)  # overlapping intervals of one resource never make more
        row["gib_hours"] = gib_seconds / 3600.0 if row["usage_type"] in SIZED_TYPES else None
        values.append(row)
    session.execute(delete(UsageHour).where(UsageHour.hour == hour))
    if values:
        session.execute(insert(UsageHour), values)
    session.execute(delete(UsageHourRun).where(UsageHourRun.hour == hour))
    session.execute(insert(UsageHourRun), [{"hour": hour, "aggregated_at": utcnow(), "rows": len(values)}])
    return HourDone(hour, len(values))


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """The clock hours that begin in [``start``, ``end``)."""
    hour = hour_of(start)
    if hour < start:
        hour += HOUR
    hours = []
    while hour < end:
        hours.append(hour)
        hour += HOUR
    return hours


def hours_due(session: Session, now: datetime | None = None, most: int = CATCH_UP_HOURS) -> list[datetime]:
    """The ended hours not aggregated yet, oldest first, at most ``most``: what the worker makes
    next. Before any run, from the hour of the first usage interval; after, the hours since the
    latest run, and any hour of the week before it that was skipped (an administrator's
    ``usage aggregate`` of a later hour moves the latest run past hours nobody made)."""
    last_ended = hour_of(now or utcnow())  # the hours before this one have ended
    latest, earliest_run = session.execute(select(func.max(UsageHourRun.hour), func.min(UsageHourRun.hour))).one()
    if latest is None:
        earliest = session.scalar(select(func.min(UsageRecord.started_at)))
        return [] if earliest is None else hours_between(hour_of(earliest), last_ended)[:most]
    first = max(earliest_run, latest - LOOK_BACK)
    done = set(session.scalars(select(UsageHourRun.hour).where(UsageHourRun.hour >= first)))
    return [hour for hour in hours_between(first, last_ended) if hour not in done][:most]
