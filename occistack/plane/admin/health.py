"""Is this management server fit to serve? The checks behind ``/healthz``.

Each check answers ``ok`` or ``failing`` with a one-line detail. A load balancer needs only the
verdict: the server is unhealthy when a *required* check fails (by default the database and
the job workers, without which no request can be carried out); the others (host agents,
secondary storage) make the answer ``degraded`` but keep the server in the pool, since another
management server would fare no better.

The answer is given to anyone who asks, so the details hold counts and ages only: no host,
zone or store names, no addresses, URLs, versions or error texts of the database driver (which
may name the database server). Administrators find the names in the admin API.

It takes a way to open a session rather than a session: the database being unreachable is one
of the things it reports, so it must be the one to find out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from occistack.model import Host, Job, SecondaryStorage, Zone
from occistack.model.states import HostStatus, JobState, ResourceState
from occistack.plane.jobs.heartbeats import workers_seen_since

OK, FAILING = "ok", "failing"
#: Every check, in the order they are answered.
CHECKS = ("database", "workers", "agents", "secondary_storage")
#: What makes the server unhealthy when it fails, unless the site says otherwise.
DEFAULT_REQUIRED = ("database", "workers")


@dataclass(frozen=True)
class HealthQuestion:
    now: datetime
    #: a worker seen within this many seconds is alive (workers beat every few seconds).
    worker_seconds: float = 30.0
    #: a host's agent not heard from within this many seconds is silent.
    agent_seconds: float = 30.0
    #: a store fuller than this share counts as failing.
    storage_full_share: float = 0.95
    required: tuple[str, ...] = DEFAULT_REQUIRED
    #: the longest any query may take (PostgreSQL), so that a hung database fails fast.
    timeout_seconds: float = 2.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: str
    required: bool
    detail: str


@dataclass(frozen=True)
class HealthReport:
    checks: tuple[CheckResult, ...]

    @property
    def healthy(self) -> bool:
        """No required check fails: keep this server in the pool."""
        return not any(check.required and check.status != OK for check in self.checks)

    @property
    def status(self) -> str:
        if not self.healthy:
            return FAILING
        return OK if all(check.status == OK for check in self.checks) else "degraded"


def check_health(open_session: Callable[[], AbstractContextManager[Session]], question: HealthQuestion) -> HealthReport:
    """Run every check; when the database cannot be reached, the others are not run and say so."""
    results: list[tuple[str, str, str]] = []
    answered = False
    try:
        with open_session() as session:
            if session.get_bind().dialect.name == "postgresql":
                # A database that hangs is as bad as one that is down; a balancer waits no longer.
                session.execute(text(f"SET LOCAL statement_timeout = {int(question.timeout_seconds * 1000)}"))
            started = time.perf_counter()
            session.execute(text("SELECT 1"))
            answered = True
            results.append(("database", OK, f"answered in {1000 * (time.perf_counter() - started):.1f} ms"))
            results.append(("workers", *_workers(session, question)))
            results.append(("agents", *_agents(session, question)))
            results.append(("secondary_storage", *_secondary_storage(session, question)))
    except SQLAlchemyError as error:
        # The kind of failure only: the driver's own text may name the server and its address.
        why = "a query failed" if answered else "the database is not reachable"
        results = [("database", FAILING, f"{why} ({type(error).__name__})")]
        results += [(name, FAILING, "not checked: the database cannot be read") for name in CHECKS[1:]]
    return HealthReport(tuple(CheckResult(name, status, name in question.required, detail)
                              for name, status, detail in results))


def _workers(session: Session, question: HealthQuestion) -> tuple[str, str]:
    since = question.now - timedelta(seconds=question.worker_seconds)
    alive, last_seen = workers_seen_since(session, since)
    overdue = session.scalar(select(func.count()).select_from(Job).where(
        Job.state == JobState.QUEUED.value, Job.run_after < since)) or 0
    backlog = f"; {overdue} queued jobs overdue by more than {question.worker_seconds:g} s" if overdue else ""
    if alive:
        workers = "1 job worker" if alive == 1 else f"{alive} job workers"
        return OK, f"{workers} seen in the last {question.worker_seconds:g} s{backlog}"
    if last_seen is None:
        return FAILING, f"no job worker has run in the last day{backlog}"
    age = (question.now - last_seen).total_seconds()
    return FAILING, f"no job worker seen in the last {question.worker_seconds:g} s (the last {age:.0f} s ago){backlog}"


def _agents(session: Session, question: HealthQuestion) -> tuple[str, str]:
    """Hosts that should be talking -- not in maintenance and not disabled -- whose agents have
    been silent longer than ``agent_seconds`` (or never spoke)."""
    silent_before = question.now - timedelta(seconds=question.agent_seconds)
    expected = Host.resource_state.in_((ResourceState.ENABLED.value, ResourceState.PREPARE_FOR_MAINTENANCE.value))
    hosts, silent, up = session.execute(select(
        func.count(), func.count().filter((Host.last_heartbeat.is_(None)) | (Host.last_heartbeat < silent_before)),
        func.count().filter(Host.status == HostStatus.UP.value)).where(expected)).one()
    if not hosts:
        return OK, "no enabled hosts"
    detail = (f"{hosts - silent} of {hosts} enabled hosts' agents heard from in the last "
              f"{question.agent_seconds:g} s; {up} hosts up")
    return (FAILING if silent else OK), detail


def _secondary_storage(session: Session, question: HealthQuestion) -> tuple[str, str]:
    """Every enabled zone needs an enabled secondary storage with room (templates and
    snapshots live there)."""
    stores = (select(SecondaryStorage.zone_id, func.count().label("stores"),
                     func.sum(SecondaryStorage.capacity_gib).label("capacity"),
                     func.sum(SecondaryStorage.used_gib).label("used"))
              .where(SecondaryStorage.enabled.is_(True)).group_by(SecondaryStorage.zone_id).subquery())
    rows = session.execute(select(stores.c.stores, stores.c.capacity, stores.c.used)
                           .select_from(Zone).outerjoin(stores, stores.c.zone_id == Zone.id)
                           .where(Zone.enabled.is_(True))).all()
    without = sum(1 for number, _, _ in rows if not number)
    full = sum(1 for number, capacity, used in rows
               if number and capacity and used / capacity > question.storage_full_share)
    if not rows:
        return OK, "no enabled zones"
    problems = []
    if without:
        problems.append(f"{without} of {len(rows)} enabled zones have no enabled secondary storage")
    if full:
        problems.append(f"{full} zones' secondary storage is more than {100 * question.storage_full_share:g}% full")
    if problems:
        return FAILING, "; ".join(problems)
    return OK, f"{len(rows)} enabled zones have enabled secondary storage with room"
