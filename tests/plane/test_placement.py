"""The placement planner: each rule on its own, then properties over random clouds and random
place/destroy sequences checked against the brute-force references in topologies.py.

What it tells a user when nothing fits is in test_placement_messages.py; the snapshot's own
bookkeeping in test_topology.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occistack.plane.placement.planner import NoCapacity, Placement, plan
from occistack.plane.placement.requests import DISPERSING, FIRST_FIT, AvoidSet, PlacementRequest
from occistack.plane.placement.topology import Topology

from tests.plane.topologies import (
    TopologyBuilder, brute_dispersing, brute_first_fit, grid, random_clouds,
    valid_placements)

SMALL = PlacementRequest(cpu_mhz=2000, memory_mib=2048, disk_gib=10)


def host_of(request, topology, **options) -> int:
    return plan(request, topology, **options).host_id


def refusal(request, topology, **options) -> str:
    with pytest.raises(NoCapacity) as raised:
        plan(request, topology, **options)
    assert raised.value.reason == str(raised.value)
    return raised.value.reason


# --- first fit and host rules ------------------------------------------------------------------

def test_first_fit_takes_the_first_host_of_the_first_cluster():
    assert plan(SMALL, grid().build()) == Placement(1, 1, 1, 1, 1)


def test_a_host_without_free_cpu_or_memory_is_skipped():
    topology = grid().build()
    topology.reserve(1, 7000, 0)
    topology.reserve(2, 0, 15000)
    assert host_of(SMALL, topology) == 3


def test_capacity_counts_overcommit_and_its_exact_boundary():
    builder = grid(clusters=1, hosts_per_cluster=2, cpu=4000, cpu_overcommit=2.0)
    topology = builder.build()
    topology.reserve(1, 6000, 0)
    assert host_of(SMALL, topology, capacity_threshold=1.0) == 1   # 6000 + 2000 == 4000 × 2
    topology.reserve(1, 1, 0)
    assert host_of(SMALL, topology, capacity_threshold=1.0) == 2


def test_unschedulable_hosts_are_skipped():
    builder = grid(clusters=1, hosts_per_cluster=0)
    builder.host(1, schedulable=False, unschedulable_reason="in maintenance")
    builder.host(1)
    assert host_of(SMALL, builder.build()) == 2


def test_a_host_must_carry_every_host_tag():
    builder = grid(clusters=1, hosts_per_cluster=0)
    builder.host(1, tags={"gpu"})
    builder.host(1, tags={"gpu", "ssd", "fast"})
    request = dataclasses.replace(SMALL, host_tags=frozenset({"gpu", "ssd"}))
    assert host_of(request, builder.build()) == 2


def test_anti_affinity_hosts_are_avoided():
    request = dataclasses.replace(SMALL, anti_affinity_host_ids=frozenset({1, 2}))
    assert host_of(request, grid().build()) == 3


def test_affinity_restricts_to_the_group_s_hosts():
    request = dataclasses.replace(SMALL, affinity_host_ids=frozenset({4}))
    assert host_of(request, grid().build()) == 4


def test_the_avoid_set_skips_hosts_clusters_pods_and_zones():
    builder = grid()
    pod2 = builder.pod(1)
    later = builder.cluster(pod2)
    builder.pool(cluster_id=later)
    builder.host(later)
    zone2 = builder.zone()
    far = builder.cluster(builder.pod(zone2))
    builder.pool(cluster_id=far)
    builder.host(far)
    topology = builder.build()
    assert host_of(SMALL, topology, avoid=AvoidSet(hosts=frozenset({1}))) == 2
    assert host_of(SMALL, topology, avoid=AvoidSet(clusters=frozenset({1}))) == 3
    assert host_of(SMALL, topology, avoid=AvoidSet(pods=frozenset({1}))) == 5
    assert host_of(SMALL, topology, avoid=AvoidSet(zones=frozenset({1}))) == 6


# --- cluster, pod and zone rules ---------------------------------------------------------------

def test_a_cluster_above_the_threshold_is_skipped_even_with_a_free_host():
    topology = grid().build()
    topology.reserve(1, 8000, 0)
    topology.reserve(2, 6000, 0)            # cluster 1: 14000 / 16000 MHz = 0.875
    assert host_of(SMALL, topology) == 3
    assert host_of(SMALL, topology, capacity_threshold=0.9) == 2


def test_a_cluster_exactly_at_the_threshold_is_still_used():
    topology = grid(clusters=1, hosts_per_cluster=2).build()
    topology.reserve(1, 0, 16384 + 11468)   # 27852 / 32768 MiB = 0.85 exactly
    assert plan(SMALL, topology, capacity_threshold=0.85).host_id == 2


def test_disabled_clusters_pods_and_zones_are_skipped():
    builder = TopologyBuilder()
    off_zone = builder.zone(enabled=False)
    builder.host(builder.cluster(builder.pod(off_zone)))
    on_zone = builder.zone()
    builder.host(builder.cluster(builder.pod(on_zone, enabled=False)))
    pod = builder.pod(on_zone)
    builder.host(builder.cluster(pod, enabled=False))
    builder.host(builder.cluster(pod))
    request = dataclasses.replace(SMALL, disk_gib=0)
    assert host_of(request, builder.build()) == 4


def test_clusters_of_another_hypervisor_are_skipped():
    builder = TopologyBuilder()
    pod = builder.pod(builder.zone())
    builder.host(builder.cluster(pod, hypervisor="BareMetal"))
    builder.host(builder.cluster(pod))
    topology = builder.build()
    request = dataclasses.replace(SMALL, disk_gib=0)
    assert host_of(request, topology) == 2
    assert host_of(dataclasses.replace(request, hypervisor="BareMetal"), topology) == 1


def test_without_a_zone_the_zones_are_tried_in_order():
    builder = TopologyBuilder()
    for _ in range(2):
        builder.host(builder.cluster(builder.pod(builder.zone())), cpu=2000)
    topology = builder.build()
    request = dataclasses.replace(SMALL, disk_gib=0)
    assert plan(request, topology).zone_id == 1
    topology.reserve(1, 2000, 0)
    assert plan(request, topology).zone_id == 2
    assert refusal(dataclasses.replace(request, zone_id=1), topology, capacity_threshold=1.0)


# --- storage ---------------------------------------------------------------------------------

def test_the_cluster_s_own_pool_comes_before_a_zone_wide_one():
    builder = grid(clusters=1)
    builder.pool(zone_id=1, capacity=5000.0)
    assert plan(SMALL, builder.build()).pool_id == 1


def test_a_zone_wide_pool_serves_every_cluster():
    builder = grid(clusters=2)
    wide = builder.pool(zone_id=1, capacity=50.0)
    topology = builder.build()
    topology.reserve_storage(1, 1000.0)
    assert plan(SMALL, topology).pool_id == wide


def test_without_a_suitable_pool_the_next_cluster_is_tried():
    builder = grid(clusters=2)
    topology = builder.build()
    topology.reserve_storage(1, 845.0)      # 845 + 10 GiB would pass 85 % of 1000
    placement = plan(SMALL, topology)
    assert (placement.cluster_id, placement.pool_id) == (2, 2)
    assert plan(SMALL, topology, capacity_threshold=0.9).pool_id == 1


def test_overprovisioning_storage_tags_usability_and_avoidance_of_pools():
    builder = grid(clusters=1, hosts_per_cluster=1)
    builder.pools.clear()
    builder.pool(cluster_id=1, capacity=10.0, overprovisioning=2.0)        # 17 GiB usable
    builder.pool(cluster_id=1, capacity=1000.0, tags={"ssd"}, usable=False)
    builder.pool(cluster_id=1, capacity=1000.0, tags={"ssd"})
    topology = builder.build()
    assert plan(SMALL, topology).pool_id == 1
    assert plan(dataclasses.replace(SMALL, disk_gib=18), topology).pool_id == 3
    assert plan(dataclasses.replace(SMALL, storage_tags=frozenset({"ssd"})), topology).pool_id == 3
    assert plan(SMALL, topology, avoid=AvoidSet(pools=frozenset({1}))).pool_id == 3


def test_no_disk_means_no_pool():
    assert plan(dataclasses.replace(SMALL, disk_gib=0), grid().build()).pool_id is None


def test_a_forced_pool_limits_the_hosts_to_those_that_reach_it():
    topology = grid().build()
    placement = plan(dataclasses.replace(SMALL, disk_gib=0, pool_id=2), topology)
    assert (placement.host_id, placement.pool_id) == (3, 2)


# --- dispersing ------------------------------------------------------------------------------

def test_dispersing_picks_the_least_loaded_cluster_then_the_roomiest_host():
    topology = grid(clusters=3, hosts_per_cluster=3).build()
    for host_id, memory in ((1, 4096), (4, 1024), (5, 2048), (6, 512), (7, 8192)):
        topology.reserve(host_id, 0, memory)
    request = dataclasses.replace(SMALL, strategy=DISPERSING)
    assert plan(request, topology).cluster_id == 2          # 3584 MiB used against 4096, 8192
    assert host_of(request, topology) == 6                    # 512 MiB used: the most free


def test_dispersing_breaks_ties_by_lowest_id_and_takes_the_emptiest_pool():
    builder = grid(clusters=2, hosts_per_cluster=2)
    builder.pool(zone_id=1, capacity=100.0)
    topology = builder.build()
    topology.reserve_storage(1, 500.0)
    request = dataclasses.replace(SMALL, strategy=DISPERSING)
    assert plan(request, topology) == Placement(1, 1, 1, 1, 3)


def test_the_same_inputs_give_the_same_placement():
    topology = grid(clusters=4, hosts_per_cluster=4).build()
    for strategy in ("first_fit", DISPERSING):
        request = dataclasses.replace(SMALL, strategy=strategy)
        assert len({plan(request, topology) for _ in range(5)}) == 1


# --- requests --------------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [{"cpu_mhz": 0}, {"memory_mib": -1}, {"disk_gib": -1},
                                    {"strategy": "random"}])
def test_a_nonsensical_request_is_a_programming_error(fields):
    with pytest.raises(ValueError):
        dataclasses.replace(SMALL, **fields)


def test_request_tags_given_as_sets_become_frozensets():
    request = dataclasses.replace(SMALL, host_tags={"gpu"}, anti_affinity_host_ids=[3])
    assert request.host_tags == frozenset({"gpu"})
    assert request.anti_affinity_host_ids == frozenset({3})


# --- properties: random clouds, random place/destroy sequences, against brute force ------------
#
# Each run builds a small random cloud (some zones, pods, clusters disabled, some hosts in
# maintenance, overcommit, tags, cluster-scoped and zone-wide pools), then places and destroys
# VMs as the management server would: plan(), then reserve()/reserve_storage(); release() and
# release_storage() on destroy. After every step the books are recounted by brute force.

RARE_TAGS = st.sampled_from([frozenset()] * 6 + [frozenset({"gpu"}), frozenset({"gpu", "ssd"})])


@dataclass(frozen=True)
class PlacedVm:
    request: PlacementRequest
    host_id: int
    pool_id: int | None


def a_few(draw, ids) -> frozenset[int]:
    """Often none, sometimes one or two of ``ids``."""
    if not ids:
        return frozenset()
    return frozenset(draw(st.lists(st.sampled_from(sorted(ids)), max_size=2)))


def draw_request(draw, topology: Topology, placed: list[PlacedVm]) -> PlacementRequest:
    group_hosts = {vm.host_id for vm in placed}   # hosts of the groups' members
    return PlacementRequest(
        cpu_mhz=draw(st.sampled_from([500, 1000, 2000, 3000])),
        memory_mib=draw(st.sampled_from([512, 1024, 2048, 4096])),
        disk_gib=draw(st.sampled_from([0, 0.5, 2, 10.5, 20])),
        zone_id=draw(st.sampled_from([None, None, *topology.zone_ids])),
        host_tags=draw(RARE_TAGS), storage_tags=draw(RARE_TAGS),
        hypervisor=draw(st.sampled_from(["KVM"] * 7 + ["BareMetal"])),
        affinity_host_ids=a_few(draw, group_hosts),
        anti_affinity_host_ids=a_few(draw, group_hosts),
        strategy=draw(st.sampled_from([FIRST_FIT, DISPERSING])),
        pool_id=draw(st.sampled_from([None] * 3 * max(1, len(topology.pools)) + [*topology.pools])))


def draw_avoid(draw, topology: Topology) -> AvoidSet:
    if draw(st.booleans()):
        return AvoidSet()
    rarely = draw(st.integers(0, 4)) == 3
    return AvoidSet(zones=a_few(draw, topology.zones) if rarely else frozenset(),
                    pods=a_few(draw, topology.pods) if rarely else frozenset(),
                    clusters=a_few(draw, topology.clusters), hosts=a_few(draw, topology.hosts),
                    pools=a_few(draw, topology.pools))


def check_books(topology: Topology, initial: Topology, placed: list[PlacedVm]) -> None:
    """Usage equals the initial usage plus what is placed, and stays within capacity."""
    for host in topology.hosts.values():
        on_it = [vm.request for vm in placed if vm.host_id == host.id]
        start = initial.hosts[host.id]
        assert host.cpu_used_mhz == start.cpu_used_mhz + sum(r.cpu_mhz for r in on_it)
        assert host.memory_used_mib == start.memory_used_mib + sum(r.memory_mib for r in on_it)
        assert host.cpu_used_mhz <= host.cpu_total_mhz * host.cpu_overcommit
        assert host.memory_used_mib <= host.memory_total_mib * host.memory_overcommit
    for pool in topology.pools.values():
        on_it = [vm.request.disk_gib for vm in placed if vm.pool_id == pool.id]
        assert pool.used_gib == initial.pools[pool.id].used_gib + sum(on_it)
        assert pool.used_gib <= pool.capacity_gib * pool.overprovisioning


def checked_plan(request: PlacementRequest, topology: Topology, avoid: AvoidSet,
                 threshold: float):
    """plan(), checked against brute force: a refusal only when nothing is valid, otherwise a
    valid placement, and the very one the reference of its strategy picks."""
    valid = [(host.id, pool and pool.id)
             for host, pool in valid_placements(request, topology, avoid, threshold)]
    try:
        placement = plan(request, topology, avoid, capacity_threshold=threshold)
    except NoCapacity as refused:
        assert valid == [], f"plan() refused but {valid[0]} was possible: {refused}"
        assert refused.causes and str(refused).startswith(("no ", "the host", "none of"))
        return None
    chosen = (placement.host_id, placement.pool_id)
    assert chosen in valid
    host = topology.hosts[placement.host_id]
    assert (placement.zone_id, placement.pod_id, placement.cluster_id) == (
        host.zone_id, host.pod_id, host.cluster_id)
    assert placement.host_id not in request.anti_affinity_host_ids
    assert not request.affinity_host_ids or placement.host_id in request.affinity_host_ids
    assert placement.host_id not in avoid.hosts and placement.pool_id not in avoid.pools
    assert placement.cluster_id not in avoid.clusters and placement.pod_id not in avoid.pods
    assert placement.zone_id not in avoid.zones
    reference = (brute_first_fit if request.strategy == FIRST_FIT else brute_dispersing)(
        request, topology, avoid, threshold)
    assert chosen == (reference[0].id, reference[1] and reference[1].id)
    return placement


def place(draw, topology: Topology, placed: list[PlacedVm]) -> None:
    request, avoid = draw_request(draw, topology, placed), draw_avoid(draw, topology)
    threshold = draw(st.sampled_from([0.85, 0.85, 1.0, 0.6]))
    placement = checked_plan(request, topology, avoid, threshold)
    if placement is not None and draw(st.booleans()):
        # The deploy failed there: retry as the caller does, avoiding the host, cluster or pool.
        kind = draw(st.sampled_from(["hosts", "clusters", "pools"]))
        failed = {"hosts": placement.host_id, "clusters": placement.cluster_id,
                  "pools": placement.pool_id}[kind]
        if failed is not None:
            avoid = dataclasses.replace(avoid, **{kind: getattr(avoid, kind) | {failed}})
            placement = checked_plan(request, topology, avoid, threshold)
    if placement is None:
        return
    topology.reserve(placement.host_id, request.cpu_mhz, request.memory_mib)
    stored_pool = placement.pool_id if request.disk_gib else None
    if stored_pool is not None:
        topology.reserve_storage(stored_pool, request.disk_gib)
    placed.append(PlacedVm(request, placement.host_id, stored_pool))


def destroy(topology: Topology, vm: PlacedVm) -> None:
    topology.release(vm.host_id, vm.request.cpu_mhz, vm.request.memory_mib)
    if vm.pool_id is not None:
        topology.release_storage(vm.pool_id, vm.request.disk_gib)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_clouds(), st.data())
def test_random_place_and_destroy_sequences_keep_every_rule(topology, data):
    draw = data.draw
    initial = Topology(topology.zones.values(), topology.pods.values(),
                       topology.clusters.values(), topology.hosts.values(),
                       topology.pools.values())
    placed: list[PlacedVm] = []
    for _ in range(draw(st.integers(1, 25))):
        step = draw(st.sampled_from(["place", "place", "place", "destroy", "maintenance"]))
        if step == "place":
            place(draw, topology, placed)
        elif step == "destroy" and placed:
            destroy(topology, placed.pop(draw(st.integers(0, len(placed) - 1))))
        elif step == "maintenance" and topology.hosts:
            host = topology.hosts[draw(st.sampled_from(sorted(topology.hosts)))]
            topology.update_host(dataclasses.replace(host, schedulable=not host.schedulable))
        check_books(topology, initial, placed)
    while placed:
        destroy(topology, placed.pop())
    for host in topology.hosts.values():
        start = initial.hosts[host.id]
        assert (host.cpu_used_mhz, host.memory_used_mib) == (start.cpu_used_mhz,
                                                             start.memory_used_mib)
    for pool in topology.pools.values():
        assert pool.used_gib == initial.pools[pool.id].used_gib
