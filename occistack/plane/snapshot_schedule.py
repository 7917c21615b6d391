"""When a snapshot policy runs: the checks of its schedule and the next run after a moment.

All times are UTC. ``minute`` is 0-59 for every interval; ``hour`` (0-23) counts for daily,
weekly and monthly policies; ``day`` is the weekday of a weekly one (0 = Monday .. 6 = Sunday)
and the day of the month of a monthly one (1-28, so that every month has it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from occistack.model.snapshot_policies import PolicyInterval
from occistack.plane.errors import InvalidRequest

INTERVALS = tuple(str(interval) for interval in PolicyInterval)
#: The most snapshots a policy keeps (a guard against a typo filling secondary storage).
MAX_RETENTION = 1000


def check_schedule(interval: str, minute: int, hour: int, day: int, retention: int) -> None:
    """InvalidRequest saying what is wrong and what is accepted."""
    if interval not in INTERVALS:
        raise InvalidRequest(f"interval {interval!r} is not known; it is one of: {', '.join(INTERVALS)}")
    if not 0 <= minute <= 59:
        raise InvalidRequest(f"minute {minute} is out of range; it is 0 to 59")
    if interval == PolicyInterval.HOURLY and hour != 0:
        raise InvalidRequest("an hourly policy runs at a minute of every hour; leave hour out (or 0)")
    if not 0 <= hour <= 23:
        raise InvalidRequest(f"hour {hour} is out of range; it is 0 to 23 (UTC)")
    if interval in (PolicyInterval.HOURLY, PolicyInterval.DAILY) and day != 0:
        raise InvalidRequest(f"a {interval} policy takes no day; day is for weekly (0 = Monday .. 6 = Sunday) "
                             "and monthly (1 to 28) policies")
    if interval == PolicyInterval.WEEKLY and not 0 <= day <= 6:
        raise InvalidRequest(f"day {day} is not a weekday; a weekly policy's day is 0 (Monday) to 6 (Sunday)")
    if interval == PolicyInterval.MONTHLY and not 1 <= day <= 28:
        raise InvalidRequest(f"day {day} is out of range; a monthly policy's day is 1 to 28 (every month has it)")
    if not 1 <= retention <= MAX_RETENTION:
        raise InvalidRequest(f"retention {retention} is out of range; a policy keeps 1 to {MAX_RETENTION} snapshots")


def next_run(interval: str, minute: int, hour: int, day: int, after: datetime) -> datetime:
    """The first moment of the schedule strictly after ``after`` (a naive UTC datetime)."""
    base = after.replace(second=0, microsecond=0)
    if interval == PolicyInterval.HOURLY:
        candidate, step = base.replace(minute=minute), timedelta(hours=1)
    elif interval == PolicyInterval.DAILY:
        candidate, step = base.replace(hour=hour, minute=minute), timedelta(days=1)
    elif interval == PolicyInterval.WEEKLY:
        monday = base.replace(hour=hour, minute=minute) - timedelta(days=base.weekday())
        candidate, step = monday + timedelta(days=day), timedelta(weeks=1)
    else:
        candidate = base.replace(day=day, hour=hour, minute=minute)
        if candidate <= after:
            year, month = (candidate.year + 1, 1) if candidate.month == 12 else (candidate.year, candidate.month + 1)
            candidate = candidate.replace(year=year, month=month)
        return candidate
    while candidate <= after:
        candidate += step
    return candidate
