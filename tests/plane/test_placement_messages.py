"""What the planner tells a user when nothing fits: NoCapacity and its counted causes."""

from __future__ import annotations

import dataclasses

import pytest

from occistack.plane.errors import Conflict
from occistack.plane.placement.planner import NoCapacity, plan
from occistack.plane.placement.requests import AvoidSet, PlacementRequest

from tests.plane.topologies import TopologyBuilder, grid

SMALL = PlacementRequest(cpu_mhz=2000, memory_mib=2048, disk_gib=10)


def refusal(request, topology, **options) -> str:
    with pytest.raises(NoCapacity) as raised:
        plan(request, topology, **options)
    assert raised.value.reason == str(raised.value)
    return raised.value.reason


def test_the_message_names_the_zone_and_counts_the_main_reasons():
    builder = TopologyBuilder()
    pod = builder.pod(builder.zone("zone1"))
    busy, quiet = builder.cluster(pod), builder.cluster(pod)
    for cluster in (busy, busy, quiet, quiet, quiet):
        builder.host(cluster, cpu=8000, memory=16384)
    builder.host(quiet, schedulable=False, unschedulable_reason="in maintenance")
    builder.pool(zone_id=1, capacity=1000.0)
    topology = builder.build()
    for host_id in (1, 2):
        topology.reserve(host_id, 7500, 0)
    for host_id in (3, 4):
        topology.reserve(host_id, 6000, 0)
    topology.reserve(5, 0, 15000)
    request = PlacementRequest(cpu_mhz=4000, memory_mib=8192, disk_gib=20, zone_id=1)
    assert refusal(request, topology) == (
        "no KVM host in zone 'zone1' can take 4000 MHz of CPU, 8192 MiB of memory and 20 GiB of "
        "disk: 1 cluster is above the 85% capacity threshold, "
        "3 hosts are too full (2 short of CPU, 1 short of memory), 1 host is in maintenance")


def test_no_capacity_is_a_refusal_of_its_own_kind_with_its_causes():
    topology = grid(clusters=1, hosts_per_cluster=1).build()
    topology.reserve(1, 6500, 0)
    with pytest.raises(NoCapacity) as raised:
        plan(SMALL, topology)
    assert raised.value.kind == "capacity" and not isinstance(raised.value, Conflict)
    assert raised.value.causes == ("1 host is too full (1 short of CPU)",)


def test_a_vm_larger_than_every_host_is_told_so_not_too_full():
    builder = TopologyBuilder()
    pod = builder.pod(builder.zone("zone1"))
    cluster = builder.cluster(pod)
    builder.host(cluster, cpu=8000, memory=16384, cpu_cores=4)
    builder.host(cluster, cpu=16000, memory=8192, cpu_cores=8)
    builder.pool(zone_id=1, capacity=1000.0)
    topology = builder.build()
    message = refusal(PlacementRequest(cpu_mhz=12000, memory_mib=12288, zone_id=1), topology)
    assert message == (
        "no KVM host in zone 'zone1' can take 12000 MHz of CPU and 12288 MiB of memory: the compute is larger "
        "than any KVM host in zone 'zone1' (largest: 4 cores, 16 GiB of memory); ask for fewer cores or less memory")
    # With room used on the hosts, a VM that would fit an empty host is still "too full".
    topology.reserve(1, 6000, 0)
    topology.reserve(2, 13000, 0)
    message = refusal(PlacementRequest(cpu_mhz=4000, memory_mib=4096, zone_id=1), topology)
    assert message.endswith(": 2 hosts are too full (2 short of CPU)")


def test_hosts_too_small_are_told_apart_from_hosts_too_full():
    builder = TopologyBuilder()
    pod = builder.pod(builder.zone("zone1"))
    cluster = builder.cluster(pod)
    small, big = builder.host(cluster, cpu=2000, memory=4096), builder.host(cluster, cpu=8000, memory=16384,
                                                                              cpu_overcommit=2.0)
    builder.pool(zone_id=1, capacity=1000.0)
    topology = builder.build()
    topology.reserve(big, 13000, 0)
    assert refusal(PlacementRequest(cpu_mhz=4000, memory_mib=4096, zone_id=1), topology).endswith(
        ": 1 host is too small for it even when empty, 1 host is too full (1 short of CPU)")
    assert small == 1
    # Overcommit counts: the big host's 8000 MHz take 16000, so 12000 is not "larger than any host".
    assert "larger than any" not in refusal(PlacementRequest(cpu_mhz=12000, memory_mib=4096, zone_id=1), topology)


def test_the_message_tells_about_storage_and_pools():
    builder = grid(clusters=2, hosts_per_cluster=1)
    builder.pools[1] = dataclasses.replace(builder.pools[1], usable=False,
                                           unusable_reason="in maintenance")
    topology = builder.build()
    topology.reserve_storage(1, 900.0)
    assert refusal(SMALL, topology).endswith(
        ": 2 clusters with room have no suitable primary storage pool, "
        "1 pool has no room for 10 GiB within the 85% capacity threshold, "
        "1 pool is in maintenance")
    ssd = dataclasses.replace(SMALL, storage_tags=frozenset({"ssd"}))
    assert "2 pools lack the storage tags 'ssd'" in refusal(ssd, grid().build())
    builder.pools.clear()
    assert "2 clusters with room have no primary storage pool" in refusal(SMALL, builder.build())


def test_the_message_tells_about_tags_avoidance_and_groups():
    topology = grid(clusters=1, hosts_per_cluster=3).build()
    tagged = dataclasses.replace(SMALL, host_tags=frozenset({"gpu"}))
    assert refusal(tagged, topology).startswith("no KVM host tagged 'gpu' in any zone can take")
    assert "3 hosts lack the host tag 'gpu'" in refusal(tagged, topology)
    apart = dataclasses.replace(SMALL, anti_affinity_host_ids=frozenset({1, 2}))
    message = refusal(apart, topology, avoid=AvoidSet(hosts=frozenset({3})))
    assert "2 hosts already run a member of the VM's anti-affinity group" in message
    assert "1 host was excluded after a failed attempt" in message
    together = dataclasses.replace(SMALL, cpu_mhz=9000, affinity_host_ids=frozenset({2}))
    assert refusal(together, topology) == (
        "the host of the VM's affinity group in any zone cannot take 9000 MHz of CPU, 2048 MiB "
        "of memory and 10 GiB of disk: 1 host is too small for it even when empty")


def test_the_message_tells_about_zones_pods_clusters_and_a_forced_pool():
    builder = TopologyBuilder()
    builder.host(builder.cluster(builder.pod(builder.zone("north", enabled=False))))
    south = builder.zone("south")
    builder.host(builder.cluster(builder.pod(south, enabled=False)))
    pod = builder.pod(south)
    builder.host(builder.cluster(pod, hypervisor="BareMetal"))
    builder.host(builder.cluster(pod, enabled=False))
    builder.zone("empty")
    message = refusal(SMALL, builder.build())
    assert message == ("no KVM host in any zone can take 2000 MHz of CPU, 2048 MiB of memory "
                       "and 10 GiB of disk: zone 'north' is disabled, zone 'empty' has no hosts, "
                       "1 pod is disabled, 1 cluster is not a KVM cluster, 1 cluster is disabled")
    assert refusal(dataclasses.replace(SMALL, zone_id=9), builder.build()).endswith(
        ": there is no zone 9")
    forced = dataclasses.replace(SMALL, pool_id=1)
    assert "1 cluster with room cannot reach pool 'pool1', where the disk lives" in refusal(
        forced, grid().build(), avoid=AvoidSet(clusters=frozenset({1})))
