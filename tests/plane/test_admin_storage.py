"""Primary storage (cluster or zone-wide) and secondary storage: adding, checks, state changes
and removal."""

from __future__ import annotations

import pytest

from occistack.model.states import StoragePoolState
from occistack.plane import admin
from occistack.plane.admin.storage import update_secondary_storage, update_storage_pool
from occistack.plane.errors import Conflict, InvalidRequest, NotFound

from tests.factories import TemplateCopyFactory, VirtualMachineFactory, VolumeFactory
from tests.plane import admin_cloud

NFS = {"protocol": "nfs", "server": "nfs1.example.org", "path": "/export/primary", "capacity_gib": 1000}


def test_cluster_and_zone_wide_primary_storage(session):
    zone, pod, cluster = admin_cloud.rack(session)
    scoped = admin.add_storage_pool(session, zone="z1", pod="p1", cluster="c1", name="ps1", overprovisioning=2,
                                    tags=["ssd"], **NFS)
    assert (scoped.zone_id, scoped.pod_id, scoped.cluster_id) == (zone.id, pod.id, cluster.id)
    assert (scoped.server, scoped.overprovisioning, scoped.tags, scoped.state) == \
        ("nfs1.example.org", 2.0, "ssd", StoragePoolState.UP)
    wide = admin.add_storage_pool(session, zone="z1", name="shared", protocol="sharedmountpoint",
                                  path="/mnt/shared", capacity_gib=500)
    assert (wide.pod_id, wide.cluster_id, wide.server) == (None, None, None)
    assert [pool.name for pool in admin.list_storage_pools(session, zone="z1")] == ["ps1", "shared"]


@pytest.mark.parametrize("options, error, message", [
    ({"protocol": "iscsi"}, InvalidRequest, "storage protocol 'iscsi' is not one of the accepted values: nfs, "
                                            "sharedmountpoint, filesystem"),
    ({"server": None}, InvalidRequest, "NFS primary storage needs its server"),
    ({"protocol": "filesystem"}, InvalidRequest, "filesystem primary storage is a path mounted on every host"),
    ({"path": "export"}, InvalidRequest, "the storage path 'export' is not an absolute path"),
    ({"capacity_gib": 0}, InvalidRequest, "the capacity in GiB must be greater than 0"),
    ({"overprovisioning": 0.9}, InvalidRequest, "the overprovisioning factor must be at least 1"),
    ({"pod": "p1", "cluster": None}, InvalidRequest, "name the cluster as well as its pod, or neither"),
    ({"pod": "p1", "cluster": "c9"}, NotFound, "no cluster named 'c9' in pod 'p1'"),
    ({"zone": "z9"}, NotFound, "no zone named 'z9'"),
])
def test_bad_primary_storage_is_refused(session, options, error, message):
    admin_cloud.rack(session)
    values = {"zone": "z1", "name": "ps1", **NFS, **options}
    with pytest.raises(error, match=message):
        admin.add_storage_pool(session, **values)


def test_primary_storage_names_are_unique_in_a_zone(session):
    admin_cloud.rack(session)
    admin.add_storage_pool(session, zone="z1", name="ps1", **NFS)
    with pytest.raises(Conflict, match="a primary storage pool named 'ps1' already exists in zone 'z1'"):
        admin.add_storage_pool(session, zone="z1", name="ps1", **NFS)


def test_a_cluster_of_another_zone_is_not_found(session):
    admin_cloud.rack(session)
    admin_cloud.rack(session, zone="z2", third_octet=2)
    cluster_of_z2 = admin.find_cluster(session, "c1", pod="p1", zone="z2")
    with pytest.raises(NotFound, match="cluster 'c1' is not in zone 'z1'"):
        admin.add_storage_pool(session, zone="z1", cluster=cluster_of_z2.id, name="ps1", **NFS)


def test_primary_storage_states(session):
    admin_cloud.rack(session)
    admin.add_storage_pool(session, zone="z1", name="ps1", **NFS)

    def change(what):
        return admin.change_storage_pool_state(session, "ps1", what, zone="z1").state

    assert change("disable") == StoragePoolState.DISABLED
    assert change("disable") == StoragePoolState.DISABLED
    assert change("enable") == StoragePoolState.UP
    assert change("maintenance") == StoragePoolState.MAINTENANCE
    with pytest.raises(Conflict, match="primary storage pool 'ps1' is maintenance: it cannot enable now; possible: "
                                       "cancel-maintenance"):
        change("enable")
    assert change("cancel-maintenance") == StoragePoolState.UP
    with pytest.raises(Conflict, match="it cannot cancel-maintenance now"):
        change("cancel-maintenance")
    with pytest.raises(InvalidRequest, match="storage pool state change 'explode' is not one of"):
        change("explode")
    actions = [event.action for event in admin.list_events(session, resource="storage_pool")]
    assert actions == ["storage_pool.cancel_maintenance", "storage_pool.maintenance", "storage_pool.enable",
                       "storage_pool.disable", "storage_pool.add"]


def test_primary_storage_in_use_stays(session):
    zone, _pod, _cluster = admin_cloud.rack(session)
    pool = admin.add_storage_pool(session, zone="z1", name="ps1", **NFS)
    VolumeFactory(session=session, storage_pool_id=pool.id, zone_id=zone.id)
    VirtualMachineFactory(session=session, storage_pool_id=pool.id)
    with pytest.raises(Conflict, match="primary storage pool 'ps1' still has 1 volume and 1 virtual machine root "
                                       "disk; remove them first"):
        admin.remove_storage_pool(session, "ps1", zone="z1")


def test_free_primary_storage_is_removed(session):
    admin_cloud.rack(session)
    pool = admin.add_storage_pool(session, zone="z1", name="ps1", **NFS)
    admin.remove_storage_pool(session, pool.id)
    assert admin.list_storage_pools(session) == []


# --- secondary storage ----------------------------------------------------------------------------------

def test_secondary_storage_is_added_enabled_and_disabled(session):
    admin.create_zone(session, name="z1")
    store = admin.add_secondary_storage(session, zone="z1", name="ss1", url="nfs://10.0.0.5/export/secondary",
                                        capacity_gib=2000)
    assert (store.url, store.capacity_gib, store.used_gib, store.enabled) == \
        ("nfs://10.0.0.5/export/secondary", 2000.0, 0.0, True)
    assert admin.disable_secondary_storage(session, "ss1", zone="z1").enabled is False
    assert admin.enable_secondary_storage(session, store.id).enabled is True
    with pytest.raises(Conflict, match="a secondary storage named 'ss1' already exists in zone 'z1'"):
        admin.add_secondary_storage(session, zone="z1", name="ss1", url="nfs://a/b", capacity_gib=1)


@pytest.mark.parametrize("url, message", [
    ("http://10.0.0.5/export", "is not NFS"),
    ("nfs:///export", "names no server"),
    ("nfs://user:pw@server/export", "names no server"),
    ("nfs://server", "names no export path"),
    ("nfs://server/", "names no export path"),
    ("nfs://bad_host!/x", "is neither an IP address nor a host name"),
    (42, "must be an NFS URL"),
])
def test_bad_secondary_storage_urls(session, url, message):
    admin.create_zone(session, name="z1")
    with pytest.raises(InvalidRequest, match=message):
        admin.add_secondary_storage(session, zone="z1", name="ss1", url=url, capacity_gib=10)


def test_secondary_storage_holding_templates_stays(session):
    admin.create_zone(session, name="z1")
    store = admin.add_secondary_storage(session, zone="z1", name="ss1", url="nfs://s/e", capacity_gib=10)
    copy = TemplateCopyFactory(session=session, zone_id=store.zone_id, secondary_storage_id=store.id)
    with pytest.raises(Conflict, match="secondary storage 'ss1' still has 1 template"):
        admin.remove_secondary_storage(session, "ss1", zone="z1")
    session.delete(copy)
    session.flush()
    admin.remove_secondary_storage(session, "ss1", zone="z1")
    assert admin.list_secondary_storage(session) == []


# --- updates ----------------------------------------------------------------------------------------

def test_a_pool_keeps_room_for_what_is_allocated_on_it(session):
    admin_cloud.rack(session)
    pool = admin.add_storage_pool(session, zone="z1", name="ps1", **NFS)
    pool.used_gib = 600
    session.flush()
    with pytest.raises(Conflict, match="primary storage pool 'ps1' has 600 GiB allocated: its capacity times its "
                                       "overprovisioning factor would be 500 GiB"):
        update_storage_pool(session, pool.id, capacity_gib=500)
    assert update_storage_pool(session, pool.id, capacity_gib=500, overprovisioning=2).capacity_gib == 500


def test_a_secondary_storage_keeps_its_url_and_room_while_it_holds_templates(session):
    admin.create_zone(session, name="z1")
    store = admin.add_secondary_storage(session, zone="z1", name="ss1", url="nfs://s/e", capacity_gib=10)
    copy = TemplateCopyFactory(session=session, zone_id=store.zone_id, secondary_storage_id=store.id)
    with pytest.raises(Conflict, match="secondary storage 'ss1' keeps its URL nfs://s/e: 1 template is kept there"):
        update_secondary_storage(session, "ss1", zone="z1", url="nfs://t/e")
    store.used_gib = 8
    session.flush()
    with pytest.raises(Conflict, match="secondary storage 'ss1' holds 8 GiB: its capacity cannot be 5 GiB"):
        update_secondary_storage(session, "ss1", zone="z1", capacity_gib=5)
    session.delete(copy)
    session.flush()
    assert update_secondary_storage(session, "ss1", zone="z1", url="nfs://t/e").url == "nfs://t/e"
