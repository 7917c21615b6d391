"""Admin views of the resource limits of accounts and domains (over all their projects): POST
/admin/limits {"account" or "domain", "resource", "limit"} sets one (201, or 200 when it replaces
one), GET lists and shows them with what their projects hold, DELETE clears one."""

from __future__ import annotations

from occistack.plane.admin.cases import limits
from occistack.plane.admin.cases.limits import NewTenancyLimit, TenancyLimitFilter
from occistack.plane.admin.records.users import LimitRecord
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    fields,
    json_response,
    query_ref,
    record_json,
)

LIMIT_FIELDS = fields("resource!", "limit:number!", "domain:ref", "account:ref")


def _limit_json(limit: LimitRecord) -> dict:
    return record_json(limit, owner=limit.owner, used=limit.used)


def _set_limit(request):
    result = limits.set_limit(request.plane, body_as(request, LIMIT_FIELDS, NewTenancyLimit))
    if not result.created:
        return json_response(_limit_json(result.limit))
    return json_response(_limit_json(result.limit), 201, request.route_url("admin_limits_item", id=result.limit.id))


RESOURCES = (
    AdminResource(
        "limits", "limit", by_id(limits.show_limit),
        list_records=lambda request: limits.list_limits(request.plane, TenancyLimitFilter(
            domain=query_ref(request, "domain"), account=query_ref(request, "account"))),
        create=_set_limit,
        remove=by_id(limits.clear_limit),
        render=_limit_json,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
