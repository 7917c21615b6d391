"""Benchmark: the placement planner choosing among 10,000 hosts.

Run from the repository root: ``.venv/bin/python -m bench.placement``.

The cloud: 2 zones, 20 pods, 400 KVM clusters of 25 hosts (10,000 hosts of 32 cores at
2400 MHz, CPU overcommit 2, 256 GiB), a 50 TiB pool per cluster and two zone-wide pools per
zone. Before timing it is filled at random the way first fit leaves a cloud that has run for a
while: in each zone the first 60 % of the clusters (by id) are above the 85 % capacity
threshold, the next 20 % are "mixed" (their first two thirds of hosts full, the rest lightly
used) and the last 20 % are lightly used; 1 % of the hosts are in maintenance and a tenth of
the clusters carry the host tag ``gpu``. So first fit has to pass over some 120 clusters above
the threshold and then the 16 full hosts at the front of a mixed cluster, and dispersing has to
rank every cluster of a zone. Also shown, not targets: what reserve() costs after a placement
and how long a refusal takes to explain itself (it walks every host once).

The requests: 3,000 drawn from a few offerings (1-8 cores of 2000 MHz, 1-32 GiB, 20-100 GiB
root disks), half for any zone, 5 % with the ``gpu`` tag, 10 % with an anti-affinity group.
Each ``plan()`` is timed alone and then applied with ``reserve``/``reserve_storage``, as the
caller does; the first 100 warm up and are not counted. Targets: p99 below 1 ms for first fit
and for dispersing.

The baseline, for information: the same first-fit rules as a plain scan over every host (in
zone, pod, cluster, host order) with no cluster aggregates. It runs in lockstep with the
planner for the first requests, alternating request by request on twin topologies, and every
placement must be identical -- a check of the planner's shortcuts at full scale.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from dataclasses import dataclass, field

from bench.common import exit_status, print_table, result_line
from occistack.plane.placement.planner import NoCapacity, Placement, plan
from occistack.plane.placement.requests import DISPERSING, FIRST_FIT, PlacementRequest
from occistack.plane.placement.topology import (
    ClusterSnapshot, HostSnapshot, PodSnapshot, PoolSnapshot, Topology, ZoneSnapshot)

ZONES, PODS_PER_ZONE, CLUSTERS_PER_POD, HOSTS_PER_CLUSTER = 2, 10, 20, 25
HOST_CPU_MHZ, HOST_MEMORY_MIB, CPU_OVERCOMMIT = 32 * 2400, 256 * 1024, 2.0
REQUESTS, WARM_UP, BASELINE_REQUESTS = 3000, 100, 150
THRESHOLD = 0.85
TARGET_P99_MS = 1.0
#: plan + claim (median) against one SELECT … FOR UPDATE of the host row (median): issue 13's
#: target. Measured 1.10 on a quiet machine once the hosts table left room for HOT updates
#: (migration room_for_hot_updates; 1.53-1.56 before), 1.37-1.45 while other work loads it.
TARGET_CLAIM_RATIO = 1.3
SEED = 20240917


# --- the cloud and the requests -------------------------------------------------------------

def build_cloud(seed: int = SEED) -> Topology:
    rng = random.Random(seed)
    zones = [ZoneSnapshot(z, f"zone{z}") for z in range(1, ZONES + 1)]
    pods, clusters, hosts, pools = [], [], [], []
    per_zone = PODS_PER_ZONE * CLUSTERS_PER_POD
    for zone in zones:
        for _ in range(PODS_PER_ZONE):
            pod = PodSnapshot(len(pods) + 1, zone.id, f"pod{len(pods) + 1}")
            pods.append(pod)
            for _ in range(CLUSTERS_PER_POD):
                cluster = ClusterSnapshot(len(clusters) + 1, pod.id, zone.id,
                                          f"cluster{len(clusters) + 1}")
                clusters.append(cluster)
                pools.append(PoolSnapshot(len(pools) + 1, f"pool{len(pools) + 1}", zone.id,
                                          cluster.id, 50 * 1024.0,
                                          used_gib=float(rng.randrange(0, 30 * 1024))))
                position = (len(clusters) - 1) % per_zone / per_zone
                kind = "hot" if position < 0.6 else "mixed" if position < 0.8 else "cool"
                tags = frozenset({"gpu"}) if rng.random() < 0.1 else frozenset()
                for place in range(HOSTS_PER_CLUSTER):
                    full = place < HOSTS_PER_CLUSTER * 2 // 3
                    hosts.append(_filled_host(rng, len(hosts) + 1, cluster, kind, full, tags))
        for _ in range(2):
            pools.append(PoolSnapshot(len(pools) + 1, f"wide{len(pools) + 1}", zone.id, None,
                                      200 * 1024.0, used_gib=float(rng.randrange(0, 100 * 1024))))
    return Topology(zones, pods, clusters, hosts, pools)


def _filled_host(rng: random.Random, host_id: int, cluster: ClusterSnapshot, kind: str,
                 full: bool, tags: frozenset[str]) -> HostSnapshot:
    if kind == "hot":
        share = rng.uniform(0.87, 0.99)
    elif kind == "mixed":
        share = rng.uniform(0.99, 1.0) if full else rng.uniform(0.1, 0.4)
    else:
        share = rng.uniform(0.0, 0.5)
    cpu_capacity = int(HOST_CPU_MHZ * CPU_OVERCOMMIT)
    in_maintenance = rng.random() < 0.01
    return HostSnapshot(host_id, f"host{host_id}", cluster.zone_id, cluster.pod_id, cluster.id,
                        HOST_CPU_MHZ, HOST_MEMORY_MIB,
                        cpu_used_mhz=int(cpu_capacity * share * rng.uniform(0.8, 1.0)),
                        memory_used_mib=int(HOST_MEMORY_MIB * share) // 1024 * 1024,
                        cpu_overcommit=CPU_OVERCOMMIT, tags=tags,
                        schedulable=not in_maintenance, unschedulable_reason="in maintenance")


def make_requests(strategy: str, count: int = REQUESTS, seed: int = SEED) -> list[PlacementRequest]:
    rng = random.Random(seed + 1)
    host_ids = range(1, ZONES * PODS_PER_ZONE * CLUSTERS_PER_POD * HOSTS_PER_CLUSTER + 1)
    requests = []
    for _ in range(count):
        anti = frozenset(rng.sample(host_ids, rng.randint(2, 5)) if rng.random() < 0.1 else ())
        requests.append(PlacementRequest(
            cpu_mhz=rng.choice((1, 2, 4, 8)) * 2000,
            memory_mib=rng.choice((1, 2, 4, 8, 16, 32)) * 1024,
            disk_gib=float(rng.choice((20, 40, 100))), zone_id=rng.choice((None, 1, 2)),
            host_tags=frozenset({"gpu"}) if rng.random() < 0.05 else frozenset(),
            anti_affinity_host_ids=anti, strategy=strategy))
    return requests


def apply(topology: Topology, request: PlacementRequest, placement: Placement) -> None:
    """What the caller does with a placement once it has claimed it."""
    topology.reserve(placement.host_id, request.cpu_mhz, request.memory_mib)
    if placement.pool_id is not None:
        topology.reserve_storage(placement.pool_id, request.disk_gib)


# --- the baseline: a scan of every host -----------------------------------------------------

def naive_first_fit(request: PlacementRequest, topology: Topology,
                    order: list[int]) -> Placement | None:
    for host_id in order:
        host = topology.hosts[host_id]
        zone, pod = topology.zones[host.zone_id], topology.pods[host.pod_id]
        load = topology.cluster_load(host.cluster_id)
        if (request.zone_id not in (None, zone.id) or not zone.enabled or not pod.enabled
                or not load.cluster.enabled or load.cluster.hypervisor != request.hypervisor
                or load.above_threshold(THRESHOLD) or not host.schedulable
                or host.id in request.anti_affinity_host_ids or not request.host_tags <= host.tags
                or not host.has_room_for(request.cpu_mhz, request.memory_mib)):
            continue
        for pool in topology.reachable_pools(host.cluster_id):
            if pool.usable and request.storage_tags <= pool.tags and pool.has_room_for(
                    request.disk_gib, THRESHOLD):
                return Placement(zone.id, pod.id, host.cluster_id, host.id, pool.id)
    return None


# --- measuring ------------------------------------------------------------------------------

@dataclass
class Latencies:
    name: str
    seconds: list[float]
    placed: int
    refused: int
    applying: list[float] = field(default_factory=list)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def row(self) -> list[object]:
        return [self.name, len(self.seconds), f"{self.percentile_ms(0.5) * 1000:.0f}",
                f"{self.percentile_ms(0.99) * 1000:.0f}", f"{max(self.seconds) * 1e6:.0f}",
                f"{statistics.fmean(self.seconds) * 1e6:.0f}", self.placed, self.refused,
                f"{statistics.median(self.applying) * 1e6:.1f}" if self.applying else "-"]


def timed_plan(request: PlacementRequest, topology: Topology) -> tuple[Placement | None, float]:
    started = time.perf_counter()
    try:
        placement: Placement | None = plan(request, topology, capacity_threshold=THRESHOLD)
    except NoCapacity:
        placement = None
    return placement, time.perf_counter() - started


def measure_planner(strategy: str) -> Latencies:
    topology, requests = build_cloud(), make_requests(strategy)
    gc.collect()
    latencies = Latencies(strategy, [], 0, 0)
    for number, request in enumerate(requests):
        placement, seconds = timed_plan(request, topology)
        if placement is not None:
            applying = time.perf_counter()
            apply(topology, request, placement)
            if number >= WARM_UP:
                latencies.applying.append(time.perf_counter() - applying)
        if number >= WARM_UP:
            latencies.seconds.append(seconds)
            latencies.placed += placement is not None
            latencies.refused += placement is None
    return latencies


def measure_against_baseline() -> tuple[Latencies, Latencies]:
    """Planner and naive scan alternating on twin topologies; their placements must agree."""
    ours, theirs = build_cloud(), build_cloud()
    order = sorted(theirs.hosts, key=lambda i: (theirs.hosts[i].zone_id, theirs.hosts[i].pod_id,
                                               theirs.hosts[i].cluster_id, i))
    planner, scan = Latencies("first_fit", [], 0, 0), Latencies("naive scan", [], 0, 0)
    for number, request in enumerate(make_requests(FIRST_FIT, BASELINE_REQUESTS)):
        placement, seconds = timed_plan(request, ours)
        started = time.perf_counter()
        expected = naive_first_fit(request, theirs, order)
        scan_seconds = time.perf_counter() - started
        if placement != expected:
            raise SystemExit(f"request {number}: the planner chose {placement}, "
                             f"the naive scan {expected}")
        for latencies, spent in ((planner, seconds), (scan, scan_seconds)):
            latencies.seconds.append(spent)
            latencies.placed += placement is not None
            latencies.refused += placement is None
        if placement is not None:
            apply(ours, request, placement)
            apply(theirs, request, placement)
    return planner, scan


def measure_refusal(count: int = 50) -> Latencies:
    """How long a NoCapacity takes to explain itself: a VM bigger than any host, any zone."""
    topology, request = build_cloud(), PlacementRequest(cpu_mhz=8 * 2000, memory_mib=300 * 1024)
    latencies = Latencies("refusal (explained)", [], 0, 0)
    for _ in range(count):
        placement, seconds = timed_plan(request, topology)
        latencies.seconds.append(seconds)
        latencies.refused += placement is None
    return latencies


# --- with the database claim ------------------------------------------------------------------

DB_ROUNDS, DB_PER_ROUND = 5, 200


def measure_with_database_claim() -> tuple[Latencies, Latencies] | None:
    """The same cloud written to PostgreSQL; then, alternating round by round, each in a
    transaction that is rolled back (so the cloud does not fill up):

    * baseline: ``SELECT … FROM hosts WHERE id = :id FOR UPDATE`` of a random host;
    * occistack: the placement service's claim -- plan() on its snapshot, then the conditional
      UPDATE that reserves the host (requests without a root disk: the host claim alone).

    None when PostgreSQL cannot be reached."""
    from sqlalchemy import text

    from bench.common import scratch_database
    from occistack.model import make_engine
    from occistack.model.session import make_session_factory
    from occistack.plane.placement.requests import AvoidSet
    from occistack.plane.placement.service import PlacementService

    try:
        database = scratch_database("occistack_bench_placement", migrated=True)
        url = database.__enter__()
    except Exception as error:  # noqa: BLE001 - no server: say so, measure the rest
        print(f"PostgreSQL is not reachable ({error.__class__.__name__}); the database claim is not measured")
        return None
    try:
        engine = make_engine({"sqlalchemy.url": url})
        write_cloud(engine, build_cloud())
        session_factory = make_session_factory(engine)
        service = PlacementService(revalidate_seconds=3600)
        service.attach(session_factory)
        with session_factory() as session:
            service.topology(session)
        rng = random.Random(SEED)
        host_ids = list(range(1, ZONES * PODS_PER_ZONE * CLUSTERS_PER_POD * HOSTS_PER_CLUSTER + 1))
        requests = [PlacementRequest(cpu_mhz=request.cpu_mhz, memory_mib=request.memory_mib, zone_id=request.zone_id)
                    for request in make_requests(FIRST_FIT, DB_PER_ROUND)]
        select_for_update = text("SELECT * FROM hosts WHERE id = :id FOR UPDATE")
        baseline, claim = Latencies("SELECT … FOR UPDATE", [], 0, 0), Latencies("plan + claim", [], 0, 0)
        for round_number in range(DB_ROUNDS + 1):
            for request in requests:
                with session_factory() as session:
                    session.execute(text("SELECT 1"))  # the transaction is open before the clock starts
                    started = time.perf_counter()
                    session.execute(select_for_update, {"id": rng.choice(host_ids)}).first()
                    spent = time.perf_counter() - started
                    session.rollback()
                if round_number:
                    baseline.seconds.append(spent)
                with session_factory() as session:
                    session.execute(text("SELECT 1"))
                    started = time.perf_counter()
                    try:
                        service._claim(session, request, AvoidSet())
                        claim.placed += 1
                    except NoCapacity:
                        claim.refused += 1
                    spent = time.perf_counter() - started
                    session.rollback()
                if round_number:
                    claim.seconds.append(spent)
        engine.dispose()
        return baseline, claim
    finally:
        database.__exit__(None, None, None)


def write_cloud(engine, topology: Topology) -> None:
    """The snapshot's cloud as inventory rows (bulk inserts)."""
    from sqlalchemy import insert

    from occistack.model import Cluster, Host, Pod, StoragePool, Zone

    with engine.begin() as connection:
        connection.execute(insert(Zone.__table__), [{"id": z.id, "name": z.name, "enabled": True}
                                                   for z in topology.zones.values()])
        connection.execute(insert(Pod.__table__), [{"id": p.id, "zone_id": p.zone_id, "name": p.name,
                                                   "cidr": "10.0.0.0/16", "gateway": "10.0.0.1", "enabled": True}
                                                  for p in topology.pods.values()])
        connection.execute(insert(Cluster.__table__), [
            {"id": c.id, "zone_id": c.zone_id, "pod_id": c.pod_id, "name": c.name, "hypervisor": "KVM",
             "enabled": True} for c in topology.clusters.values()])
        connection.execute(insert(Host.__table__), [
            {"id": h.id, "name": f"host{h.id}", "zone_id": h.zone_id, "pod_id": h.pod_id, "cluster_id": h.cluster_id,
             "address": "10.0.0.2", "hypervisor": "KVM", "status": "up", "resource_state": "enabled",
             "cpu_sockets": 2, "cpu_cores": 32, "cpu_mhz": h.cpu_total_mhz // 32, "memory_mib": h.memory_total_mib,
             "cpu_overcommit": h.cpu_overcommit, "memory_overcommit": h.memory_overcommit,
             "tags": ",".join(sorted(h.tags)), "cpu_used_mhz": h.cpu_used_mhz, "memory_used_mib": h.memory_used_mib}
            for h in topology.hosts.values()])
        connection.execute(insert(StoragePool.__table__), [
            {"id": p.id, "zone_id": p.zone_id, "cluster_id": p.cluster_id, "name": p.name, "protocol": "nfs",
             "path": "/export", "capacity_gib": p.capacity_gib, "used_gib": p.used_gib,
             "overprovisioning": p.overprovisioning, "tags": "", "state": "up"} for p in topology.pools.values()])


def main() -> int:
    started = time.perf_counter()
    build_cloud()
    print(f"cloud: {ZONES} zones, {ZONES * PODS_PER_ZONE} pods, "
          f"{ZONES * PODS_PER_ZONE * CLUSTERS_PER_POD} clusters, "
          f"{ZONES * PODS_PER_ZONE * CLUSTERS_PER_POD * HOSTS_PER_CLUSTER:,} hosts "
          f"(built in {time.perf_counter() - started:.2f} s)")
    planner, scan = measure_against_baseline()
    ours_ms, theirs_ms = planner.percentile_ms(0.5), scan.percentile_ms(0.5)
    print(f"equivalence: {BASELINE_REQUESTS} first-fit placements identical to the naive scan "
          f"(planner p50 {ours_ms:.3f} ms, scan p50 {theirs_ms:.3f} ms: "
          f"{theirs_ms / ours_ms:.0f}x faster)\n")
    results = {strategy: measure_planner(strategy) for strategy in (FIRST_FIT, DISPERSING)}
    refusal = measure_refusal()
    rows = [latencies.row() for latencies in (*results.values(), scan, refusal)]
    print_table(["planner", "requests", "p50 us", "p99 us", "max us", "mean us", "placed",
                 "refused", "reserve p50 us"], rows)
    print("(reserve: reserve() + reserve_storage() after each placement, not in plan()'s times)")
    measured = measure_with_database_claim()
    if measured is not None:
        baseline, claim = measured
        print(f"\nwith the database claim ({DB_ROUNDS} rounds of {DB_PER_ROUND}, alternating, each rolled back):")
        print_table(["", "p50 us", "p99 us", "placed"],
                    [[latencies.name, f"{latencies.percentile_ms(0.5) * 1000:.0f}",
                      f"{latencies.percentile_ms(0.99) * 1000:.0f}", latencies.placed or "-"]
                     for latencies in measured])
    print()
    lines = [result_line("placement", f"{strategy}_p99_ms", latencies.percentile_ms(0.99),
                         TARGET_P99_MS, op="<", unit="") for strategy, latencies in results.items()]
    if measured is None:
        lines.append(f"RESULT placement claim_vs_select_for_update=n/a target<={TARGET_CLAIM_RATIO} FAIL")
    else:
        lines.append(result_line("placement", "claim_vs_select_for_update",
                                 claim.percentile_ms(0.5) / baseline.percentile_ms(0.5),
                                 TARGET_CLAIM_RATIO, op="<="))
    for line in lines:
        print(line)
    return exit_status(lines)


if __name__ == "__main__":
    sys.exit(main())
