"""Admin views of the cloud's skeleton: regions, zones, pods and clusters."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from occistack.model import Cluster, Pod, Region, Zone
from occistack.plane import admin
from occistack.api.admin.support import AdminResource, actor, add_resource_views, by_id, fields, query_ref, read_body, row_json

REGION_FIELDS = fields("name!", "title")
ZONE_FIELDS = fields("name!", "title", "network_type", "guest_cidr", "dns:texts", "region:ref", "enabled:boolean")
POD_FIELDS = fields("zone:ref!", "name!", "cidr!", "gateway!", "management_first", "management_last")
CLUSTER_FIELDS = fields("zone:ref", "pod:ref!", "name!", "hypervisor")


def _enabling(enable, disable):
    """The actions of a row that is only switched on and off."""
    return {"enable": by_id(enable), "disable": by_id(disable)}


def _zone_json(zone: Zone) -> dict:
    network = admin.zone_public_network(object_session(zone), zone.id)
    return row_json(zone, public_network=f"/network/{network.id}" if network is not None else None)


def _create_public_network(request, zone_id: int) -> Zone:
    """Give a zone whose public ranges predate its public network one (a new range brings it)."""
    admin.create_public_network(request.dbsession, zone_id, actor=actor(request))
    return admin.find_zone(request.dbsession, zone_id)


RESOURCES = (
    AdminResource(
        "regions", Region, "region",
        list_rows=lambda request: admin.list_regions(request.dbsession),
        create=lambda request: admin.create_region(request.dbsession, **read_body(request, REGION_FIELDS),
                                                   actor=actor(request)),
        remove=by_id(admin.remove_region),
    ),
    AdminResource(
        "zones", Zone, "zone",
        list_rows=lambda request: admin.list_zones(request.dbsession),
        create=lambda request: admin.create_zone(request.dbsession, **read_body(request, ZONE_FIELDS),
                                                 actor=actor(request)),
        remove=by_id(admin.remove_zone),
        actions={**_enabling(admin.enable_zone, admin.disable_zone), "public-network": _create_public_network},
        render=_zone_json,
    ),
    AdminResource(
        "pods", Pod, "pod",
        list_rows=lambda request: admin.list_pods(request.dbsession, zone=query_ref(request, "zone")),
        create=lambda request: admin.create_pod(request.dbsession, **read_body(request, POD_FIELDS),
                                                actor=actor(request)),
        remove=by_id(admin.remove_pod),
        actions=_enabling(admin.enable_pod, admin.disable_pod),
    ),
    AdminResource(
        "clusters", Cluster, "cluster",
        list_rows=lambda request: admin.list_clusters(request.dbsession, zone=query_ref(request, "zone"),
                                                      pod=query_ref(request, "pod")),
        create=lambda request: admin.create_cluster(request.dbsession, **read_body(request, CLUSTER_FIELDS),
                                                    actor=actor(request)),
        remove=by_id(admin.remove_cluster),
        actions=_enabling(admin.enable_cluster, admin.disable_cluster),
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
