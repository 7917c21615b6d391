"""Admin views of the cloud's skeleton: regions, zones, pods and clusters."""

from __future__ import annotations

from occistack.model.occi import infrastructure as infra
from occistack.plane.admin.cases import inventory
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.inventory import (
    ClusterChanges,
    ClusterFilter,
    NewCluster,
    NewPod,
    NewRegion,
    NewZone,
    PodChanges,
    RegionChanges,
    ZoneChanges,
)
from occistack.plane.admin.records.inventory import ZoneRecord
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    changes_as,
    fields,
    query_ref,
    record_json,
)

REGION_FIELDS = fields("name!", "title")
REGION_CHANGES = fields("title?")
ZONE_FIELDS = fields("name!", "title", "network_type", "guest_cidr", "dns:texts", "region:ref", "enabled:boolean")
ZONE_CHANGES = fields("title?", "guest_cidr?", "dns:texts?", "region:ref?")
POD_FIELDS = fields("zone:ref!", "name!", "cidr!", "gateway!", "management_first", "management_last")
POD_CHANGES = fields("name", "cidr", "gateway")
CLUSTER_FIELDS = fields("zone:ref", "pod:ref!", "name!", "hypervisor")
CLUSTER_CHANGES = fields("name", "hypervisor")


def _enabling(act_on):
    """The actions of a row that is only switched on and off."""
    return {action.value: by_id(act_on, action) for action in Switch}


def _zone_json(zone: ZoneRecord) -> dict:
    network = zone.public_network_id
    return record_json(zone, public_network=infra.NETWORK.location_of(network) if network is not None else None)


RESOURCES = (
    AdminResource(
        "regions", "region", by_id(inventory.show_region),
        list_records=lambda request: inventory.list_regions(request.plane),
        create=lambda request: inventory.add_region(request.plane, body_as(request, REGION_FIELDS, NewRegion)),
        remove=by_id(inventory.remove_region),
        update=lambda request, region_id: inventory.update_region(request.plane, region_id,
                                                                  changes_as(request, REGION_CHANGES, RegionChanges)),
    ),
    AdminResource(
        "zones", "zone", by_id(inventory.show_zone),
        list_records=lambda request: inventory.list_zones(request.plane),
        create=lambda request: inventory.add_zone(request.plane, body_as(request, ZONE_FIELDS, NewZone)),
        remove=by_id(inventory.remove_zone),
        update=lambda request, zone_id: inventory.update_zone(request.plane, zone_id,
                                                              changes_as(request, ZONE_CHANGES, ZoneChanges)),
        # A zone whose public ranges predate its public network gets one (a new range brings it).
        actions={**_enabling(inventory.act_on_zone), "public-network": by_id(inventory.add_zone_public_network)},
        render=_zone_json,
    ),
    AdminResource(
        "pods", "pod", by_id(inventory.show_pod),
        list_records=lambda request: inventory.list_pods(request.plane, query_ref(request, "zone")),
        create=lambda request: inventory.add_pod(request.plane, body_as(request, POD_FIELDS, NewPod)),
        remove=by_id(inventory.remove_pod),
        update=lambda request, pod_id: inventory.update_pod(request.plane, pod_id,
                                                            changes_as(request, POD_CHANGES, PodChanges)),
        actions=_enabling(inventory.act_on_pod),
    ),
    AdminResource(
        "clusters", "cluster", by_id(inventory.show_cluster),
        list_records=lambda request: inventory.list_clusters(
            request.plane, ClusterFilter(zone=query_ref(request, "zone"), pod=query_ref(request, "pod"))),
        create=lambda request: inventory.add_cluster(request.plane, body_as(request, CLUSTER_FIELDS, NewCluster)),
        remove=by_id(inventory.remove_cluster),
        update=lambda request, cluster_id: inventory.update_cluster(
            request.plane, cluster_id, changes_as(request, CLUSTER_CHANGES, ClusterChanges)),
        actions=_enabling(inventory.act_on_cluster),
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
