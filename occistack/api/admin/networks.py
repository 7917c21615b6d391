"""Admin views of a zone's networks: physical networks with their VLAN ranges, and IP ranges."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from occistack.model import IpRange, PhysicalNetwork, VlanRange
from occistack.plane import admin
from occistack.plane.errors import NotFound
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import (
    AdminResource,
    actor,
    add_method_not_allowed,
    add_resource_views,
    by_id,
    fields,
    json_response,
    path_id,
    query_ref,
    read_body,
    row_json,
)

PHYSICAL_NETWORK_FIELDS = fields("zone:ref!", "name!", "traffic_types:texts", "isolation", "bridge",
                                 "vlan_ranges:vlan_ranges")
VLAN_RANGE_FIELDS = fields("first:integer!", "last:integer!")
IP_RANGE_FIELDS = fields("zone:ref", "pod:ref", "purpose!", "first!", "last!", "gateway", "prefix_length:integer",
                         "vlan:integer")


def physical_network_json(network: PhysicalNetwork) -> dict:
    ranges = object_session(network).scalars(select(VlanRange).where(VlanRange.physical_network_id == network.id)
                                             .order_by(VlanRange.first_vlan))
    return row_json(network, traffic_types=network.traffic_types.split(","),
                    vlan_ranges=[vlan_range_json(vlan_range) for vlan_range in ranges])


def vlan_range_json(vlan_range: VlanRange) -> dict:
    return row_json(vlan_range, size=vlan_range.last_vlan - vlan_range.first_vlan + 1)


RESOURCES = (
    AdminResource(
        "physical-networks", PhysicalNetwork, "physical network",
        list_rows=lambda request: admin.list_physical_networks(request.dbsession, zone=query_ref(request, "zone")),
        create=lambda request: admin.create_physical_network(
            request.dbsession, **read_body(request, PHYSICAL_NETWORK_FIELDS), actor=actor(request)),
        remove=by_id(admin.remove_physical_network),
        render=physical_network_json,
    ),
    AdminResource(
        "ip-ranges", IpRange, "IP range",
        list_rows=lambda request: admin.list_ip_ranges(request.dbsession, zone=query_ref(request, "zone"),
                                                       purpose=request.params.get("purpose"),
                                                       pod=query_ref(request, "pod")),
        create=lambda request: admin.add_ip_range(request.dbsession, **read_body(request, IP_RANGE_FIELDS),
                                                  actor=actor(request)),
        remove=by_id(admin.remove_ip_range),
        render=lambda ip_range: row_json(ip_range, size=ip_range.size),
    ),
)


# --- the VLAN ranges of one physical network ----------------------------------------------------------

def list_vlan_ranges(request):
    ranges = admin.list_vlan_ranges(request.dbsession, physical_network=path_id(request))
    return json_response([vlan_range_json(vlan_range) for vlan_range in ranges])


def add_vlan_range(request):
    body = read_body(request, VLAN_RANGE_FIELDS)
    vlan_range = admin.add_vlan_range(request.dbsession, physical_network=path_id(request), **body,
                                      actor=actor(request))
    location = request.route_url("admin_vlan_ranges_item", id=path_id(request), range_id=vlan_range.id)
    return json_response(vlan_range_json(vlan_range), 201, location)


def _vlan_range_of(request) -> VlanRange:
    network = admin.find_physical_network(request.dbsession, path_id(request))
    vlan_range = request.dbsession.get(VlanRange, path_id(request, "range_id"))
    if vlan_range is None or vlan_range.physical_network_id != network.id:
        raise NotFound(f"physical network {network.name!r} has no VLAN range with id {path_id(request, 'range_id')}")
    return vlan_range


def show_vlan_range(request):
    return json_response(vlan_range_json(_vlan_range_of(request)))


def remove_vlan_range(request):
    vlan_range = _vlan_range_of(request)
    admin.remove_vlan_range(request.dbsession, vlan_range.id, actor=actor(request))
    return json_response({"removed": {"type": "VLAN range", "id": vlan_range.id}})


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
    config.add_view(list_vlan_ranges, route_name="admin_vlan_ranges", request_method="GET", permission=ADMIN)
    config.add_view(add_vlan_range, route_name="admin_vlan_ranges", request_method="POST", permission=ADMIN)
    add_method_not_allowed(config, "admin_vlan_ranges", ["GET", "POST"])
    config.add_view(show_vlan_range, route_name="admin_vlan_ranges_item", request_method="GET", permission=ADMIN)
    config.add_view(remove_vlan_range, route_name="admin_vlan_ranges_item", request_method="DELETE",
                    permission=ADMIN)
    add_method_not_allowed(config, "admin_vlan_ranges_item", ["GET", "DELETE"])
