"""What every admin view shares: reading and checking a JSON body, reading query filters,
rendering the plane's records as JSON, and registering the views of one resource.

Bodies are checked here for shape (which fields, of which JSON type, numbers within what the
database's columns hold, text without NUL); what the values mean (a CIDR, a VLAN id in range,
a name not taken) is the use cases' business, and their refusals become 400, 404 and 409 in the
shared error views. Ids in paths, bodies and filters are whole numbers from 1 to 2^63 - 1.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence, TypeVar

from pyramid.response import Response

from occistack.plane.admin.records import own_fields
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.api.admin.paths import admin_route_name
from occistack.api.errors import not_allowed
from occistack.api.admin.context import ADMIN

T = TypeVar("T")

#: The ids of rows: what a 64-bit key holds.
LARGEST_ID = 2 ** 63 - 1
#: Whole numbers and numbers in bodies (counts, sizes, factors, limits): what an INTEGER column
#: holds, and far beyond any real one.
LARGEST_NUMBER = 2 ** 31 - 1
_ID_RANGE = f"a whole number from 1 to {LARGEST_ID}"

#: kind → what it accepts, in the words of a 400 answer.
_ACCEPTED = {
    "text": "text",
    "integer": f"a whole number from {-LARGEST_NUMBER - 1} to {LARGEST_NUMBER}",
    "number": f"a number from {-LARGEST_NUMBER - 1} to {LARGEST_NUMBER}",
    "boolean": "true or false",
    "scalar": "a number, or text holding one",
    "ref": f"a name (text) or an id ({_ID_RANGE})",
    "texts": "a list of texts, or comma-separated text",
    "object": "a JSON object",
    "vlan_ranges": 'a list of ranges, each "FIRST-LAST" text or a [first, last] pair',
}


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a JSON body; ``kind`` is a key of ``_ACCEPTED``. A ``ref`` field named
    ``zone`` also accepts ``zone_id`` (the form the answers use). ``clearable``: an update may
    set it to null."""

    name: str
    kind: str = "text"
    required: bool = False
    clearable: bool = False


def fields(*specs: str) -> tuple[Field, ...]:
    """``fields("name!", "title?", "cores:integer!")``: a trailing "!" marks a required field,
    a trailing "?" one an update may clear with null."""
    parsed = []
    for spec in specs:
        required, clearable = spec.endswith("!"), spec.endswith("?")
        name, _, kind = spec.rstrip("!?").partition(":")
        parsed.append(Field(name, kind or "text", required, clearable))
    return tuple(parsed)


def read_body(request, accepted: Sequence[Field]) -> dict[str, Any]:
    """The body's fields as keyword arguments of a use case; 400 naming the field that is
    missing, unknown or of the wrong type."""
    return _read_fields(_json_object(request), accepted)


def read_changes(request, accepted: Sequence[Field]) -> dict[str, Any]:
    """A PATCH body: the fields to change, each as :func:`read_body` reads it; null clears a
    clearable field and is refused for the others; a body that changes nothing is refused."""
    document = _json_object(request)
    names = ", ".join(field.name for field in accepted)
    if not document:
        raise InvalidRequest(f"send a JSON object of the fields to change; the fields that may change are: {names}")
    known = {field.name: field for field in accepted}
    known.update({f"{field.name}_id": field for field in accepted if field.kind == "ref"})
    cleared = {}
    for key, value in document.items():
        field = known.get(key)
        if field is None:
            raise InvalidRequest(f"field {key!r} cannot be changed (or is unknown); the fields that may change "
                                 f"are: {names}")
        if value is None:
            if not field.clearable:
                raise InvalidRequest(f"field {key!r} cannot be cleared: give {_ACCEPTED[field.kind]}")
            cleared[field.name] = None
    return {**_read_fields(document, accepted), **cleared}


def _read_fields(document: Mapping[str, Any], accepted: Sequence[Field]) -> dict[str, Any]:
    known = {field.name: field for field in accepted}
    aliases = {f"{field.name}_id": field for field in accepted if field.kind == "ref"}
    values: dict[str, Any] = {}
    for key, value in document.items():
        field = known.get(key) or aliases.get(key)
        if field is None:
            raise InvalidRequest(f"unknown field {key!r}; the accepted fields are: {', '.join(known)}")
        if value is None:
            continue
        if field.name in values:
            raise InvalidRequest(f"give {field.name!r} or {field.name + '_id'!r}, not both")
        if key != field.name and not _is_id(value):
            raise InvalidRequest(f"field {key!r} must be an id ({_ID_RANGE}); got {_shown(value)}")
        values[field.name] = _checked(field, key, value)
    for field in accepted:
        if field.required and field.name not in values:
            raise InvalidRequest(f"missing field {field.name!r}: {_ACCEPTED[field.kind]}")
    return values


def _json_object(request) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        document = json.loads(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRequest("the body is not UTF-8 text; send a JSON object") from None
    except ValueError as error:
        raise InvalidRequest(f"the body is not JSON ({error}); send a JSON object") from None
    except RecursionError:
        raise InvalidRequest("the body's JSON nests too deeply; send a JSON object of fields") from None
    if not isinstance(document, dict):
        raise InvalidRequest(f"the body must be a JSON object of fields; got a JSON {type(document).__name__}")
    return document


def _checked(field: Field, key: str, value: Any) -> Any:
    kind = field.kind
    _refuse_unstorable_text(key, value)
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "integer" and _is_whole(value) and _in_range(value):
        return int(value)
    if kind == "number" and _is_number(value) and _in_range(value):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "scalar" and (isinstance(value, str) or _is_number(value)):
        return value  # what it must hold is the use case's to say (a setting's range)
    if kind == "ref" and (isinstance(value, str) or _is_id(value)):
        return int(value) if not isinstance(value, str) else value
    if kind == "texts":
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
    if kind == "object" and isinstance(value, dict):
        return value
    if kind == "vlan_ranges" and isinstance(value, list) and all(_is_vlan_range(item) for item in value):
        return [item if isinstance(item, str) else tuple(item) for item in value]
    raise InvalidRequest(f"field {key!r} must be {_ACCEPTED[kind]}; got {_shown(value)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


def _in_range(value: int | float) -> bool:
    return -LARGEST_NUMBER - 1 <= value <= LARGEST_NUMBER


def _is_id(value: Any) -> bool:
    return _is_whole(value) and 1 <= value <= LARGEST_ID


def _is_vlan_range(item: Any) -> bool:
    return isinstance(item, str) or (isinstance(item, list) and len(item) == 2
                                     and all(_is_whole(end) and _in_range(end) for end in item))


def _refuse_unstorable_text(key: str, value: Any) -> None:
    """NUL characters and lone surrogates parse as JSON, but no column holds them."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidRequest(f"field {key!r} contains a NUL character (\\u0000), which no field may hold")
            try:
                item.encode()
            except UnicodeEncodeError:
                raise InvalidRequest(f"field {key!r} contains a lone UTF-16 surrogate escape; send whole characters") \
                    from None
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- query filters -----------------------------------------------------------------------------------

def query_ref(request, name: str) -> int | str | None:
    """A filter naming a row: ``?zone=z1`` by name or ``?zone_id=3`` by id."""
    by_name, by_id = request.params.get(name), request.params.get(f"{name}_id")
    if by_name is not None and by_id is not None:
        raise InvalidRequest(f"filter by {name!r} or by {name + '_id'!r}, not both")
    if by_id is not None:
        if not _is_decimal_id(by_id):
            raise InvalidRequest(f"the {name}_id filter must be an id ({_ID_RANGE}); got {_shown(by_id)}")
        return int(by_id)
    return by_name or None


def query_int(request, name: str) -> int | None:
    value = request.params.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= LARGEST_NUMBER):
        raise InvalidRequest(f"the {name} parameter must be a whole number from 0 to {LARGEST_NUMBER}; "
                             f"got {_shown(value)}")
    return int(value)


def _is_decimal_id(text: str) -> bool:
    # isascii: str.isdigit also holds for other scripts' digits (and "²"), which int() reads or refuses.
    return text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= LARGEST_ID


def query_time(request, name: str) -> datetime | None:
    value = request.params.get(name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"the {name} parameter {value!r} is not an ISO 8601 time "
                             "(like 2026-12-01T10:00:00Z)") from None


# --- answers -----------------------------------------------------------------------------------------

def record_json(record, **extra: Any) -> dict[str, Any]:
    """A record's own fields (its row's columns) with JSON-able values, then ``extra`` (which
    may also replace a field's value where it stands)."""
    document = {field.name: _plain(getattr(record, field.name)) for field in own_fields(record)}
    document.update(extra)
    return document


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # a StrEnum becomes its value
    return value


def json_response(document: Any, status: int = 200, location: str | None = None) -> Response:
    response = Response(json_body=document, status=status)
    if location is not None:
        response.headers["Location"] = location
    return response


def by_id(use_case, *arguments: Any):
    """A view step that runs ``use_case(request.plane, <the id in the path>, *arguments)``."""
    return lambda request, row_id: use_case(request.plane, row_id, *arguments)


def body_as(request, accepted: Sequence[Field], request_type: Callable[..., T]) -> T:
    """The body's fields (see :func:`read_body`) as a use case's request dataclass."""
    return request_type(**read_body(request, accepted))


def changes_as(request, accepted: Sequence[Field], changes_type: Callable[..., T]) -> T:
    """A PATCH body (see :func:`read_changes`) as a use case's ``...Changes`` dataclass."""
    return changes_type(**read_changes(request, accepted))


def path_id(request, name: str = "id") -> int:
    """The id in the path (the route matched digits); 400 beyond what an id can be."""
    text = request.matchdict[name]
    if not _is_decimal_id(text):
        raise InvalidRequest(f"{_shown(text)} is no id: ids are whole numbers from 1 to {LARGEST_ID}")
    return int(text)


# --- registering a resource's views ---------------------------------------------------------------------

@dataclass(frozen=True)
class AdminResource:
    """The views of one admin resource: /admin/<name>, /admin/<name>/{id} and, with actions,
    /admin/<name>/{id}/actions/{action}. Each callable takes the request (and the id) and
    returns what the plane's operation gave: a record (or a list of them) for ``render``;
    ``create`` returns the new record, or the record and a dict of fields to show this once,
    or a whole response; ``update`` (PATCH) returns the record as changed."""

    name: str
    what: str
    show: Callable[[Any, int], Any]
    list_records: Callable[[Any], list] | None = None
    create: Callable[[Any], Any] | None = None
    remove: Callable[[Any, int], None] | None = None
    update: Callable[[Any, int], Any] | None = None
    actions: Mapping[str, Callable[[Any, int], Any]] | None = None
    render: Callable[[Any], dict[str, Any]] = record_json

    def location(self, request, row_id: int) -> str:
        return request.route_url(admin_route_name(self.name, "item"), id=row_id)


def add_resource_views(config, resource: AdminResource) -> None:
    collection, item, action = (admin_route_name(resource.name, part) for part in ("", "item", "action"))
    collection_methods, item_methods = [], ["GET"]

    def show(request):
        return json_response(resource.render(resource.show(request, path_id(request))))

    config.add_view(show, route_name=item, request_method="GET", permission=ADMIN)
    if resource.list_records is not None:
        collection_methods.append("GET")

        def list_all(request):
            return json_response([resource.render(record) for record in resource.list_records(request)])

        config.add_view(list_all, route_name=collection, request_method="GET", permission=ADMIN)
    if resource.create is not None:
        collection_methods.append("POST")

        def create(request):
            created = resource.create(request)
            if isinstance(created, Response):
                return created  # a create that may also replace (a quota) answers for itself
            # A use case may hand back something to show only once (a host's agent token).
            record, shown_once = created if isinstance(created, tuple) else (created, {})
            return json_response({**resource.render(record), **shown_once}, 201, resource.location(request, record.id))

        config.add_view(create, route_name=collection, request_method="POST", permission=ADMIN)
    if resource.update is not None:
        item_methods.append("PATCH")

        def update(request):
            return json_response(resource.render(resource.update(request, path_id(request))))

        config.add_view(update, route_name=item, request_method="PATCH", permission=ADMIN)
    if resource.remove is not None:
        item_methods.append("DELETE")

        def remove(request):
            resource.remove(request, path_id(request))
            return json_response({"removed": {"type": resource.what, "id": path_id(request)}})

        config.add_view(remove, route_name=item, request_method="DELETE", permission=ADMIN)
    if resource.actions:
        add_action_views(config, action, resource)
    add_method_not_allowed(config, collection, collection_methods)
    add_method_not_allowed(config, item, item_methods)


def add_action_views(config, route: str, resource: AdminResource) -> None:
    def act(request):
        name = request.matchdict["action"]
        handler = resource.actions.get(name)
        if handler is None:
            raise NotFound(f"{resource.name} have no action {name!r}; their actions are: {', '.join(resource.actions)}")
        return json_response(resource.render(handler(request, path_id(request))))

    config.add_view(act, route_name=route, request_method="POST", permission=ADMIN)
    add_method_not_allowed(config, route, ["POST"])


def add_method_not_allowed(config, route: str, allowed: Sequence[str]) -> None:
    """The last view of a route: any other method is 405 with the methods that work."""
    config.add_view(lambda request: not_allowed(request, allowed), route_name=route, permission=ADMIN)
