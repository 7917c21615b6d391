"""The capacity report: used and total per zone, with overcommit and overprovisioning, from
aggregate queries; and the infrastructure counts."""

from __future__ import annotations

from sqlalchemy import event

from occistack.model.states import HostStatus, StoragePoolState
from occistack.plane import admin

from tests.factories import GuestVlanFactory, IpAllocationFactory
from tests.plane import admin_cloud


def two_zones(session):
    admin_cloud.rack(session)
    admin_cloud.rack(session, zone="z2", third_octet=2)
    admin.create_zone(session, name="empty")
    h1 = admin_cloud.host(session, "h1", cpu_cores=8, cpu_mhz=2000, memory_mib=16384, cpu_overcommit=2,
                          memory_overcommit=1.5).host
    h2 = admin_cloud.host(session, "h2", cpu_cores=4, cpu_mhz=1000, memory_mib=8192).host
    h3 = admin_cloud.host(session, "h3", zone="z2", address="10.0.2.21", cpu_cores=2, cpu_mhz=3000,
                          memory_mib=4096).host
    h1.status, h2.status, h3.status = HostStatus.UP, HostStatus.ALERT, HostStatus.UP
    h1.cpu_used_mhz, h1.memory_used_mib = 6000, 10000
    h2.cpu_used_mhz, h2.memory_used_mib = 1000, 1024
    session.flush()
    pool = admin.add_storage_pool(session, zone="z1", name="ps1", protocol="nfs", server="nfs1", path="/p",
                                  capacity_gib=1000, overprovisioning=2)
    pool.used_gib = 250.5
    down = admin.add_storage_pool(session, zone="z1", name="ps2", protocol="filesystem", path="/q", capacity_gib=50)
    down.state = StoragePoolState.MAINTENANCE
    store = admin.add_secondary_storage(session, zone="z1", name="ss1", url="nfs://s/e", capacity_gib=500)
    store.used_gib = 100
    admin.add_secondary_storage(session, zone="z2", name="ss1", url="nfs://s/f", capacity_gib=300, )
    admin.disable_secondary_storage(session, "ss1", zone="z2")
    public = admin.add_ip_range(session, zone="z1", purpose="public", first="203.0.113.10", last="203.0.113.19",
                                gateway="203.0.113.1", prefix_length=24)
    IpAllocationFactory(session=session, range_id=public.id)
    IpAllocationFactory(session=session, range_id=public.id, offset=1)
    [management] = admin.list_ip_ranges(session, zone="z1", purpose="management")
    IpAllocationFactory(session=session, range_id=management.id)
    network = admin.create_physical_network(session, zone="z1", name="pn1", vlan_ranges=["100-199", "300-309"])
    GuestVlanFactory(session=session, physical_network_id=network.id, vlan=100)
    session.flush()


def test_the_report_per_zone(session):
    two_zones(session)
    report = admin.capacity_report(session)
    assert [zone.zone for zone in report.zones] == ["empty", "z1", "z2"]
    empty, z1, z2 = report.zones
    assert z1.memory_mib == admin.Usage(11024, 16384 * 1.5 + 8192)
    assert z1.cpu_mhz == admin.Usage(7000, 8 * 2000 * 2 + 4 * 1000)
    assert z1.primary_storage_gib == admin.Usage(250.5, 2000)
    assert z1.secondary_storage_gib == admin.Usage(100, 500)
    assert z1.public_ips == admin.Usage(2, 10)
    assert z1.management_ips == admin.Usage(1, 41)
    assert z1.vlans == admin.Usage(1, 110)
    assert (z1.pods, z1.clusters, z1.primary_pools, z1.secondary_stores, z1.host_count) == (1, 1, 2, 1, 2)
    assert z1.hosts == {"connecting": 0, "up": 1, "disconnected": 0, "alert": 1, "down": 0}
    assert z2.memory_mib == admin.Usage(0, 4096) and z2.cpu_mhz == admin.Usage(0, 6000)
    assert z2.secondary_storage_gib == admin.Usage(0, 0) and z2.secondary_stores == 1
    assert z2.public_ips == admin.Usage(0, 0) and z2.management_ips == admin.Usage(0, 41)
    assert empty.memory_mib == admin.Usage(0, 0) and empty.host_count == 0 and empty.memory_mib.percent is None


def test_disabled_hosts_count_for_neither_used_nor_total(session):
    two_zones(session)
    admin.disable_host(session, "h2")
    admin.prepare_host_maintenance(session, "h1")
    z1 = admin.capacity_report(session).zones[1]
    assert z1.memory_mib == admin.Usage(0, 0) and z1.cpu_mhz == admin.Usage(0, 0)
    assert z1.host_count == 2


def test_the_whole_cloud_and_the_json_document(session):
    two_zones(session)
    report = admin.capacity_report(session)
    cloud = report.cloud
    assert cloud.memory_mib == admin.Usage(11024, 16384 * 1.5 + 8192 + 4096)
    assert (cloud.pods, cloud.clusters, cloud.host_count, cloud.hosts["up"]) == (2, 2, 3, 2)
    document = report.as_dict()
    assert document["cloud"]["zones"] == 3
    memory = document["zones"][1]["memory_mib"]
    assert memory == {"used": 11024, "total": 32768, "free": 21744, "percent": 33.6}
    assert document["zones"][1]["hosts"] == {"total": 2, "connecting": 0, "up": 1, "disconnected": 0, "alert": 1,
                                             "down": 0}


def test_the_report_is_a_few_aggregate_queries_whatever_the_number_of_hosts(session):
    two_zones(session)
    for number in range(4, 30):
        admin_cloud.host(session, f"h{number}")
    statements = []
    engine = session.get_bind()
    listener = lambda *arguments: statements.append(arguments[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        report = admin.capacity_report(session)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert report.zones[1].host_count == 28
    assert len(statements) <= 12
    host_queries = [s for s in statements if "FROM hosts" in s]
    assert host_queries and all("GROUP BY" in s for s in host_queries)
