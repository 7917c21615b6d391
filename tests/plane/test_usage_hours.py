"""Hourly usage: intervals become one row per resource, type and hour; an hour made again
replaces its rows; the listing filters, pages and refuses what it cannot read."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from occistack.model import UsageHour, UsageHourRun, UsageRecord
from occistack.plane import usage_hours
from occistack.plane.admin.cases import usage
from occistack.plane.admin.cases.usage import AggregationWindow, UsageFilter
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.jobs.worker import Worker
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.usage import close_usage, open_usage
from tests.factories import ProjectFactory

T0 = datetime(2026, 1, 5, 10, 0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def ctx(session):
    services = PlaneServices(dispatcher=None, placement=PlacementService(), password_min_length=8,
                             sealer=None, limits=SiteLimits())
    return PlaneContext(session, None, services)


@pytest.fixture
def cloud(session):
    """A VM allocated 10:00-12:30 and running 10:15-11:00 and from 11:30; a volume of 10 GiB
    resized to 20 GiB at 10:30; a public address from 10:45; a template of 3 GiB from 10:00."""
    science = ProjectFactory(session=session, name="science")
    other = ProjectFactory(session=session, name="other")
    open_usage(session, "vm_allocated", "vm-1", science.id, cores=2, memory_gib=4.0, description="debian-12",
               offering="small", at=at(0))
    open_usage(session, "vm_running", "vm-1", science.id, cores=2, memory_gib=4.0, offering="small", at=at(15))
    close_usage(session, "vm_running", "vm-1", at=at(60))
    open_usage(session, "vm_running", "vm-1", science.id, cores=2, memory_gib=4.0, offering="small", at=at(90))
    close_usage(session, ("vm_running", "vm_allocated"), "vm-1", at=at(150))
    open_usage(session, "volume", "vol-1", science.id, size_gib=10.0, at=at(0))
    close_usage(session, "volume", "vol-1", at=at(30))
    open_usage(session, "volume", "vol-1", science.id, size_gib=20.0, at=at(30))
    open_usage(session, "public_ip", "nic-1", other.id, description="192.0.2.7", compute_id="vm-2", at=at(45))
    open_usage(session, "template", "template-copy:1", None, size_gib=3.0, description="ubuntu", at=at(0))
    session.flush()
    return science, other


def _rows(session, hour=T0):
    return {(row.usage_type, row.resource_id): row for row in session.scalars(
        select(UsageHour).where(UsageHour.hour == hour))}


def test_an_hour_has_one_row_per_resource_and_type(session, cloud):
    done = usage_hours.aggregate_hour(session, T0)
    rows = _rows(session)
    assert done.rows == len(rows) == 5
    allocated, running = rows["vm_allocated", "vm-1"], rows["vm_running", "vm-1"]
    assert allocated.hours == 1.0 and allocated.offering == "small" and allocated.cores == 2
    assert allocated.description == "debian-12" and allocated.project_id == cloud[0].id
    assert running.hours == pytest.approx(0.75) and running.gib_hours is None
    volume = rows["volume", "vol-1"]
    assert volume.gib_hours == pytest.approx(10 * 0.5 + 20 * 0.5) and volume.size_gib == 20.0
    assert volume.hours == 1.0
    assert rows["public_ip", "nic-1"].hours == pytest.approx(0.25)
    assert rows["template", "template-copy:1"].gib_hours == pytest.approx(3.0)


def test_intervals_that_stop_and_start_within_an_hour_add_up(session, cloud):
    usage_hours.aggregate_hour(session, T0 + timedelta(hours=1))
    rows = _rows(session, T0 + timedelta(hours=1))
    assert rows["vm_running", "vm-1"].hours == pytest.approx(0.5)  # 11:30-12:00
    usage_hours.aggregate_hour(session, T0 + timedelta(hours=2))
    rows = _rows(session, T0 + timedelta(hours=2))
    assert rows["vm_allocated", "vm-1"].hours == pytest.approx(0.5)  # destroyed at 12:30
    assert ("vm_running", "vm-1") in rows


def test_aggregating_an_hour_again_never_counts_twice(session, cloud):
    first = usage_hours.aggregate_hour(session, T0)
    before = {key: (row.hours, row.gib_hours) for key, row in _rows(session).items()}
    again = usage_hours.aggregate_hour(session, T0)
    after = {key: (row.hours, row.gib_hours) for key, row in _rows(session).items()}
    assert first.rows == again.rows and before == after
    assert session.scalar(select(func.count()).select_from(UsageHour)) == first.rows
    assert session.scalar(select(func.count()).select_from(UsageHourRun)) == 1


def test_an_hour_made_again_follows_the_intervals(session, cloud):
    usage_hours.aggregate_hour(session, T0)
    close_usage(session, "public_ip", "nic-1", at=at(50))  # released earlier than it was thought
    session.execute(UsageRecord.__table__.update().where(UsageRecord.resource_id == "nic-1")
                    .values(ended_at=at(55)))
    usage_hours.aggregate_hour(session, T0)
    assert _rows(session)["public_ip", "nic-1"].hours == pytest.approx(10 / 60)


def test_only_ended_hours_on_the_hour_are_aggregated(session, cloud):
    with pytest.raises(ValueError, match="not on the hour"):
        usage_hours.aggregate_hour(session, at(5))
    with pytest.raises(ValueError, match="not ended"):
        usage_hours.aggregate_hour(session, T0, now=at(59))


def test_the_hours_due_start_at_the_first_interval_and_go_on_after_the_last_run(session, cloud):
    now = T0 + timedelta(hours=3, minutes=20)
    assert usage_hours.hours_due(session, now) == [T0 + timedelta(hours=n) for n in range(3)]
    usage_hours.aggregate_hour(session, T0 + timedelta(hours=1))
    assert usage_hours.hours_due(session, now) == [T0 + timedelta(hours=2)]
    assert usage_hours.hours_due(session, now, most=0) == []


def test_an_hour_skipped_before_the_latest_run_is_still_due(session, cloud):
    now = T0 + timedelta(hours=5, minutes=1)
    usage_hours.aggregate_hour(session, T0 + timedelta(hours=3))  # an administrator's run of a later hour
    assert usage_hours.hours_due(session, now) == [T0 + timedelta(hours=4)]  # after the earliest run only
    usage_hours.aggregate_hour(session, T0)
    assert usage_hours.hours_due(session, now) == [T0 + timedelta(hours=n) for n in (1, 2, 4)]


def test_the_worker_aggregates_the_hours_that_ended(session_factory):
    with session_factory() as session, session.begin():
        open_usage(session, "volume", "vol-9", None, size_gib=1.0, at=datetime(2026, 1, 1, 0, 30))
    worker = Worker(session_factory, services=None)
    hours = worker.aggregate_usage_hours()
    assert hours == usage_hours.CATCH_UP_HOURS  # the backlog since then, a day per sweep
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(UsageHour)) == hours
        assert session.scalar(select(func.min(UsageHour.gib_hours))) == pytest.approx(0.5)
    assert worker.aggregate_usage_hours() == usage_hours.CATCH_UP_HOURS  # goes on where it stopped


# --- the use cases ------------------------------------------------------------------------------

def test_aggregate_on_demand_makes_each_hour_of_the_window(ctx, cloud):
    done = usage.aggregate_usage(ctx, AggregationWindow(T0, T0 + timedelta(hours=3)))
    assert (done.hours, done.first_hour, done.last_hour) == (3, T0, T0 + timedelta(hours=2))
    again = usage.aggregate_usage(ctx, AggregationWindow(T0, T0 + timedelta(hours=3)))
    assert again.rows == done.rows
    with pytest.raises(InvalidRequest, match="has not ended"):
        usage.aggregate_usage(ctx, AggregationWindow(T0, datetime.now() + timedelta(hours=2)))
    with pytest.raises(InvalidRequest, match="after to"):
        usage.aggregate_usage(ctx, AggregationWindow(T0 + timedelta(hours=1), T0))


def test_listing_filters_by_time_project_and_type(ctx, cloud):
    usage.aggregate_usage(ctx, AggregationWindow(T0, T0 + timedelta(hours=3)))
    everything = usage.list_usage(ctx, UsageFilter()).rows
    assert [row.hour for row in everything] == sorted(row.hour for row in everything)
    assert {row.project for row in everything} == {"science", "other", None}
    science = usage.list_usage(ctx, UsageFilter(project="science")).rows
    assert science and all(row.project == "science" for row in science)
    assert usage.list_usage(ctx, UsageFilter(project=cloud[1].id)).rows[0].usage_type == "public_ip"
    running = usage.list_usage(ctx, UsageFilter(usage_type="vm_running")).rows
    assert [row.hours for row in running] == pytest.approx([0.75, 0.5, 0.5])
    second = usage.list_usage(ctx, UsageFilter(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))).rows
    assert second and {row.hour for row in second} == {T0 + timedelta(hours=1)}


def test_pages_cover_every_row_once(ctx, cloud):
    usage.aggregate_usage(ctx, AggregationWindow(T0, T0 + timedelta(hours=3)))
    everything = [row.id for row in usage.list_usage(ctx, UsageFilter()).rows]
    seen, after = [], None
    while True:
        page = usage.list_usage(ctx, UsageFilter(limit=4, after=after))
        seen.extend(row.id for row in page.rows)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == everything and len(seen) > 4


@pytest.mark.parametrize(("where", "error", "message"), [
    (UsageFilter(start=T0, end=T0 - timedelta(hours=1)), InvalidRequest, "after to"),
    (UsageFilter(usage_type="cpu"), InvalidRequest, "vm_running, vm_allocated, volume, public_ip, template"),
    (UsageFilter(limit=0), InvalidRequest, "from 1 to 10000"),
    (UsageFilter(limit=10_001), InvalidRequest, "from 1 to 10000"),
    (UsageFilter(after="yesterday"), InvalidRequest, "without 'after'"),
    (UsageFilter(project="nobody"), NotFound, "nobody"),
])
def test_the_listing_refuses_what_it_cannot_read(ctx, where, error, message):
    with pytest.raises(error, match=message):
        usage.list_usage(ctx, where)
