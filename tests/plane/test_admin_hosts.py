"""Pods, clusters and hosts: creating them, their checks, the host's agent token, and the
host's resource state (enable, disable, maintenance) through the transition table."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from occistack.model import EventRecord, InventoryGeneration, IpRange
from occistack.model.states import HostStatus, ResourceState
from occistack.plane import admin
from occistack.plane.admin.hosts import update_host
from occistack.plane.errors import Conflict, InvalidRequest, NotFound

from tests.factories import IpAllocationFactory, VirtualMachineFactory
from tests.plane import admin_cloud


# --- pods ---------------------------------------------------------------------------------------------

def test_a_pod_gets_its_management_range(session):
    admin.create_zone(session, name="z1")
    pod = admin.create_pod(session, zone="z1", name="p1", cidr="10.0.1.0/24", gateway="10.0.1.1",
                           management_first="10.0.1.10", management_last="10.0.1.50")
    [ip_range] = session.scalars(select(IpRange))
    assert (ip_range.purpose, ip_range.pod_id, ip_range.first_address, ip_range.last_address) == \
        ("management", pod.id, "10.0.1.10", "10.0.1.50")
    assert (ip_range.gateway, ip_range.prefix_length, ip_range.size) == ("10.0.1.1", 24, 41)


def test_a_pod_without_a_management_range(session):
    admin.create_zone(session, name="z1")
    admin.create_pod(session, zone="z1", name="p1", cidr="10.0.1.0/24", gateway="10.0.1.1")
    assert admin.list_ip_ranges(session) == []


@pytest.mark.parametrize("options, error, message", [
    ({"zone": "z9"}, NotFound, "no zone named 'z9'; zones are: z1"),
    ({"name": "p 1"}, InvalidRequest, "is not usable"),
    ({"cidr": "10.0.1.7/24"}, InvalidRequest, "has host bits set; the network is 10.0.1.0/24"),
    ({"gateway": "10.0.2.1"}, InvalidRequest, "the gateway 10.0.2.1 is outside the subnet 10.0.1.0/24"),
    ({"gateway": "10.0.1.0"}, InvalidRequest, "is the network address of 10.0.1.0/24"),
    ({"gateway": "10.0.1.255"}, InvalidRequest, "is the broadcast address"),
    ({"gateway": "gateway"}, InvalidRequest, "is not an IPv4 address"),
    ({"management_first": "10.0.2.10", "management_last": "10.0.2.50"}, InvalidRequest,
     "IP range 10.0.2.10-10.0.2.50 is not inside the subnet 10.0.1.0/24 of pod 'p1'"),
    ({"management_first": "10.0.1.50", "management_last": "10.0.1.10"}, InvalidRequest, "is backwards"),
    ({"management_first": "10.0.1.1", "management_last": "10.0.1.10"}, InvalidRequest, "contains its gateway"),
    ({"management_first": "10.0.1.10", "management_last": None}, InvalidRequest, "needs both its first and its last"),
])
def test_bad_pods_are_refused(session, options, error, message):
    admin.create_zone(session, name="z1")
    values = {"zone": "z1", "name": "p1", "cidr": "10.0.1.0/24", "gateway": "10.0.1.1",
              "management_first": "10.0.1.10", "management_last": "10.0.1.50", **options}
    with pytest.raises(error, match=message):
        admin.create_pod(session, **values)


def test_pod_names_and_subnets_are_unique_in_a_zone(session):
    admin_cloud.rack(session)
    with pytest.raises(Conflict, match="a pod named 'p1' already exists in zone 'z1'"):
        admin.create_pod(session, zone="z1", name="p1", cidr="10.0.2.0/24", gateway="10.0.2.1")
    with pytest.raises(Conflict, match="the pod CIDR 10.0.0.0/16 overlaps 10.0.1.0/24 of pod 'p1'"):
        admin.create_pod(session, zone="z1", name="p2", cidr="10.0.0.0/16", gateway="10.0.0.1")
    admin.create_zone(session, name="z2")
    admin.create_pod(session, zone="z2", name="p1", cidr="10.0.1.0/24", gateway="10.0.1.1")


def test_a_management_range_never_overlaps_another_range_of_the_zone(session):
    admin_cloud.rack(session)
    admin.add_ip_range(session, zone="z1", purpose="public", first="203.0.113.10", last="203.0.113.20",
                       gateway="203.0.113.1", prefix_length=24)
    with pytest.raises(Conflict, match="IP range 10.0.1.40-10.0.1.60 overlaps the management range "
                                       "10.0.1.10-10.0.1.50 of zone 'z1'"):
        admin.add_ip_range(session, zone="z1", pod="p1", purpose="management", first="10.0.1.40", last="10.0.1.60")
    extra = admin.add_ip_range(session, zone="z1", pod="p1", purpose="management", first="10.0.1.60",
                               last="10.0.1.70")
    assert (extra.gateway, extra.prefix_length) == ("10.0.1.1", 24)


def test_a_pod_goes_with_its_free_management_ranges_but_not_while_in_use(session):
    admin_cloud.rack(session)
    with pytest.raises(Conflict, match="pod 'p1' still has 1 cluster; remove them first"):
        admin.remove_pod(session, "p1", zone="z1")
    admin.remove_cluster(session, "c1", pod="p1", zone="z1")
    [management] = admin.list_ip_ranges(session)
    allocation = IpAllocationFactory(session=session, range_id=management.id)
    with pytest.raises(Conflict, match="still has 1 allocated management address"):
        admin.remove_pod(session, "p1", zone="z1")
    session.delete(allocation)
    session.flush()
    admin.remove_pod(session, "p1", zone="z1")
    assert admin.list_pods(session) == [] and admin.list_ip_ranges(session) == []


def test_pods_and_clusters_are_enabled_and_disabled(session):
    admin_cloud.rack(session)
    assert admin.disable_pod(session, "p1", zone="z1").enabled is False
    assert admin.enable_pod(session, "p1", zone="z1").enabled is True
    assert admin.disable_cluster(session, "c1", pod="p1", zone="z1").enabled is False
    assert admin.enable_cluster(session, "c1", pod="p1", zone="z1").enabled is True
    actions = [event.action for event in session.scalars(select(EventRecord).order_by(EventRecord.id))]
    assert actions[-4:] == ["pod.disable", "pod.enable", "cluster.disable", "cluster.enable"]


def test_a_pod_named_by_id_must_be_in_the_zone_given(session):
    _zone, pod, _cluster = admin_cloud.rack(session)
    admin.create_zone(session, name="z2")
    assert admin.find_pod(session, pod.id, zone="z1") is pod
    with pytest.raises(NotFound, match="pod 'p1' is not in zone 'z2'"):
        admin.find_pod(session, pod.id, zone="z2")
    with pytest.raises(InvalidRequest, match="name the zone of pod 'p1'"):
        admin.find_pod(session, "p1")


# --- clusters -----------------------------------------------------------------------------------------

def test_a_cluster_is_created_in_a_pod(session):
    zone, pod, cluster = admin_cloud.rack(session)
    assert (cluster.zone_id, cluster.pod_id, cluster.hypervisor) == (zone.id, pod.id, "KVM")
    bare = admin.create_cluster(session, pod=pod.id, name="metal", hypervisor="BareMetal")
    assert bare.hypervisor == "BareMetal"


def test_cluster_checks(session):
    admin_cloud.rack(session)
    with pytest.raises(InvalidRequest, match="hypervisor 'Xen' is not one of the accepted values: KVM, BareMetal"):
        admin.create_cluster(session, zone="z1", pod="p1", name="c2", hypervisor="Xen")
    with pytest.raises(Conflict, match="a cluster named 'c1' already exists in pod 'p1'"):
        admin.create_cluster(session, zone="z1", pod="p1", name="c1")
    with pytest.raises(NotFound, match="no pod named 'p9' in zone 'z1'; its pods are: p1"):
        admin.create_cluster(session, zone="z1", pod="p9", name="c2")
    with pytest.raises(InvalidRequest, match="name the pod"):
        admin.find_cluster(session, "c1")


def test_a_cluster_with_hosts_or_storage_stays(session):
    admin_cloud.rack(session)
    admin_cloud.host(session)
    admin.add_storage_pool(session, zone="z1", pod="p1", cluster="c1", name="ps1", protocol="filesystem",
                           path="/var/lib/primary", capacity_gib=100)
    with pytest.raises(Conflict, match="cluster 'c1' still has 1 host and 1 primary storage pool"):
        admin.remove_cluster(session, "c1", pod="p1", zone="z1")


# --- hosts --------------------------------------------------------------------------------------------

def test_a_host_joins_its_cluster_with_a_token_kept_only_as_a_hash(session):
    zone, pod, cluster = admin_cloud.rack(session)
    added = admin_cloud.host(session, cpu_sockets=2, cpu_cores=16, cpu_mhz=2400, memory_mib=65536,
                             cpu_overcommit=2, memory_overcommit=1.5, tags="ssd, gpu,ssd")
    host = added.host
    assert (host.zone_id, host.pod_id, host.cluster_id, host.hypervisor) == (zone.id, pod.id, cluster.id, "KVM")
    assert (host.cpu_sockets, host.cpu_cores, host.cpu_mhz, host.memory_mib) == (2, 16, 2400, 65536)
    assert (host.cpu_overcommit, host.memory_overcommit, host.tags) == (2.0, 1.5, "ssd,gpu")
    assert host.status == HostStatus.CONNECTING and host.resource_state == ResourceState.ENABLED
    assert len(added.agent_token) >= 40
    assert host.agent_token_hash == hashlib.sha256(added.agent_token.encode()).hexdigest()
    assert added.agent_token not in repr(vars(host))


def test_each_host_gets_its_own_token(session):
    admin_cloud.rack(session)
    first = admin_cloud.host(session, "h1")
    # A host name is accepted when it resolves (localhost does, from /etc/hosts, offline too).
    second = admin_cloud.host(session, "h2", address="localhost")
    assert first.agent_token != second.agent_token
    assert second.host.address == "localhost"


def test_two_hosts_cannot_share_an_address(session):
    admin_cloud.rack(session)
    admin_cloud.host(session, "h1", address="10.0.1.30")
    with pytest.raises(Conflict, match="host 'h1' already has the address 10.0.1.30"):
        admin_cloud.host(session, "h2", address="10.0.1.30")
    # The same address written another way is the same address.
    admin_cloud.host(session, "h3", address="2001:db8::1")
    with pytest.raises(Conflict, match="host 'h3' already has the address 2001:db8::1"):
        admin_cloud.host(session, "h4", address="2001:DB8:0::1")


def test_adding_a_host_moves_the_inventory_generation(session):
    admin_cloud.rack(session)
    before = session.get(InventoryGeneration, 1).generation
    admin_cloud.host(session)
    session.expire_all()
    assert session.get(InventoryGeneration, 1).generation > before


@pytest.mark.parametrize("options, message", [
    ({"cpu_cores": 0}, "the number of CPU cores must be at least 1; got 0"),
    ({"cpu_mhz": -5}, "the CPU speed in MHz must be at least 1"),
    ({"memory_mib": 1.5}, "the memory in MiB must be a whole number"),
    ({"cpu_sockets": 0}, "CPU sockets must be at least 1"),
    ({"cpu_overcommit": 0.5}, "the CPU overcommit factor must be at least 1; got 0.5"),
    ({"memory_overcommit": float("nan")}, "the memory overcommit factor must be a number"),
    ({"address": "not an address!"}, "is neither an IP address nor a host name"),
    # .invalid never resolves (RFC 2606): a name the management server cannot reach the host by.
    ({"address": "kvm9.no-such-site.invalid"}, "'kvm9.no-such-site.invalid' is a host name that does not resolve"),
    ({"tags": ["ok", "not ok"]}, "the tag 'not ok' of the host tags is not usable"),
])
def test_bad_hosts_are_refused(session, options, message):
    admin_cloud.rack(session)
    with pytest.raises(InvalidRequest, match=message):
        admin_cloud.host(session, **options)


def test_host_names_are_unique_in_the_cloud(session):
    admin_cloud.rack(session)
    admin_cloud.rack(session, zone="z2", third_octet=2)
    admin_cloud.host(session, "h1")
    with pytest.raises(Conflict, match="a host named 'h1' already exists"):
        admin_cloud.host(session, "h1", zone="z2")


def test_an_unknown_cluster_is_named(session):
    admin_cloud.rack(session)
    with pytest.raises(NotFound, match="no cluster named 'c9' in pod 'p1'; its clusters are: c1"):
        admin_cloud.host(session, cluster="c9")


def test_disable_and_enable_a_host(session):
    admin_cloud.rack(session)
    admin_cloud.host(session)
    assert admin.disable_host(session, "h1").resource_state == ResourceState.DISABLED
    assert admin.disable_host(session, "h1").resource_state == ResourceState.DISABLED
    assert admin.enable_host(session, "h1").resource_state == ResourceState.ENABLED
    assert admin.enable_host(session, "h1").resource_state == ResourceState.ENABLED
    actions = [e.action for e in session.scalars(select(EventRecord).where(EventRecord.resource_type == "host"))]
    assert actions == ["host.add", "host.disable", "host.enable"]


def test_an_empty_host_goes_straight_into_maintenance(session):
    admin_cloud.rack(session)
    admin_cloud.host(session)
    assert admin.prepare_host_maintenance(session, "h1").resource_state == ResourceState.MAINTENANCE
    [event] = admin.list_events(session, action="host.maintenance")
    assert event.state == "completed"
    assert admin.cancel_host_maintenance(session, "h1").resource_state == ResourceState.ENABLED


def test_a_host_with_virtual_machines_waits_in_prepare_for_maintenance(session):
    admin_cloud.rack(session)
    host = admin_cloud.host(session).host
    VirtualMachineFactory(session=session, host_id=host.id)
    admin.disable_host(session, "h1")
    assert admin.prepare_host_maintenance(session, "h1").resource_state == ResourceState.PREPARE_FOR_MAINTENANCE
    [event] = admin.list_events(session, action="host.maintenance")
    assert event.state == "started" and "1 virtual machine still on it" in event.description
    assert admin.cancel_host_maintenance(session, host.id).resource_state == ResourceState.ENABLED


def test_state_changes_the_table_forbids_are_conflicts(session):
    admin_cloud.rack(session)
    admin_cloud.host(session)
    with pytest.raises(Conflict, match="host 'h1' is enabled: it cannot leave maintenance now; possible: disable, "
                                       "maintenance"):
        admin.cancel_host_maintenance(session, "h1")
    admin.prepare_host_maintenance(session, "h1")
    with pytest.raises(Conflict, match="host 'h1' is in maintenance: it cannot be disabled now; possible: "
                                       "cancel-maintenance"):
        admin.disable_host(session, "h1")
    with pytest.raises(Conflict, match="it cannot be enabled now"):
        admin.enable_host(session, "h1")
    with pytest.raises(Conflict, match="it cannot go into maintenance now"):
        admin.prepare_host_maintenance(session, "h1")


def test_status_and_reserved_capacity_are_left_alone(session):
    admin_cloud.rack(session)
    host = admin_cloud.host(session).host
    host.status, host.cpu_used_mhz, host.memory_used_mib = HostStatus.UP, 4000, 2048
    session.flush()
    admin.disable_host(session, "h1")
    admin.enable_host(session, "h1")
    assert (host.status, host.cpu_used_mhz, host.memory_used_mib) == (HostStatus.UP, 4000, 2048)


def test_a_host_with_virtual_machines_cannot_be_removed(session):
    admin_cloud.rack(session)
    host = admin_cloud.host(session).host
    vm = VirtualMachineFactory(session=session, host_id=host.id)
    with pytest.raises(Conflict, match="host 'h1' still has 1 virtual machine; remove them first"):
        admin.remove_host(session, "h1")
    vm.host_id = None
    session.flush()
    admin.remove_host(session, "h1")
    assert admin.list_hosts(session) == []


def test_hosts_are_listed_by_zone_pod_and_cluster(session):
    admin_cloud.rack(session)
    admin_cloud.rack(session, zone="z2", third_octet=2)
    admin_cloud.host(session, "h1")
    admin_cloud.host(session, "h2")
    admin_cloud.host(session, "h3", zone="z2", address="10.0.2.21")
    assert [h.name for h in admin.list_hosts(session)] == ["h1", "h2", "h3"]
    assert [h.name for h in admin.list_hosts(session, zone="z2")] == ["h3"]
    assert [h.name for h in admin.list_hosts(session, zone="z1", pod="p1")] == ["h1", "h2"]
    assert [h.name for h in admin.list_hosts(session, zone="z1", pod="p1", cluster="c1")] == ["h1", "h2"]


def test_updating_a_host_moves_the_inventory_generation(session):
    admin_cloud.rack(session)
    host = admin_cloud.host(session).host
    before = session.get(InventoryGeneration, 1).generation
    update_host(session, host.id, tags="gpu")
    session.expire_all()
    assert session.get(InventoryGeneration, 1).generation > before
