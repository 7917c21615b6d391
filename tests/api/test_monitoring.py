"""/healthz and /metrics on real PostgreSQL: the health checks fail when the database is down or
no job worker has been seen, and the metrics a scrape answers are the rows the test made."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from webtest import TestApp

from occistack.model import AgentCommand, Job, JobWorker, SecondaryStorage, make_engine, utcnow
from occistack.model.states import HostStatus, ResourceState
from occistack.api.orchestration import server_plane
from tests.conftest import PG_SERVER, basic, empty_database, migrate, missing_component, running_app
from tests.factories import ClusterFactory, HostFactory, PodFactory, StoragePoolFactory, UserFactory, ZoneFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(request):
    url, problem = request.getfixturevalue("postgres_database")
    if problem:
        missing_component(problem)
    yield url
    empty_database(url)


#: No in-process agents: they would register every host, and move the states the test set.
NO_AGENTS = {"occistack.agents.inprocess": ""}


@contextmanager
def rows(url: str):
    engine = make_engine({"sqlalchemy.url": url})
    with Session(engine) as session, session.begin():
        yield session
    engine.dispose()


def make_users(session: Session) -> None:
    UserFactory(session=session, name="mon-admin", password="secret", role="admin")
    UserFactory(session=session, name="mon-member", password="secret")


def seed_cloud(session: Session) -> None:
    """Two zones: mon-a with 3 hosts up, 1 disconnected and 1 in maintenance, a primary pool
    and a secondary store; mon-b with 2 disabled hosts down. Jobs of two operations, finished
    and not, with known durations; two commands answered after known round trips."""
    now = utcnow()
    zone_a, zone_b = ZoneFactory(session=session, name="mon-a"), ZoneFactory(session=session, name="mon-b")
    a = _cluster(session, zone_a.id)
    b = _cluster(session, zone_b.id)
    hosts = [HostFactory(session=session, cluster_id=a, memory_used_mib=1024, cpu_used_mhz=500,
                         last_heartbeat=now) for _ in range(3)]
    HostFactory(session=session, cluster_id=a, status=HostStatus.DISCONNECTED, memory_used_mib=2048,
                last_heartbeat=now - timedelta(seconds=100))
    HostFactory(session=session, cluster_id=a, resource_state=ResourceState.MAINTENANCE, memory_used_mib=0)
    for _ in range(2):
        HostFactory(session=session, cluster_id=b, status=HostStatus.DOWN, resource_state=ResourceState.DISABLED)
    StoragePoolFactory(session=session, zone_id=zone_a.id, capacity_gib=1000.0, used_gib=250.0)
    session.add(SecondaryStorage(zone_id=zone_a.id, name="mon-nfs", url="nfs://198.51.100.1/export",
                                 capacity_gib=500.0, used_gib=100.0))
    for seconds, state in ((2, "done"), (20, "done"), (200, "done"), (0.3, "failed")):
        session.add(Job(operation="deploy_vm", entity_id=f"vm-{uuid.uuid4().hex[:8]}", state=state,
                        created_at=now - timedelta(seconds=seconds + 5), finished_at=now - timedelta(seconds=5)))
    for _ in range(2):
        session.add(Job(operation="stop_vm", entity_id=f"vm-{uuid.uuid4().hex[:8]}", state="queued"))
    session.flush()
    for seconds in (0.03, 3.0):
        session.add(AgentCommand(host_id=hosts[0].id, name="ping", state="done",
                                 delivered_at=now - timedelta(seconds=seconds), answered_at=now))
    # Neither a failed command (maybe never answered) nor an undelivered one is a round trip.
    session.add(AgentCommand(host_id=hosts[0].id, name="ping", state="failed", delivered_at=now - timedelta(hours=1),
                             answered_at=now))
    session.add(AgentCommand(host_id=hosts[0].id, name="ping", state="pending"))


def _cluster(session: Session, zone_id: int) -> int:
    return ClusterFactory(session=session, pod_id=PodFactory(session=session, zone_id=zone_id).id).id


def samples(body: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = sample.value
    return found


def value(found, name: str, **labels) -> float | None:
    return found.get((name, frozenset(labels.items())))


# --- /metrics -----------------------------------------------------------------------------------

def test_a_scrape_shows_the_hosts_capacity_jobs_and_round_trips_the_database_holds(pg_url):
    with rows(pg_url) as session:
        make_users(session)
        seed_cloud(session)
    with running_app(pg_url, **NO_AGENTS) as application:
        admin = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("mon-admin", "secret")})
        response = admin.get("/metrics", status=200)
        assert response.content_type == "text/plain"
        found = samples(response.text)
        assert value(found, "occistack_database_up") == 1
        hosts = {labels: number for (name, labels), number in found.items() if name == "occistack_hosts"}
        assert hosts == {
            frozenset({"zone": "mon-a", "status": "up", "resource_state": "enabled"}.items()): 3,
            frozenset({"zone": "mon-a", "status": "disconnected", "resource_state": "enabled"}.items()): 1,
            frozenset({"zone": "mon-a", "status": "up", "resource_state": "maintenance"}.items()): 1,
            frozenset({"zone": "mon-b", "status": "down", "resource_state": "disabled"}.items()): 2,
        }
        silence = value(found, "occistack_host_agent_silence_seconds", zone="mon-a", status="disconnected",
                        resource_state="enabled")
        assert 100 <= silence < 160

        # Capacity: the four enabled hosts of mon-a (not the one in maintenance), the pool, the store.
        for resource, used, total in (("memory_mib", 3 * 1024 + 2048, 4 * 16384), ("cpu_mhz", 3 * 500, 4 * 16000),
                                      ("primary_storage_gib", 250, 1000), ("secondary_storage_gib", 100, 500)):
            assert value(found, "occistack_capacity_used", zone="mon-a", resource=resource) == used, resource
            assert value(found, "occistack_capacity_total", zone="mon-a", resource=resource) == total, resource
        assert value(found, "occistack_capacity_total", zone="mon-b", resource="memory_mib") == 0
        # ... and every figure is the capacity report's.
        report = admin.get("/admin/capacity").json
        for zone in report["zones"]:
            for resource in ("memory_mib", "cpu_mhz", "primary_storage_gib", "secondary_storage_gib", "public_ips",
                             "management_ips", "vlans"):
                assert value(found, "occistack_capacity_used", zone=zone["zone"], resource=resource) == \
                    zone[resource]["used"], (zone["zone"], resource)
                assert value(found, "occistack_capacity_total", zone=zone["zone"], resource=resource) == \
                    zone[resource]["total"], (zone["zone"], resource)

        assert value(found, "occistack_jobs", operation="deploy_vm", state="done") == 3
        assert value(found, "occistack_jobs", operation="deploy_vm", state="failed") == 1
        assert value(found, "occistack_jobs", operation="stop_vm", state="queued") == 2
        done = {"operation": "deploy_vm", "state": "done"}
        assert value(found, "occistack_job_duration_seconds_bucket", le="1.0", **done) == 0
        assert value(found, "occistack_job_duration_seconds_bucket", le="5.0", **done) == 1
        assert value(found, "occistack_job_duration_seconds_bucket", le="30.0", **done) == 2
        assert value(found, "occistack_job_duration_seconds_bucket", le="300.0", **done) == 3
        assert value(found, "occistack_job_duration_seconds_count", **done) == 3
        assert value(found, "occistack_job_duration_seconds_sum", **done) == pytest.approx(222, abs=0.01)
        assert value(found, "occistack_job_duration_seconds_bucket", le="0.5", operation="deploy_vm",
                     state="failed") == 1
        assert value(found, "occistack_job_duration_seconds_count", operation="stop_vm", state="queued") is None

        assert value(found, "occistack_agent_command_round_trip_seconds_bucket", le="0.05", command="ping") == 1
        assert value(found, "occistack_agent_command_round_trip_seconds_bucket", le="5.0", command="ping") == 2
        assert value(found, "occistack_agent_command_round_trip_seconds_count", command="ping") == 2
        assert value(found, "occistack_agent_command_round_trip_seconds_sum", command="ping") == \
            pytest.approx(3.03, abs=0.001)


def test_requests_are_counted_by_face_route_method_and_status(pg_url):
    with rows(pg_url) as session:
        make_users(session)
    with running_app(pg_url, **NO_AGENTS) as application:
        admin = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("mon-admin", "secret")})
        anonymous = TestApp(application)
        admin_capacity = {"face": "admin", "route": "admin_capacity", "method": "GET", "status": "200"}
        refused = {"face": "monitoring", "route": "metrics", "method": "GET", "status": "401"}
        unmatched = {"face": "admin", "route": "admin_unknown", "method": "GET", "status": "404"}
        name = "occistack_http_request_duration_seconds_count"
        before = samples(admin.get("/metrics").text)
        for _ in range(3):
            admin.get("/admin/capacity", status=200)
        anonymous.get("/metrics", status=401)
        admin.get("/admin/no-such-thing", status=404)
        # Refused before routing (a NUL in the path): counted under the route the path would take.
        admin.get("/admin/hosts/%00", status=400)
        after = samples(admin.get("/metrics").text)
        before_routing = {"face": "admin", "route": "admin_unknown", "method": "GET", "status": "400"}
        for labels, more in ((admin_capacity, 3), (refused, 1), (unmatched, 1), (before_routing, 1)):
            assert (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0) == more, labels
        slow = value(after, "occistack_http_request_duration_seconds_bucket", le="60.0", **admin_capacity)
        assert slow == value(after, name, **admin_capacity)


@pytest.mark.parametrize("who, status", [(None, 401), ("mon-member", 403), ("mon-admin", 200)])
def test_metrics_are_for_the_admin_role_by_default(pg_url, who, status):
    with rows(pg_url) as session:
        make_users(session)
    with running_app(pg_url, **NO_AGENTS) as application:
        environ = {"HTTP_AUTHORIZATION": basic(who, "secret")} if who else {}
        response = TestApp(application, extra_environ=environ).get("/metrics", status=status)
        if status != 200:
            assert response.json["error"]["code"] == status


def test_a_configured_token_or_network_admits_a_scraper_without_a_user(pg_url, tmp_path):
    token_file = tmp_path / "metrics-token"
    token_file.write_text("s3cret-scraper-token\n")
    with running_app(pg_url, **NO_AGENTS, **{"occistack.metrics.token_file": str(token_file),
                                "occistack.metrics.allowed_networks": "10.0.0.0/8 ::1"}) as application:
        client = TestApp(application, extra_environ={"REMOTE_ADDR": "192.0.2.7"})
        client.get("/metrics", headers={"Authorization": "Bearer s3cret-scraper-token"}, status=200)
        client.get("/metrics", headers={"Authorization": "Bearer wrong"}, status=401)
        client.get("/metrics", status=401)
        client.get("/metrics", extra_environ={"REMOTE_ADDR": "10.1.2.3"}, status=200)
        client.get("/metrics", extra_environ={"REMOTE_ADDR": "::1"}, status=200)
        client.get("/metrics", extra_environ={"REMOTE_ADDR": "11.1.2.3"}, status=401)


# --- /healthz -----------------------------------------------------------------------------------

def test_healthz_fails_until_a_worker_is_seen_and_again_when_it_goes_quiet(pg_url):
    with rows(pg_url) as session:
        seed_cloud(session)
    with running_app(pg_url, **NO_AGENTS) as application:
        probe = TestApp(application)  # no credentials: a load balancer's probe
        response = probe.get("/healthz", status=503)
        checks = response.json["checks"]
        assert response.json["status"] == "failing"
        assert checks["database"]["status"] == "ok" and checks["database"]["required"] is True
        assert checks["workers"] == {"status": "failing", "required": True,
                                     "detail": "no job worker has run in the last day"}
        assert response.headers["Cache-Control"] == "no-store"

        server_plane(application.registry).plane.worker.sweep()  # the worker's sweep beats its heart
        response = probe.get("/healthz", status=200)
        checks = response.json["checks"]
        assert checks["workers"]["status"] == "ok", checks["workers"]
        # The disconnected host (silent for 100 s) fails the agents' check, which is not required:
        # degraded, but still in the pool. The host in maintenance is not expected to talk.
        assert checks["agents"]["status"] == "failing" and checks["agents"]["required"] is False
        assert checks["agents"]["detail"] == "3 of 4 enabled hosts' agents heard from in the last 30 s; 3 hosts up"
        # mon-b has hosts but no secondary storage.
        assert checks["secondary_storage"]["status"] == "failing"
        assert response.json["status"] == "degraded"
        # Nothing names a host, zone or store to an anonymous caller.
        for secret in ("host-", "mon-a", "mon-b", "mon-nfs", "198.51.100.1"):
            assert secret not in response.text

        with rows(pg_url) as session:
            session.execute(JobWorker.__table__.update().values(last_seen_at=utcnow() - timedelta(seconds=45)))
        response = probe.get("/healthz", status=503)
        assert response.json["checks"]["workers"]["detail"].startswith("no job worker seen in the last 30 s")
        probe.head("/healthz", status=503)
        probe.post("/healthz", status=405)


def test_healthz_and_metrics_when_the_database_is_down():
    """A database of its own, closed to connections while the server runs."""
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - no server
        admin.dispose()
        missing_component(f"PostgreSQL is not reachable at {PG_SERVER}: {error.__class__.__name__}")
    name = f"occistack_down_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(url)
        with rows(url) as session:
            make_users(session)
        with running_app(url, **NO_AGENTS, **{"occistack.auth.cache_seconds": "600"}) as application:
            admin_client = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("mon-admin", "secret")})
            server_plane(application.registry).plane.worker.sweep()
            assert TestApp(application).get("/healthz", status=200).json["status"] == "ok"
            assert value(samples(admin_client.get("/metrics").text), "occistack_database_up") == 1
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
                connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        f"WHERE datname = '{name}'"))
            response = TestApp(application).get("/healthz", status=503)
            checks = response.json["checks"]
            assert response.json["status"] == "failing"
            assert checks["database"]["status"] == "failing"
            assert checks["database"]["detail"].startswith("the database is not reachable")
            assert checks["workers"]["detail"] == "not checked: the database cannot be read"
            assert "127.0.0.1" not in response.text and name not in response.text
            # The admin's password was checked a moment ago (cached): the scrape says the database is down.
            found = samples(admin_client.get("/metrics", status=200).text)
            assert value(found, "occistack_database_up") == 0
            assert not any(key[0] == "occistack_hosts" for key in found)
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            assert TestApp(application).get("/healthz", status=200).json["checks"]["database"]["status"] == "ok"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --- several server processes ------------------------------------------------------------------------

def test_with_a_multiprocess_directory_a_scrape_adds_up_every_process(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR set: two processes count a request each, a third scrapes both."""
    import subprocess
    import sys

    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": os.getcwd()}
    count_one = ("from occistack.api.monitoring.requests import REQUESTS; "
                 "REQUESTS.labels('occi', 'root', 'GET', '200').observe(0.02)")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count_one], env=environment, check=True, timeout=120)
    scrape = ("from prometheus_client import CollectorRegistry; "
              "from occistack.api.monitoring.metrics import CLOUD_REGISTRY, exposition; "
              "print(exposition({CLOUD_REGISTRY: CollectorRegistry()}).decode())")
    body = subprocess.run([sys.executable, "-c", scrape], env=environment, check=True, timeout=120,
                          capture_output=True, text=True).stdout
    found = samples(body)
    labels = {"face": "occi", "route": "root", "method": "GET", "status": "200"}
    assert value(found, "occistack_http_request_duration_seconds_count", **labels) == 2
    assert value(found, "occistack_http_request_duration_seconds_bucket", le="0.025", **labels) == 2
