"""Admin views that read the cloud back: the event log, the capacity report, and the index of
the API (which also answers every /admin/ path that names nothing)."""

from __future__ import annotations

from occistack.plane.admin.cases import reports
from occistack.plane.admin.cases.reports import EventFilter
from occistack.plane.errors import NotFound
from occistack.api.admin.paths import ADMIN_RESOURCES
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import (
    add_method_not_allowed,
    json_response,
    query_int,
    query_ref,
    query_time,
    record_json,
)


def list_events(request):
    limit = query_int(request, "limit")
    events = reports.list_events(request.plane, EventFilter(
        since=query_time(request, "since"), project=query_ref(request, "project"),
        resource=request.params.get("resource"), action=request.params.get("action"),
        **({"limit": limit} if limit is not None else {})))
    return json_response([record_json(event) for event in events])


def capacity(request):
    return json_response(reports.capacity_report(request.plane).as_dict())


def _index_document(request) -> dict:
    return {"resources": {name: request.route_url("admin_index") + name for name in (*ADMIN_RESOURCES, "events",
                                                                                   "capacity", "settings", "alerts",
                                                                                   "usage", "vms")}}


def index(request):
    return json_response(_index_document(request))


def unknown(request):
    raise NotFound(f"nothing at {request.path}; the admin API's resources are: "
                   f"{', '.join(_index_document(request)['resources'])}")


def includeme(config) -> None:
    config.add_view(list_events, route_name="admin_events", request_method="GET", permission=ADMIN)
    add_method_not_allowed(config, "admin_events", ["GET"])
    config.add_view(capacity, route_name="admin_capacity", request_method="GET", permission=ADMIN)
    add_method_not_allowed(config, "admin_capacity", ["GET"])
    for route in ("admin_index", "admin_index_bare"):
        config.add_view(index, route_name=route, request_method="GET", permission=ADMIN)
        add_method_not_allowed(config, route, ["GET"])
    config.add_view(unknown, route_name="admin_unknown", permission=ADMIN)
