"""Placement of bare-metal computes: a whole-host request takes a free node, at least as big as
asked, the smallest of its cluster; each rule on its own, what a refusal says, and a property
over random clouds against a brute-force reference that restates the rules the slow way."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occistack.plane.placement.planner import NoCapacity, plan
from occistack.plane.placement.requests import AvoidSet, PlacementRequest

from tests.plane.topologies import MOSTLY, NEARLY_ALWAYS, TopologyBuilder

NODE = PlacementRequest(cpu_mhz=8000, memory_mib=16384, hypervisor="BareMetal", whole_host=True)


def metal(*sizes: tuple[int, int], **host_fields) -> TopologyBuilder:
    """One zone, one pod, one BareMetal cluster with nodes of the given (MHz, MiB)."""
    builder = TopologyBuilder()
    cluster = builder.cluster(builder.pod(builder.zone()), hypervisor="BareMetal")
    for cpu, memory in sizes:
        builder.host(cluster, cpu=cpu, memory=memory, **host_fields)
    return builder


def refusal(request, topology) -> str:
    with pytest.raises(NoCapacity) as raised:
        plan(request, topology)
    return raised.value.reason


def test_the_smallest_free_node_that_is_big_enough_is_taken():
    topology = metal((32000, 262144), (8000, 8192), (8000, 16384), (16000, 16384)).build()
    assert plan(NODE, topology).host_id == 3   # node 2 lacks memory; node 3 is smaller than 1 and 4


def test_a_node_holding_anything_is_not_free():
    topology = metal((8000, 16384), (8000, 16384)).build()
    topology.reserve(1, 0, 1)   # one MiB is enough to make it someone's
    assert plan(NODE, topology).host_id == 2
    topology.reserve(2, 1, 0)
    assert refusal(NODE, topology) == ("no free BareMetal host in any zone has 8000 MHz of CPU and 16384 MiB "
                                       "of memory: 2 hosts are taken")


def test_a_whole_host_request_never_lands_on_a_kvm_host_and_a_kvm_request_never_on_a_node():
    builder = TopologyBuilder()
    pod = builder.pod(builder.zone())
    builder.host(builder.cluster(pod), cpu=64000, memory=262144)
    builder.host(builder.cluster(pod, hypervisor="BareMetal"), cpu=8000, memory=16384)
    topology = builder.build()
    assert plan(NODE, topology).host_id == 2
    assert plan(dataclasses.replace(NODE, hypervisor="KVM", whole_host=False), topology).host_id == 1


def test_the_capacity_threshold_does_not_keep_the_last_free_node_from_being_used():
    builder = metal(*[(8000, 16384)] * 10)
    topology = builder.build()
    for host_id in range(1, 10):
        topology.reserve(host_id, 8000, 16384)   # 90% of the cluster is taken
    assert plan(NODE, topology, capacity_threshold=0.85).host_id == 10


def test_host_tags_and_unschedulable_nodes_are_respected_and_explained():
    builder = metal((8000, 16384), (4000, 16384))
    cluster = builder.clusters[0].id
    builder.host(cluster, cpu=8000, memory=16384, schedulable=False, unschedulable_reason="without a BMC")
    builder.host(cluster, cpu=8000, memory=16384, tags=frozenset({"gpu"}))
    topology = builder.build()
    gpu = dataclasses.replace(NODE, host_tags=frozenset({"gpu"}))
    assert plan(gpu, topology).host_id == 4
    topology.reserve(4, 1000, 1000)
    assert refusal(gpu, topology) == (
        "no free BareMetal host tagged 'gpu' in any zone has 8000 MHz of CPU and 16384 MiB of memory: "
        "2 hosts lack the host tag 'gpu', 1 host is without a BMC, 1 host is taken")
    assert refusal(dataclasses.replace(NODE, cpu_mhz=64000), topology).endswith(
        ": 2 hosts are too small, 1 host is without a BMC, 1 host is taken")


def test_an_avoided_node_is_passed_over():
    topology = metal((8000, 16384), (8000, 16384)).build()
    assert plan(NODE, topology, AvoidSet(hosts=frozenset({1}))).host_id == 2


# --- against the brute-force reference ---------------------------------------------------------

def brute_whole_host(request: PlacementRequest, topology, avoid: AvoidSet):
    """Zones, pods, clusters in id order; in the first cluster with a free node big enough,
    the smallest such node (memory, then CPU, then id)."""
    for zone_id in sorted(topology.zones):
        zone = topology.zones[zone_id]
        if (request.zone_id not in (None, zone_id)) or not zone.enabled or zone_id in avoid.zones:
            continue
        for pod in sorted((p for p in topology.pods.values() if p.zone_id == zone_id), key=lambda p: p.id):
            if not pod.enabled or pod.id in avoid.pods:
                continue
            for cluster in sorted((c for c in topology.clusters.values() if c.pod_id == pod.id),
                                  key=lambda c: c.id):
                if (not cluster.enabled or cluster.id in avoid.clusters
                        or cluster.hypervisor != request.hypervisor):
                    continue
                nodes = [h for h in topology.hosts.values()
                         if h.cluster_id == cluster.id and h.schedulable and h.id not in avoid.hosts
                         and h.cpu_used_mhz == 0 and h.memory_used_mib == 0
                         and h.cpu_total_mhz >= request.cpu_mhz and h.memory_total_mib >= request.memory_mib
                         and request.host_tags <= h.tags]
                if nodes:
                    return min(nodes, key=lambda h: (h.memory_total_mib, h.cpu_total_mhz, h.id))
    return None


@st.composite
def clouds_with_nodes(draw):
    """Random clouds where half the clusters are BareMetal and most nodes are free, so that
    placements succeed about as often as they fail."""
    builder = TopologyBuilder()
    for zone_number in range(draw(st.integers(1, 2))):
        zone = builder.zone(enabled=zone_number == 0 or draw(NEARLY_ALWAYS))
        for pod_number in range(draw(st.integers(1, 2))):
            pod = builder.pod(zone, enabled=pod_number == 0 or draw(NEARLY_ALWAYS))
            for _ in range(draw(st.integers(1, 3))):
                cluster = builder.cluster(pod, hypervisor=draw(st.sampled_from(["KVM", "BareMetal"])),
                                          enabled=draw(NEARLY_ALWAYS))
                for _ in range(draw(st.integers(0, 4))):
                    taken = not draw(MOSTLY)
                    builder.host(cluster, cpu=draw(st.sampled_from([2000, 4000, 8000])),
                                 memory=draw(st.sampled_from([2048, 4096, 8192])),
                                 cpu_used_mhz=draw(st.sampled_from([0, 500])) if taken else 0,
                                 memory_used_mib=draw(st.sampled_from([0, 512])) if taken else 0,
                                 tags=draw(st.sampled_from([frozenset(), frozenset({"gpu"})])),
                                 schedulable=draw(MOSTLY), unschedulable_reason="without a BMC")
    return builder.build()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=clouds_with_nodes(), data=st.data())
def test_whole_host_placement_matches_the_brute_force_reference(topology, data):
    request = PlacementRequest(
        cpu_mhz=data.draw(st.sampled_from([500, 2000, 4000, 8000])),
        memory_mib=data.draw(st.sampled_from([512, 2048, 4096, 8192])),
        zone_id=data.draw(st.sampled_from([None, None, *topology.zone_ids])),
        host_tags=data.draw(st.sampled_from([frozenset(), frozenset(), frozenset({"gpu"})])),
        hypervisor="BareMetal", whole_host=True)
    avoid = AvoidSet(hosts=frozenset(data.draw(st.lists(st.sampled_from(sorted(topology.hosts) or [0]),
                                                        max_size=2))))
    expected = brute_whole_host(request, topology, avoid)
    if expected is None:
        with pytest.raises(NoCapacity):
            plan(request, topology, avoid)
        return
    placement = plan(request, topology, avoid)
    assert placement.host_id == expected.id
    assert placement.pool_id is None   # a node's disks are its own
