"""Admin views of any project's resources: GET and DELETE /admin/resources/{kind}/{entity_id},
with the tenants' rules for deletes (plane/tenant/admin_deletes.py)."""

from __future__ import annotations

from occistack.plane.tenant.admin_deletes import delete_resource, describe_resource
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import add_method_not_allowed, json_response

ROUTE = "admin_resources_item"


def _target(request) -> tuple[str, str]:
    return request.matchdict["kind"], request.matchdict["entity_id"]


def show_resource(request):
    return json_response(describe_resource(request.plane, *_target(request)))


def remove_resource(request):
    """200 at once, in every state of the resource; the teardown runs after."""
    delete_resource(request.plane, *_target(request))
    return json_response(describe_resource(request.plane, *_target(request)))


def includeme(config) -> None:
    config.add_view(show_resource, route_name=ROUTE, request_method="GET", permission=ADMIN)
    config.add_view(remove_resource, route_name=ROUTE, request_method="DELETE", permission=ADMIN)
    add_method_not_allowed(config, ROUTE, ["GET", "DELETE"])
