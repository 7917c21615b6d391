"""The topology snapshot's bookkeeping: records, per-cluster loads, reserve/release, updates."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from occistack.plane.placement.topology import (
    NO_ROOM, ClusterLoad, HostSnapshot, PoolSnapshot, Topology, UsageBelowZero)

from tests.plane.topologies import TopologyBuilder, grid


def fresh_loads(topology: Topology) -> dict[int, ClusterLoad]:
    """The loads a snapshot built anew from the current records would have."""
    rebuilt = Topology(topology.zones.values(), topology.pods.values(),
                       topology.clusters.values(), topology.hosts.values(),
                       topology.pools.values())
    return {cluster_id: rebuilt.cluster_load(cluster_id) for cluster_id in topology.clusters}


def test_a_host_s_capacity_is_total_times_overcommit_rounded_down():
    host = HostSnapshot(1, "h1", 1, 1, 1, 3001, 1000, cpu_used_mhz=1000, cpu_overcommit=1.5,
                        memory_overcommit=1.25)
    assert (host.cpu_capacity_mhz, host.cpu_free_mhz) == (4501, 3501)
    assert (host.memory_capacity_mib, host.memory_free_mib) == (1250, 1250)
    assert host.has_room_for(3501, 1250) and not host.has_room_for(3502, 1)


@pytest.mark.parametrize("fields", [{"cpu_overcommit": 0.5}, {"cpu_used_mhz": -1},
                                    {"memory_used_mib": -1}])
def test_a_nonsensical_host_is_refused(fields):
    with pytest.raises(ValueError):
        HostSnapshot(1, "h1", 1, 1, 1, 1000, 1000, **fields)


def test_records_fill_in_a_reason_and_freeze_their_tags():
    host = HostSnapshot(1, "h1", 1, 1, 1, 1000, 1000, tags=["gpu"], schedulable=False)
    assert (host.tags, host.unschedulable_reason) == (frozenset({"gpu"}), "not schedulable")
    pool = PoolSnapshot(1, "p", 1, None, 10.0, overprovisioning=2.0, usable=False)
    assert (pool.allocatable_gib, pool.unusable_reason) == (20.0, "not usable")


def test_a_cluster_load_counts_only_schedulable_hosts():
    builder = grid(clusters=1, hosts_per_cluster=0)
    builder.host(1, cpu=4000, memory=4096, cpu_used_mhz=1000, tags={"gpu"})
    builder.host(1, cpu=8000, memory=8192, memory_used_mib=2048, cpu_overcommit=2.0)
    builder.host(1, cpu=64000, memory=65536, schedulable=False, tags={"ssd"})
    load = builder.build().cluster_load(1)
    assert (load.cpu_used_mhz, load.cpu_capacity_mhz, load.cpu_ratio) == (1000, 20000, 0.05)
    assert (load.memory_used_mib, load.memory_capacity_mib, load.memory_ratio) == (
        2048, 12288, 2048 / 12288)
    assert (load.largest_free_cpu_mhz, load.largest_free_memory_mib) == (16000, 6144)
    assert load.host_tags == {"gpu"}
    assert [host.id for host in load.hosts] == [1, 2, 3]


def test_a_cluster_without_schedulable_hosts_has_no_room():
    builder = grid(clusters=1, hosts_per_cluster=0)
    builder.host(1, schedulable=False)
    load = builder.build().cluster_load(1)
    assert (load.largest_free_cpu_mhz, load.largest_free_memory_mib) == (NO_ROOM, NO_ROOM)
    assert not load.above_threshold(0.85)


def test_reserve_and_release_keep_the_host_and_its_cluster_current():
    topology = grid(clusters=1, hosts_per_cluster=2).build()
    host = topology.reserve(2, 3000, 4096)
    assert topology.hosts[2] is host and host.cpu_used_mhz == 3000
    assert topology.cluster_load(1).hosts[1] is host
    assert topology.clusters_in_pod(1)[0] is topology.cluster_load(1)
    assert topology.cluster_load(1).largest_free_cpu_mhz == 8000
    topology.release(2, 3000, 4096)
    assert topology.cluster_load(1) == fresh_loads(topology)[1]
    assert topology.cluster_load(1).cpu_used_mhz == 0


def test_releasing_more_than_reserved_is_refused():
    topology = grid(clusters=1, hosts_per_cluster=1).build()
    topology.reserve(1, 1000, 1000)
    with pytest.raises(UsageBelowZero, match="host 'h1' would leave -1 MHz"):
        topology.release(1, 1001, 0)
    topology.reserve_storage(1, 1.5)
    with pytest.raises(UsageBelowZero, match="pool 'pool1'"):
        topology.release_storage(1, 2.0)
    with pytest.raises(ValueError):
        topology.reserve(1, -1, 0)
    assert topology.release_storage(1, 1.5).used_gib == 0.0


def test_update_host_keeps_every_aggregate_right():
    builder = grid(clusters=2, hosts_per_cluster=2)
    topology = builder.build()
    topology.update_host(dataclasses.replace(topology.hosts[1], schedulable=False))
    topology.update_host(dataclasses.replace(topology.hosts[2], cluster_id=2))   # moved
    topology.update_host(HostSnapshot(9, "h9", 1, 1, 1, 2000, 2000, cpu_used_mhz=500))  # new
    assert [h.id for h in topology.cluster_load(1).hosts] == [1, 9]
    assert [h.id for h in topology.cluster_load(2).hosts] == [2, 3, 4]
    assert topology.cluster_load(1).largest_free_cpu_mhz == 1500
    assert {c: topology.cluster_load(c) for c in topology.clusters} == fresh_loads(topology)
    with pytest.raises(ValueError, match="cluster 7 is unknown"):
        topology.update_host(dataclasses.replace(topology.hosts[1], cluster_id=7))


def test_pools_reachable_from_a_cluster_and_their_updates():
    builder = grid(clusters=2, hosts_per_cluster=1)
    wide = builder.pool(zone_id=1)
    topology = builder.build()
    assert [p.id for p in topology.reachable_pools(1)] == [1, wide]
    assert topology.reachable_pools(1, only_pool_id=2) == ()
    assert [p.id for p in topology.reachable_pools(2, only_pool_id=wide)] == [wide]
    topology.update_pool(dataclasses.replace(topology.pools[1], cluster_id=None))
    assert [p.id for p in topology.reachable_pools(2)] == [2, 1, wide]
    assert topology.reserve_storage(1, 2.5) is topology.zone_wide_pools(1)[0]


def test_inconsistent_records_are_refused():
    builder = grid(clusters=1, hosts_per_cluster=1)
    builder.hosts.append(dataclasses.replace(builder.hosts[0]))
    with pytest.raises(ValueError, match="two hosts have id 1"):
        builder.build()
    builder = grid(clusters=1, hosts_per_cluster=1)
    builder.hosts[0] = dataclasses.replace(builder.hosts[0], pod_id=5)
    with pytest.raises(ValueError, match="not in pod 5"):
        builder.build()
    builder = TopologyBuilder()
    builder.zone()
    builder.pool(zone_id=2, cluster_id=None)
    with pytest.raises(ValueError, match="zone 2 is unknown"):
        builder.build()


def test_the_mappings_are_read_only():
    topology = grid().build()
    with pytest.raises(TypeError):
        topology.hosts[1] = topology.hosts[2]  # type: ignore[index]


CHANGES = st.lists(st.tuples(st.sampled_from(["reserve", "release", "toggle", "move"]),
                             st.integers(1, 6), st.integers(0, 4000), st.integers(0, 4000)),
                   max_size=40)


@settings(max_examples=60, deadline=None)
@given(CHANGES)
def test_loads_always_equal_a_recount_from_scratch(changes):
    topology = grid(clusters=3, hosts_per_cluster=2, cpu_overcommit=1.5).build()
    for change, host_id, cpu, memory in changes:
        host = topology.hosts[host_id]
        if change == "reserve":
            topology.reserve(host_id, cpu, memory)
        elif change == "release":
            topology.release(host_id, min(cpu, host.cpu_used_mhz),
                             min(memory, host.memory_used_mib))
        elif change == "toggle":
            topology.update_host(dataclasses.replace(host, schedulable=not host.schedulable))
        else:
            topology.update_host(dataclasses.replace(host, cluster_id=1 + cpu % 3))
    assert {c: topology.cluster_load(c) for c in topology.clusters} == fresh_loads(topology)
    for pod in topology.pods:
        assert all(load is topology.cluster_load(load.cluster.id)
                   for load in topology.clusters_in_pod(pod))
