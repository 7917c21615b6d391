"""Admin views of the cloud's skeleton: regions, zones, pods and clusters."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from occistack.model import Cluster, Pod, Region, Zone
from occistack.model.occi import infrastructure as infra
from occistack.plane.admin.cases import inventory
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.inventory import ClusterFilter, NewCluster, NewPod, NewRegion, NewZone
from occistack.plane.admin.public_networks import zone_public_network
from occistack.api.occi.paths import location_of
from occistack.api.admin.support import AdminResource, add_resource_views, body_as, by_id, fields, query_ref, row_json

REGION_FIELDS = fields("name!", "title")
ZONE_FIELDS = fields("name!", "title", "network_type", "guest_cidr", "dns:texts", "region:ref", "enabled:boolean")
POD_FIELDS = fields("zone:ref!", "name!", "cidr!", "gateway!", "management_first", "management_last")
CLUSTER_FIELDS = fields("zone:ref", "pod:ref!", "name!", "hypervisor")


def _enabling(act_on):
    """The actions of a row that is only switched on and off."""
    return {action.value: by_id(act_on, action) for action in Switch}


def _zone_json(zone: Zone) -> dict:
    # Read in the row's own session: a rendering has no request (see AdminResource.render).
    network = zone_public_network(object_session(zone), zone.id)
    return row_json(zone, public_network=location_of(infra.NETWORK, network.id) if network is not None else None)


def _create_public_network(request, zone_id: int) -> Zone:
    """Give a zone whose public ranges predate its public network one (a new range brings it)."""
    inventory.add_zone_public_network(request.plane, zone_id)
    return inventory.show_zone(request.plane, zone_id)


RESOURCES = (
    AdminResource(
        "regions", Region, "region",
        list_rows=lambda request: inventory.list_regions(request.plane),
        create=lambda request: inventory.add_region(request.plane, body_as(request, REGION_FIELDS, NewRegion)),
        remove=by_id(inventory.remove_region),
    ),
    AdminResource(
        "zones", Zone, "zone",
        list_rows=lambda request: inventory.list_zones(request.plane),
        create=lambda request: inventory.add_zone(request.plane, body_as(request, ZONE_FIELDS, NewZone)),
        remove=by_id(inventory.remove_zone),
        actions={**_enabling(inventory.act_on_zone), "public-network": _create_public_network},
        render=_zone_json,
    ),
    AdminResource(
        "pods", Pod, "pod",
        list_rows=lambda request: inventory.list_pods(request.plane, query_ref(request, "zone")),
        create=lambda request: inventory.add_pod(request.plane, body_as(request, POD_FIELDS, NewPod)),
        remove=by_id(inventory.remove_pod),
        actions=_enabling(inventory.act_on_pod),
    ),
    AdminResource(
        "clusters", Cluster, "cluster",
        list_rows=lambda request: inventory.list_clusters(
            request.plane, ClusterFilter(zone=query_ref(request, "zone"), pod=query_ref(request, "pod"))),
        create=lambda request: inventory.add_cluster(request.plane, body_as(request, CLUSTER_FIELDS, NewCluster)),
        remove=by_id(inventory.remove_cluster),
        actions=_enabling(inventory.act_on_cluster),
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
