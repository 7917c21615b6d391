"""Benchmark: a ``/metrics`` scrape of a cloud of 1,000 hosts and 10,000 computes against the
bare aggregate queries it needs.

Run from the repository root: ``.venv/bin/python -m bench.metrics`` (PostgreSQL at
127.0.0.1:5432, or ``OCCISTACK_TEST_PG``).

A scratch database gets the demo catalog and then, in bulk inserts, four zones of 250 hosts
each (in several states), their pools, secondary storage, address ranges and VLAN ranges,
10,000 computes, a job history of 12,000 jobs (deploys done and failed, stops queued) and the
20,000 agent commands the deploys sent, with their round trips. Then, alternating:

* baseline: the very statements a scrape sends (recorded off the engine during one scrape,
  with their parameters), run on one bare psycopg2 connection, every row fetched;
* occistack: ``GET /metrics`` through the WSGI application in-process, with the site's
  metrics token: the tween, the security check, the session, the same statements through
  SQLAlchemy, turning the rows into metric families and the Prometheus text.

Target: at most 2x the baseline's time (issue 14, point 6).
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import uuid
from datetime import timedelta

import transaction
from sqlalchemy import event, insert, select

from bench.common import close_app, print_table, result_line, scratch_database
from occistack.demo import seed_demo
from occistack.model import (
    AgentCommand,
    Cluster,
    Entity,
    Host,
    IpAllocation,
    IpRange,
    Job,
    OsTemplate,
    PhysicalNetwork,
    Pod,
    Project,
    SecondaryStorage,
    StoragePool,
    VirtualMachine,
    VlanRange,
    Zone,
    make_engine,
    utcnow,
)
from occistack.model.session import get_tm_session, make_session_factory

HOSTS = 1_000
COMPUTES = 10_000
ZONES = 4
CLUSTERS_PER_ZONE = 10
ROUNDS = 15
TARGET = 2.0
TOKEN = "bench-metrics-token"
#: Host (status, resource state) by position: most up and enabled, some of every other kind.
HOST_STATES = [("up", "enabled")] * 17 + [("disconnected", "enabled"), ("alert", "enabled"), ("up", "maintenance"),
                                          ("down", "disabled")]


def populate(url: str) -> None:
    engine = make_engine({"sqlalchemy.url": url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        seed_demo(get_tm_session(make_session_factory(engine), manager))
    now = utcnow()
    with engine.begin() as connection:
        project_id = connection.scalar(select(Project.id).where(Project.name == "demo"))
        template_id = connection.scalar(select(OsTemplate.id).where(OsTemplate.term == "cirros-0.6"))
        zone_ids = connection.execute(insert(Zone.__table__).returning(Zone.id), [
            {"name": f"bench-zone-{z}"} for z in range(ZONES)]).scalars().all()
        pod_ids = connection.execute(insert(Pod.__table__).returning(Pod.id), [
            {"zone_id": zone_id, "name": f"pod-{z}", "cidr": f"10.{z}.0.0/16", "gateway": f"10.{z}.0.1"}
            for z, zone_id in enumerate(zone_ids)]).scalars().all()
        clusters = connection.execute(insert(Cluster.__table__).returning(Cluster.id, Cluster.zone_id, Cluster.pod_id), [
            {"zone_id": zone_id, "pod_id": pod_id, "name": f"cluster-{z}-{c}"}
            for z, (zone_id, pod_id) in enumerate(zip(zone_ids, pod_ids)) for c in range(CLUSTERS_PER_ZONE)]).all()
        host_ids = connection.execute(insert(Host.__table__).returning(Host.id), [
            {"name": f"bench-host-{h}", "zone_id": clusters[h % len(clusters)].zone_id,
             "pod_id": clusters[h % len(clusters)].pod_id, "cluster_id": clusters[h % len(clusters)].id,
             "address": f"10.{h // 250}.{h % 250 // 250 + 1}.{h % 250 + 1}", "cpu_cores": 32, "cpu_mhz": 2400,
             "memory_mib": 262144, "cpu_overcommit": 4.0, "memory_overcommit": 1.5,
             "status": HOST_STATES[h % len(HOST_STATES)][0], "resource_state": HOST_STATES[h % len(HOST_STATES)][1],
             "cpu_used_mhz": 9600, "memory_used_mib": 40960, "last_heartbeat": now - timedelta(seconds=h % 40)}
            for h in range(HOSTS)]).scalars().all()
        connection.execute(insert(StoragePool.__table__), [
            {"zone_id": cluster.zone_id, "cluster_id": cluster.id, "name": f"pool-{cluster.id}", "protocol": "nfs",
             "server": "192.0.2.10", "path": f"/export/{cluster.id}", "capacity_gib": 20_000.0, "used_gib": 7_500.0,
             "overprovisioning": 2.0} for cluster in clusters])
        connection.execute(insert(SecondaryStorage.__table__), [
            {"zone_id": zone_id, "name": f"nfs-{z}", "url": f"nfs://192.0.2.20/secondary/{z}", "capacity_gib": 50_000.0,
             "used_gib": 12_000.0} for z, zone_id in enumerate(zone_ids)])
        ranges = connection.execute(insert(IpRange.__table__).returning(IpRange.id, IpRange.zone_id, IpRange.first_number), [
            {"zone_id": zone_id, "purpose": "public", "first_address": f"198.18.{z * 16}.1",
             "last_address": f"198.18.{z * 16 + 15}.254", "first_number": 3323068416 + z * 4096 + 1,
             "last_number": 3323068416 + z * 4096 + 4094, "gateway": f"198.18.{z * 16}.1", "prefix_length": 20}
            for z, zone_id in enumerate(zone_ids)]).all()
        connection.execute(insert(IpAllocation.__table__), [
            {"zone_id": ranges[n % ZONES].zone_id, "range_id": ranges[n % ZONES].id,
             "number": ranges[n % ZONES].first_number + 1 + n // ZONES, "address": f"n{n}"}
            for n in range(3 * COMPUTES // 10)])
        networks = connection.execute(insert(PhysicalNetwork.__table__).returning(PhysicalNetwork.id), [
            {"zone_id": zone_id, "name": f"physnet-{z}"} for z, zone_id in enumerate(zone_ids)]).scalars().all()
        connection.execute(insert(VlanRange.__table__), [
            {"physical_network_id": network_id, "first_vlan": 100, "last_vlan": 3999} for network_id in networks])

        vm_ids = [str(uuid.UUID(int=number + 1)) for number in range(COMPUTES)]
        connection.execute(insert(Entity.__table__), [
            {"id": vm_id, "kind": "compute", "project_id": project_id, "title": f"vm {n}"}
            for n, vm_id in enumerate(vm_ids)])
        connection.execute(insert(VirtualMachine.__table__), [
            {"id": vm_id, "hostname": f"vm-{n}", "architecture": "x64", "cores": 2, "memory_gib": 4.0,
             "state": "running", "template_id": template_id, "zone_id": zone_ids[n % ZONES],
             "host_id": host_ids[n % HOSTS], "instance_name": f"i-{project_id}-{vm_id}"}
            for n, vm_id in enumerate(vm_ids)])
        operations = [("deploy_vm", "done" if n % 50 else "failed", vm_id, n) for n, vm_id in enumerate(vm_ids)]
        operations += [("stop_vm", "done", vm_ids[n], n) for n in range(1_500)]
        operations += [("stop_vm", "queued", vm_ids[n], n) for n in range(1_500, 2_000)]
        job_ids = connection.execute(insert(Job.__table__).returning(Job.id), [
            {"operation": operation, "entity_id": vm_id, "state": state, "created_at": now - timedelta(seconds=n % 600 + 30),
             "finished_at": None if state == "queued" else now - timedelta(seconds=n % 600)}
            for operation, state, vm_id, n in operations]).scalars().all()
        connection.execute(insert(AgentCommand.__table__), [
            {"host_id": host_ids[n % HOSTS], "job_id": job_ids[n], "name": name, "state": "done",
             "delivered_at": now - timedelta(seconds=(n % 97) / 10 + 1), "answered_at": now - timedelta(seconds=1)}
            for n in range(COMPUTES) for name in ("create_volume", "start_vm")])
    engine.dispose()


def main() -> int:
    from occistack.api.app import main as make_app

    with scratch_database("occistack_bench_metrics", migrated=True) as url:
        populate(url)
        app = make_app({}, **{"sqlalchemy.url": url, "occistack.worker": "none", "occistack.metrics.token": TOKEN})
        engine = app.registry["occistack.engine"]

        def scrape() -> bytes:
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "SERVER_NAME": "127.0.0.1",
                       "SERVER_PORT": "6543", "HTTP_HOST": "127.0.0.1:6543", "wsgi.url_scheme": "http",
                       "HTTP_AUTHORIZATION": f"Bearer {TOKEN}", "SCRIPT_NAME": "", "REMOTE_ADDR": "192.0.2.99",
                       "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr}
            status = []
            body = b"".join(app(environ, lambda code, headers, exc=None: status.append(code)))
            if not status[0].startswith("200"):
                raise SystemExit(f"GET /metrics answered {status[0]}: {body[:300]!r}")
            return body

        # The statements a scrape sends, as the database receives them.
        sent: list[tuple[str, object]] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        body = scrape()
        event.remove(engine, "before_cursor_execute", record)
        seen = _hosts_in(body)
        if seen < HOSTS:
            raise SystemExit(f"the scrape shows {seen} hosts, not the {HOSTS:,} seeded")
        bare = engine.raw_connection()

        def baseline() -> None:
            cursor = bare.cursor()
            for statement, parameters in sent:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.close()
            bare.rollback()

        times: dict[str, list[float]] = {"bare": [], "occistack": []}
        baseline(), scrape()  # warm both
        for _ in range(ROUNDS):
            for name, run in (("bare", baseline), ("occistack", scrape)):
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
        bare.close()
        close_app(app)
    bare_time, ours = statistics.median(times["bare"]), statistics.median(times["occistack"])
    print(f"{HOSTS:,} hosts, {COMPUTES:,} computes, {len(sent)} statements per scrape, {len(body):,} bytes of "
          f"metrics; {ROUNDS} alternating rounds\n")
    print_table(("scrape", "ms"), [("the scrape's statements on a bare psycopg2 connection", f"{bare_time * 1000:,.1f}"),
                                   ("GET /metrics through the application", f"{ours * 1000:,.1f}")])
    print()
    line = result_line("metrics", "scrape_1000_hosts_vs_bare_queries", ours / bare_time, TARGET, op="<=")
    print(line)
    return 0 if line.endswith("PASS") else 1


def _hosts_in(body: bytes) -> int:
    from prometheus_client.parser import text_string_to_metric_families

    return int(sum(sample.value for family in text_string_to_metric_families(body.decode())
                   if family.name == "occistack_hosts" for sample in family.samples))


if __name__ == "__main__":
    sys.exit(main())
