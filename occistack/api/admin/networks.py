"""Admin views of a zone's networks: physical networks with their VLAN ranges, and IP ranges."""

from __future__ import annotations

from occistack.plane.admin.cases import networks
from occistack.plane.admin.cases.networks import (
    IpRangeChanges,
    IpRangeFilter,
    NewIpRange,
    NewPhysicalNetwork,
    NewVlanRange,
    PhysicalNetworkChanges,
)
from occistack.plane.admin.records.networks import IpRangeRecord, PhysicalNetworkRecord, VlanRangeRecord
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import (
    AdminResource,
    add_method_not_allowed,
    add_resource_views,
    body_as,
    by_id,
    changes_as,
    fields,
    json_response,
    path_id,
    query_ref,
    record_json,
)

PHYSICAL_NETWORK_FIELDS = fields("zone:ref!", "name!", "traffic_types:texts", "isolation", "bridge",
                                 "vlan_ranges:vlan_ranges")
PHYSICAL_NETWORK_CHANGES = fields("name", "traffic_types:texts", "bridge?")
VLAN_RANGE_FIELDS = fields("first:integer!", "last:integer!")
IP_RANGE_FIELDS = fields("zone:ref", "pod:ref", "purpose!", "first!", "last!", "gateway", "prefix_length:integer",
                         "vlan:integer")
IP_RANGE_CHANGES = fields("first", "last", "vlan:integer?")


def physical_network_json(network: PhysicalNetworkRecord) -> dict:
    return record_json(network, traffic_types=list(network.traffic_types),
                       vlan_ranges=[vlan_range_json(vlan_range) for vlan_range in network.vlan_ranges])


def vlan_range_json(vlan_range: VlanRangeRecord) -> dict:
    return record_json(vlan_range, size=vlan_range.size)


def ip_range_json(ip_range: IpRangeRecord) -> dict:
    return record_json(ip_range, size=ip_range.size)


RESOURCES = (
    AdminResource(
        "physical-networks", "physical network", by_id(networks.show_physical_network),
        list_records=lambda request: networks.list_physical_networks(request.plane, query_ref(request, "zone")),
        create=lambda request: networks.add_physical_network(
            request.plane, body_as(request, PHYSICAL_NETWORK_FIELDS, NewPhysicalNetwork)),
        remove=by_id(networks.remove_physical_network),
        update=lambda request, network_id: networks.update_physical_network(
            request.plane, network_id, changes_as(request, PHYSICAL_NETWORK_CHANGES, PhysicalNetworkChanges)),
        render=physical_network_json,
    ),
    AdminResource(
        "ip-ranges", "IP range", by_id(networks.show_ip_range),
        list_records=lambda request: networks.list_ip_ranges(request.plane, IpRangeFilter(
            zone=query_ref(request, "zone"), purpose=request.params.get("purpose"), pod=query_ref(request, "pod"))),
        create=lambda request: networks.add_ip_range(request.plane, body_as(request, IP_RANGE_FIELDS, NewIpRange)),
        remove=by_id(networks.remove_ip_range),
        update=lambda request, range_id: networks.update_ip_range(request.plane, range_id,
                                                                  changes_as(request, IP_RANGE_CHANGES, IpRangeChanges)),
        render=ip_range_json,
    ),
)


# --- the VLAN ranges of one physical network ----------------------------------------------------------

def list_vlan_ranges(request):
    ranges = networks.list_vlan_ranges(request.plane, path_id(request))
    return json_response([vlan_range_json(vlan_range) for vlan_range in ranges])


def add_vlan_range(request):
    vlan_range = networks.add_vlan_range(request.plane, path_id(request),
                                         body_as(request, VLAN_RANGE_FIELDS, NewVlanRange))
    location = request.route_url("admin_vlan_ranges_item", id=path_id(request), range_id=vlan_range.id)
    return json_response(vlan_range_json(vlan_range), 201, location)


def show_vlan_range(request):
    return json_response(vlan_range_json(networks.find_vlan_range(request.plane, path_id(request),
                                                                  path_id(request, "range_id"))))


def remove_vlan_range(request):
    removed = networks.remove_vlan_range(request.plane, path_id(request), path_id(request, "range_id"))
    return json_response({"removed": {"type": "VLAN range", "id": removed.id}})


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
