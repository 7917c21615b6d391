"""When a snapshot policy runs next (plane/snapshot_schedule.py), with fixed clocks: each interval
moves on to its own next moment, strictly after the given one, and the checks refuse what a
schedule cannot be."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from occistack.plane.errors import InvalidRequest
from occistack.plane.snapshot_schedule import check_schedule, next_run

# A Wednesday.
NOW = datetime(2026, 12, 9, 14, 30, 15)


@pytest.mark.parametrize("interval, minute, hour, day, after, expected", [
    ("hourly", 45, 0, 0, NOW, datetime(2026, 12, 9, 14, 45)),
    ("hourly", 15, 0, 0, NOW, datetime(2026, 12, 9, 15, 15)),
    ("hourly", 30, 0, 0, datetime(2026, 12, 9, 14, 30), datetime(2026, 12, 9, 15, 30)),  # strictly after
    ("hourly", 5, 0, 0, datetime(2026, 12, 31, 23, 50), datetime(2027, 1, 1, 0, 5)),
    ("daily", 0, 16, 0, NOW, datetime(2026, 12, 9, 16, 0)),
    ("daily", 0, 3, 0, NOW, datetime(2026, 12, 10, 3, 0)),
    ("daily", 30, 14, 0, NOW, datetime(2026, 12, 10, 14, 30)),  # 14:30:15 is past 14:30
    ("weekly", 0, 2, 4, NOW, datetime(2026, 12, 11, 2, 0)),  # Friday, later this week
    ("weekly", 0, 2, 0, NOW, datetime(2026, 12, 14, 2, 0)),  # Monday, next week
    ("weekly", 0, 20, 2, NOW, datetime(2026, 12, 9, 20, 0)),  # today, later
    ("weekly", 0, 2, 2, NOW, datetime(2026, 12, 16, 2, 0)),  # today, but earlier: a week on
    ("monthly", 0, 1, 20, NOW, datetime(2026, 12, 20, 1, 0)),
    ("monthly", 0, 1, 1, NOW, datetime(2027, 1, 1, 1, 0)),  # across the year's end
    ("monthly", 0, 1, 28, datetime(2027, 1, 30), datetime(2027, 2, 28, 1, 0)),
    ("monthly", 30, 14, 9, NOW, datetime(2027, 1, 9, 14, 30)),
])
def test_next_run_is_the_first_moment_of_the_schedule_after(interval, minute, hour, day, after, expected):
    assert next_run(interval, minute, hour, day, after) == expected


@pytest.mark.parametrize("interval", ["hourly", "daily", "weekly", "monthly"])
def test_runs_follow_each_other_one_interval_apart(interval):
    day = 1 if interval == "monthly" else 0
    first = next_run(interval, 10, 0 if interval == "hourly" else 5, day, NOW)
    second = next_run(interval, 10, 0 if interval == "hourly" else 5, day, first)
    gap = (second - first).total_seconds() / 3600
    assert gap == {"hourly": 1, "daily": 24, "weekly": 168}.get(interval, 31 * 24)  # January has 31 days


@pytest.mark.parametrize("arguments, message", [
    (("yearly", 0, 0, 0, 3), "is one of: hourly, daily, weekly, monthly"),
    (("daily", 60, 0, 0, 3), "minute 60 is out of range"),
    (("daily", 0, 24, 0, 3), "hour 24 is out of range"),
    (("hourly", 0, 5, 0, 3), "leave hour out"),
    (("daily", 0, 1, 3, 3), "a daily policy takes no day"),
    (("weekly", 0, 1, 7, 3), "0 (Monday) to 6 (Sunday)"),
    (("monthly", 0, 1, 29, 3), "1 to 28"),
    (("monthly", 0, 1, 0, 3), "1 to 28"),
    (("daily", 0, 1, 0, 0), "retention 0 is out of range"),
])
def test_a_schedule_that_cannot_be_is_refused_saying_what_is_accepted(arguments, message):
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        check_schedule(*arguments)
    check_schedule("monthly", 59, 23, 28, 1)  # the edges are accepted
