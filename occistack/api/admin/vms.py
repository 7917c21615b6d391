"""Admin views of guests: any project's computes, where they run, and what an administrator may
do to one -- ``/admin/vms`` (filters ``zone``, ``host``, ``project``, ``state``),
``/admin/vms/{vm_id}``, and ``POST /admin/vms/{vm_id}/actions/{migrate|start|stop|restart}``
(migrate takes ``{"to": host}`` by name or ``{"to_id": id}``, or nothing to let placement choose,
and ``"cold": true`` to shut a running guest down and start it there rather than move it live)."""

from __future__ import annotations

from occistack.plane.tenant import admin_vms
from occistack.plane.tenant.admin_vms import LIFECYCLE_ACTIONS, VmFilter, VmMigration
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import add_method_not_allowed, fields, json_response, query_ref, read_body, record_json

COLLECTION, ITEM, ACTION = "admin_vms", "admin_vms_item", "admin_vms_action"
MIGRATE_FIELDS = fields("to:ref", "cold:boolean")
ACTIONS = ("migrate", *LIFECYCLE_ACTIONS)


def render(record) -> dict:
    return record_json(record, host_name=record.host_name, zone_name=record.zone_name,
                       project_name=record.project_name)


def list_vms(request):
    state = request.params.get("state")
    where = VmFilter(zone=query_ref(request, "zone"), host=query_ref(request, "host"),
                     project=query_ref(request, "project"), state=state)
    return json_response([render(record) for record in admin_vms.list_vms(request.plane, where)])


def show_vm(request):
    return json_response(render(admin_vms.show_vm(request.plane, request.matchdict["vm_id"])))


def act_on_vm(request):
    vm_id, action = request.matchdict["vm_id"], request.matchdict["action"]
    if action not in ACTIONS:
        raise NotFound(f"vms have no action {action!r}; their actions are: {', '.join(ACTIONS)}")
    if action == "migrate":
        body = read_body(request, MIGRATE_FIELDS) if request.body else {}
        return json_response(render(admin_vms.migrate(request.plane, vm_id, VmMigration(**body))))
    if request.body and request.body.strip() not in (b"", b"{}"):
        raise InvalidRequest(f"the {action} action takes no fields; send an empty body")
    return json_response(render(admin_vms.act_on_vm(request.plane, vm_id, action)))


def includeme(config) -> None:
    config.add_view(list_vms, route_name=COLLECTION, request_method="GET", permission=ADMIN)
    add_method_not_allowed(config, COLLECTION, ["GET"])
    config.add_view(show_vm, route_name=ITEM, request_method="GET", permission=ADMIN)
    add_method_not_allowed(config, ITEM, ["GET"])
    config.add_view(act_on_vm, route_name=ACTION, request_method="POST", permission=ADMIN)
    add_method_not_allowed(config, ACTION, ["POST"])
