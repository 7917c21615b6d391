"""``GET /admin/usage``: the hourly usage rows, oldest hour first, a page at a time.

Filters: ``from`` and ``to`` (ISO 8601 dates or times, UTC unless they say otherwise; hours
starting in [from, to)), ``project`` (a name) or ``project_id``, ``type`` (vm_running,
vm_allocated, volume, public_ip, template), ``limit`` (1 to 10000, 1000 when absent) and
``after`` (the marker the previous page's ``next`` carries). The answer is
``{"usage": [...], "next": URL or null}``.
"""

from __future__ import annotations

from datetime import date, datetime
from operator import attrgetter

import orjson

from pyramid.response import Response

from occistack.plane.admin.cases import usage
from occistack.plane.admin.cases.usage import UsageFilter
from occistack.plane.admin.records import own_fields
from occistack.plane.admin.records.usage import UsageHourRecord
from occistack.plane.errors import InvalidRequest
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import add_method_not_allowed, query_int, query_ref

ACCEPTED_TIMES = "an ISO 8601 date or time, like 2026-12-01 or 2026-12-01T10:00:00Z"
FILTERS = ("from", "to", "project", "project_id", "type", "limit", "after")
_FIELDS = tuple(field.name for field in own_fields(UsageHourRecord)) + ("project",)


def query_moment(request, name: str) -> datetime | None:
    value = request.params.get(name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"the {name} parameter {value[:60]!r} is not {ACCEPTED_TIMES}") from None
    return datetime(day.year, day.month, day.day)


_VALUES = attrgetter(*_FIELDS)  # one C call per row for every field


def _row(record: UsageHourRecord) -> dict:
    return dict(zip(_FIELDS, _VALUES(record)))


def list_usage(request):
    unknown = sorted(set(request.params) - set(FILTERS))
    if unknown:
        raise InvalidRequest(f"unknown parameter {unknown[0]!r}; the filters are: {', '.join(FILTERS)}")
    limit = query_int(request, "limit")
    page = usage.list_usage(request.plane, UsageFilter(
        start=query_moment(request, "from"), end=query_moment(request, "to"), project=query_ref(request, "project"),
        usage_type=request.params.get("type"), after=request.params.get("after"),
        **({"limit": limit} if limit is not None else {})))
    following = None
    if page.next_after is not None:
        following = request.current_route_url(_query={**request.params, "after": page.next_after})
    # orjson writes the datetimes (ISO 8601) and floats itself: a page of 10,000 rows is the
    # common case of an export, and json.dumps took most of its time.
    body = orjson.dumps({"usage": [_row(record) for record in page.rows], "next": following})
    return Response(body=body, content_type="application/json", charset=None)


def includeme(config) -> None:
    config.add_view(list_usage, route_name="admin_usage", request_method="GET", permission=ADMIN)
    add_method_not_allowed(config, "admin_usage", ["GET"])
