"""The plane's monitoring figures and health checks, on SQLite and PostgreSQL: the duration
histograms count "at most" as Prometheus does (a job of exactly 5 s is in the 5 s bucket) on
both databases, and the workers' check follows their heartbeats."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from occistack.model import AgentCommand, Job, JobWorker, utcnow
from occistack.plane.admin.figures import JOB_DURATION_BOUNDS, ROUND_TRIP_BOUNDS, cloud_figures
from occistack.plane.admin.health import HealthQuestion, check_health
from occistack.plane.jobs.heartbeats import record_heartbeat
from tests.factories import HostFactory


def test_durations_fall_in_the_buckets_they_do_not_exceed(session):
    now = utcnow()
    for seconds in (5.0, 5.5, 0.05, 7200.0):
        session.add(Job(operation="deploy_vm", entity_id=f"vm-{seconds}", state="done",
                        created_at=now - timedelta(seconds=seconds), finished_at=now))
    session.add(Job(operation="deploy_vm", entity_id="vm-waiting", state="waiting", created_at=now))
    host = HostFactory(session=session)
    for seconds in (0.01, 0.02, 400.0):
        session.add(AgentCommand(host_id=host.id, name="start_vm", state="done",
                                 delivered_at=now - timedelta(seconds=seconds), answered_at=now))
    session.flush()
    figures = cloud_figures(session, now)

    done = {(group.operation, group.state): group for group in figures.jobs}
    assert done["deploy_vm", "waiting"].jobs == 1 and done["deploy_vm", "waiting"].durations is None
    durations = done["deploy_vm", "done"].durations
    at_most = dict(zip(JOB_DURATION_BOUNDS, durations.at_most))
    assert (at_most[0.1], at_most[2.5], at_most[5.0], at_most[10.0], at_most[3600.0]) == (1, 1, 2, 3, 3)
    assert durations.count == 4 and abs(durations.total_seconds - 7210.55) < 0.01

    (trips,) = figures.round_trips
    at_most = dict(zip(ROUND_TRIP_BOUNDS, trips.durations.at_most))
    assert trips.command == "start_vm"
    assert (at_most[0.01], at_most[0.05], at_most[300.0]) == (1, 2, 2) and trips.durations.count == 3


def test_the_workers_check_follows_the_heartbeats(session):
    @contextmanager
    def the_session():
        yield session

    now = utcnow()

    def workers(at):
        report = check_health(the_session, HealthQuestion(now=at, worker_seconds=30))
        return {check.name: check for check in report.checks}["workers"], report.healthy

    check, healthy = workers(now)
    assert (check.status, healthy, check.detail) == ("failing", False, "no job worker has run in the last day")
    record_heartbeat(session, "host-a:1:1", now)
    record_heartbeat(session, "host-b:2:1", now - timedelta(seconds=10))
    check, healthy = workers(now)
    assert (check.status, healthy, check.detail) == ("ok", True, "2 job workers seen in the last 30 s")
    check, healthy = workers(now + timedelta(seconds=25))
    assert check.detail == "1 job worker seen in the last 30 s"
    check, healthy = workers(now + timedelta(seconds=60))
    assert (check.status, healthy) == ("failing", False)
    assert check.detail == "no job worker seen in the last 30 s (the last 60 s ago)"
    # A worker gone for a day is forgotten at the next heartbeat of any worker.
    record_heartbeat(session, "host-a:1:1", now + timedelta(days=1, seconds=5))
    assert session.scalars(select(JobWorker.name)).all() == ["host-a:1:1"]
