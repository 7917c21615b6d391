"""Admin views of snapshot policies, of every project: ``POST /admin/snapshot-policies`` with
``{"volume": <storage id>}`` or ``{"compute": <compute id>}``, ``"interval"`` (hourly, daily,
weekly, monthly), ``"retention"`` and optionally ``"minute"``, ``"hour"``, ``"day"`` (UTC) adds one;
``GET /admin/snapshot-policies[?project=&volume=&compute=]`` lists them; ``PATCH`` changes the
schedule or the retention; ``DELETE`` removes the policy (its snapshots stay)."""

from __future__ import annotations

from occistack.api.admin.support import AdminResource, add_resource_views, fields, query_int, read_body, read_changes
from occistack.plane.admin.cases import snapshot_policies as policies
from occistack.plane.admin.cases.snapshot_policies import PolicyChange, PolicyRequest

CREATE_FIELDS = fields("volume", "compute", "interval!", "retention:integer!", "minute:integer", "hour:integer",
                       "day:integer")
CHANGE_FIELDS = fields("interval", "retention:integer", "minute:integer", "hour:integer", "day:integer")


def _create(request) -> policies.PolicyRecord:
    body = read_body(request, CREATE_FIELDS)
    return policies.create_policy(request.plane, PolicyRequest(
        volume_id=body.get("volume"), compute_id=body.get("compute"), interval=body["interval"],
        retention=body["retention"], minute=body.get("minute", 0), hour=body.get("hour", 0), day=body.get("day")))


def _update(request, policy_id: int) -> policies.PolicyRecord:
    policies.show_policy(request.plane, policy_id)  # 404 before the body is read
    return policies.update_policy(request.plane, policy_id, PolicyChange(**read_changes(request, CHANGE_FIELDS)))


def _list(request) -> list[policies.PolicyRecord]:
    return policies.list_policies(request.plane, volume_id=request.params.get("volume"),
                                  compute_id=request.params.get("compute"), project_id=query_int(request, "project"))


RESOURCE = AdminResource(
    "snapshot-policies", "snapshot policy",
    lambda request, policy_id: policies.show_policy(request.plane, policy_id),
    list_records=_list,
    create=_create,
    update=_update,
    remove=lambda request, policy_id: policies.delete_policy(request.plane, policy_id),
)


def includeme(config) -> None:
    add_resource_views(config, RESOURCE)
