"""A deadlock is retried, and never called "not reachable" (issue 12, point 8).

On PostgreSQL a transaction of the test and a create request lock a host and the project in
opposite orders, so that PostgreSQL really detects a deadlock and ends the request's
transaction; the request is run again and answers 201. With retries switched off the client
gets 503 saying the database was busy. The mapping of database errors to messages is unit-tested
below without a server.
"""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from occistack.model import Host, Quota, User, VirtualMachine
from occistack.model.contention import describe_database_error, is_transient_conflict, run_retrying
from occistack.plane.placement import capacity
from tests.conftest import basic, close_app, make_app, settling_test_app
from tests.occi import compute_body


class LockInversion:
    """A transaction of the test that locks the one enabled host, waits until the request is
    blocked on that host while holding its project's row, then asks for the project's row:
    a cycle PostgreSQL ends by failing the request (whose deadlock check runs first)."""

    #: the inversion under way, whose ``request_claims`` the create's claim of the host sets.
    current: LockInversion | None = None

    def __init__(self, url: str, host_id: int, project_id: int):
        self.engine = create_engine(url)
        self.host_id, self.project_id = host_id, project_id
        self.holding_host = threading.Event()
        self.request_claims = threading.Event()
        self.outcome: object = None
        self.thread = threading.Thread(target=self._run)

    def __enter__(self):
        self.thread.start()
        assert self.holding_host.wait(10)
        return self

    def __exit__(self, *_):
        self.request_claims.set()
        self.thread.join(30)
        self.engine.dispose()

    def _run(self):
        try:
            with self.engine.begin() as connection:
                # Superuser-only; PostgreSQL of the tests runs as postgres. The request's own
                # deadlock check (1 s) then fires before this transaction's.
                connection.execute(text("SET LOCAL deadlock_timeout = '10s'"))
                connection.execute(text("UPDATE hosts SET state_message = state_message WHERE id = :id"),
                                   {"id": self.host_id})
                self.holding_host.set()
                if not self.request_claims.wait(20):
                    raise AssertionError("the request never reached its claim of the host")
                time.sleep(0.3)  # the request is waiting for the host now
                connection.execute(text("SELECT id FROM projects WHERE id = :id FOR NO KEY UPDATE"),
                                   {"id": self.project_id})
                time.sleep(0.2)
            self.outcome = "committed"
        except Exception as error:  # noqa: BLE001 - the test reports it
            self.outcome = error


@pytest.fixture
def deadlock_world(demo_data_pg, monkeypatch):
    """The PostgreSQL database with the demo data, one enabled host, a quota on the demo
    project (so that a create locks its row), and a count of the creates' host claims."""
    url = demo_data_pg
    engine = create_engine(url)
    with engine.begin() as connection:
        host_id = connection.scalar(select(Host.id).where(Host.name == "host1"))
        connection.execute(Host.__table__.update().where(Host.id != host_id).values(resource_state="Disabled"))
        project_id = connection.scalar(select(User.project_id).where(User.name == "demo"))
        connection.execute(Quota.__table__.insert().values(project_id=project_id, resource="vms", limit=100))
    engine.dispose()
    claims: list[int] = []
    real_claim = capacity.claim_host

    def counted_claim(session, host, *args):
        claims.append(host)
        inversion = LockInversion.current
        if inversion is not None:
            inversion.request_claims.set()
        return real_claim(session, host, *args)

    monkeypatch.setattr(capacity, "claim_host", counted_claim)
    return url, host_id, project_id, claims


def create_during_a_deadlock(url, host_id, project_id, drivers, **settings):
    application = make_app(url, drivers, **settings)
    client = settling_test_app()(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    try:
        with LockInversion(url, host_id, project_id) as inversion:
            LockInversion.current = inversion
            response = client.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"},
                                   expect_errors=True)
        return response, inversion.outcome
    finally:
        LockInversion.current = None
        close_app(application)


def computes(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(VirtualMachine))
    engine.dispose()
    return count


def test_a_create_that_meets_a_deadlock_is_run_again_and_succeeds(deadlock_world, drivers):
    url, host_id, project_id, claims = deadlock_world
    response, other = create_during_a_deadlock(url, host_id, project_id, drivers)
    assert other == "committed"
    assert response.status_int == 201, response.text
    assert len(claims) >= 2, "the first attempt's claim was ended by the deadlock, a second one went through"
    assert computes(url) == 1


def test_a_deadlock_that_outlasts_the_attempts_is_busy_not_unreachable(deadlock_world, drivers):
    url, host_id, project_id, claims = deadlock_world
    response, other = create_during_a_deadlock(url, host_id, project_id, drivers, **{"retry.attempts": "1"})
    assert other == "committed"
    assert response.status_int == 503
    assert "the database was busy with concurrent changes" in response.text
    assert "not reachable" not in response.text
    assert response.headers["Retry-After"] == "1"
    assert computes(url) == 0


# --- the mapping, without a server ----------------------------------------------------------------

class _PgError(psycopg2.OperationalError):
    """psycopg2's errors carry their SQLSTATE in a read-only ``pgcode``; this one is settable."""

    def __init__(self, code):
        super().__init__(f"error {code}")
        self._code = code

    @property
    def pgcode(self):
        return self._code


def wrapped(code: str | None, message: str = "") -> OperationalError:
    orig = _PgError(code) if code else psycopg2.OperationalError(message)
    return OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize("code", ["40P01", "40001"])
def test_deadlocks_and_serialization_failures_are_busy_and_retried(code):
    error = wrapped(code)
    assert is_transient_conflict(error)
    message, retry_after = describe_database_error(error)
    assert message.startswith("the database was busy with concurrent changes") and retry_after == 1


@pytest.mark.parametrize("code", ["55P03", "57014"])
def test_lock_and_statement_timeouts_are_busy_but_not_retried(code):
    error = wrapped(code)
    assert not is_transient_conflict(error)
    assert describe_database_error(error)[0].startswith("the database was busy")


def test_a_lost_connection_is_not_reachable():
    error = wrapped(None, 'connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    assert not is_transient_conflict(error)
    assert describe_database_error(error) == (
        "the database is not reachable right now; nothing was changed — try again shortly", 5)


def test_sqlite_s_lock_is_busy():
    import sqlite3

    error = OperationalError("UPDATE hosts", {}, sqlite3.OperationalError("database is locked"))
    assert describe_database_error(error)[0].startswith("the database was busy")


def test_run_retrying_runs_a_conflict_again_and_gives_up_after_the_attempts():
    calls = []

    def conflict_twice():
        calls.append(1)
        if len(calls) < 3:
            raise wrapped("40P01")
        return "done"

    assert run_retrying(conflict_twice, "test") == "done" and len(calls) == 3
    calls.clear()
    with pytest.raises(OperationalError) as raised:
        run_retrying(lambda: calls.append(1) or (_ for _ in ()).throw(wrapped("40001")), "test", attempts=2)
    assert len(calls) == 2 and raised.value.occistack_attempts_spent
    with pytest.raises(OperationalError):
        run_retrying(lambda: calls.append(1) or (_ for _ in ()).throw(wrapped(None, "gone")), "test")
    assert len(calls) == 3  # a lost connection is not run again


def test_a_database_that_cannot_be_reached_is_503_not_reachable():
    from webtest import TestApp

    from tests.integration.tls_servers import free_port

    nowhere = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/none"
    application = make_app(nowhere, **{"occistack.agents.inprocess": ""})
    # Not the settling client: it would run the plane's jobs against the missing database.
    client = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    try:
        for response in (client.get("/compute/", headers={"Accept": "text/plain"}, expect_errors=True),
                         client.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"},
                                     expect_errors=True)):
            assert response.status_int == 503, response.text
            assert "the database is not reachable right now; nothing was changed" in response.text
            assert response.headers["Retry-After"] == "5"
    finally:
        close_app(application)  # its stop finds no database either: said here, not at exit
