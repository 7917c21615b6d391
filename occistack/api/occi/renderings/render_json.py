"""The JSON rendering out (GFD.225): application/occi+json, and application/json alike.

Every document validates against the GFD.225 schema (tests/data/occi-1.2-json-schema.json):
occi.core.id/title/summary are members of the entity rather than attributes, a link's source
and target are ``{"location", "kind"}`` objects, and members with no value are left out.
"""

from __future__ import annotations

import json
import math

import orjson
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from occistack.model.occi import Action, AttributeDef, Category, Kind, Mixin
from occistack.api.occi.renderings.ir import LinkOut, ResourceOut
from occistack.api.occi.renderings.render import NotRenderable, Rendered, Renderer
from occistack.api.occi.renderings.render_text import PerCategory

_RESOURCE_MEMBERS = {"occi.core.id": "id", "occi.core.title": "title",
                     "occi.core.summary": "summary"}
_LINK_MEMBERS = {"occi.core.id", "occi.core.title", "occi.core.source", "occi.core.target",
                 "occi.core.source.kind", "occi.core.target.kind"}


# --- categories -----------------------------------------------------------------------------

def attribute_definition(definition: AttributeDef) -> dict[str, Any]:
    described: dict[str, Any] = {"mutable": definition.mutable, "required": definition.required,
                                 "type": definition.json_type}
    # The schema allows only scalar defaults; a list or object default is left out.
    if isinstance(definition.default, (str, int, float)) and _is_finite(definition.default):
        described["default"] = definition.default
    if definition.description is not None:
        described["description"] = definition.description
    pattern = definition.json_pattern()
    if pattern is not None:
        described["pattern"] = pattern
    return described


def _category_object(category: Category) -> dict[str, Any]:
    document: dict[str, Any] = {"term": category.term, "scheme": category.scheme}
    if category.title is not None:
        document["title"] = category.title
    document["attributes"] = {definition.name: attribute_definition(definition)
                              for definition in category.attributes}
    if isinstance(category, Action):
        return document
    if isinstance(category, (Kind, Mixin)) and category.actions:
        document["actions"] = [action.identifier for action in category.actions]
    if isinstance(category, Kind) and category.parent is not None:
        document["parent"] = category.parent.identifier
    if isinstance(category, Mixin):
        if category.depends:
            document["depends"] = [mixin.identifier for mixin in category.depends]
        if category.applies:
            document["applies"] = [kind.identifier for kind in category.applies]
    location = getattr(category, "location", None)
    if location is not None:
        document["location"] = location
    return document


# The objects are built once per category and only ever read: json.dumps does not change them.
category_object: PerCategory[dict[str, Any]] = PerCategory(
    lambda category, ascii_only: _category_object(category))


def query_interface_document(categories: Iterable[Category]) -> dict[str, list[dict[str, Any]]]:
    document: dict[str, list[dict[str, Any]]] = {"kinds": [], "mixins": [], "actions": []}
    for category in categories:
        if isinstance(category, Kind):
            document["kinds"].append(category_object(category))
        elif isinstance(category, Mixin):
            document["mixins"].append(category_object(category))
        elif isinstance(category, Action):
            document["actions"].append(category_object(category))
    return document


# --- entities -------------------------------------------------------------------------------

def _attribute_members(attributes: Mapping[str, Any], skip: Iterable[str]) -> dict[str, Any]:
    return {name: value for name, value in attributes.items()
            if value is not None and name not in skip}


def _entity_id(attributes: Mapping[str, Any], location: str) -> str:
    identifier = attributes.get("occi.core.id")
    if identifier is None:  # the schema requires an id; the location's last part is one
        return location.rstrip("/").rsplit("/", 1)[-1]
    return str(identifier)


@lru_cache(maxsize=4096)
def _identifiers(categories: tuple[Category, ...]) -> list[str]:
    """The identifiers of a tuple of categories. Most entities of a listing share their mixin
    and action tuples, so the lists are made once and shared (the document is only read)."""
    return [category.identifier for category in categories]


def resource_object(resource: ResourceOut) -> dict[str, Any]:
    attributes = resource.attributes
    document: dict[str, Any] = {
        "kind": resource.kind.identifier,
        "mixins": _identifiers(resource.mixins),
        "attributes": _attribute_members(attributes, _RESOURCE_MEMBERS),
        "actions": _identifiers(resource.actions),
        "id": _entity_id(attributes, resource.location),
        "links": [link_object(link) for link in resource.links],
    }
    for attribute in ("occi.core.summary", "occi.core.title"):
        value = attributes.get(attribute)
        if value is not None:
            document[_RESOURCE_MEMBERS[attribute]] = str(value)
    return document


def _kinded_location(location: str, kind: str | None) -> dict[str, str]:
    return {"location": location} if kind is None else {"location": location, "kind": kind}


@lru_cache(maxsize=1024)
def _shared_location(location: str, kind: str | None) -> dict[str, str]:
    """The same, made once for a target many links share (the public network)."""
    return _kinded_location(location, kind)


def link_object(link: LinkOut) -> dict[str, Any]:
    attributes = link.attributes
    document: dict[str, Any] = {
        "kind": link.kind.identifier,
        "mixins": _identifiers(link.mixins),
        "attributes": _attribute_members(attributes, _LINK_MEMBERS),
        "actions": _identifiers(link.actions),
        "id": _entity_id(attributes, link.location),
        "source": _kinded_location(link.source, link.source_kind),
        "target": _shared_location(link.target, link.target_kind),
    }
    title = attributes.get("occi.core.title")
    if title is not None:
        document["title"] = str(title)
    return document


def collection_document(resources: Sequence[ResourceOut],
                        links: Sequence[LinkOut]) -> dict[str, list[dict[str, Any]]]:
    document: dict[str, list[dict[str, Any]]] = {}
    if resources or not links:
        document["resources"] = [resource_object(resource) for resource in resources]
    if links:
        document["links"] = [link_object(link) for link in links]
    return document


# --- encoding -------------------------------------------------------------------------------

def _is_finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _without_non_finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # JSON has no Infinity or NaN
    if isinstance(value, dict):
        return {key: _without_non_finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_non_finite(item) for item in value]
    return value


def encode(document: Any) -> bytes:
    """The document as compact UTF-8 JSON. orjson does the common case several times faster
    than the json module (a 10,000-compute listing is 13 MB), but it writes NaN and infinities
    as null where we write their names, and refuses lone surrogates. So its output is kept
    only when it holds no null at all (then no such value was in the document; a string that
    merely contains the word costs only the slower way) and it did not refuse."""
    try:
        body = orjson.dumps(document, default=str)
    except (TypeError, orjson.JSONEncodeError):
        return _encode_slowly(document)  # a lone surrogate from a client, a key not a string
    return body if b"null" not in body else _encode_slowly(document)


def _encode_slowly(document: Any) -> bytes:
    try:
        # Documents are trees the renderers build: no cycles to look for.
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          check_circular=False, default=str)
    except ValueError:
        text = json.dumps(_without_non_finite(document), separators=(",", ":"),
                          ensure_ascii=False, default=str)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a client: keep it as a \u escape
        return json.dumps(_without_non_finite(document), separators=(",", ":"),
                          default=str).encode("ascii")


class JsonRenderer(Renderer):
    media_type = "application/occi+json"
    full_collections = True

    def __init__(self, content_type: str = "application/occi+json"):
        self.content_type = content_type

    def _json(self, document: Any) -> Rendered:
        return Rendered(encode(document), self.content_type)

    def query_interface(self, categories: Iterable[Category]) -> Rendered:
        return self._json(query_interface_document(categories))

    def category(self, category: Category) -> Rendered:
        return self._json(category_object(category))

    def resource(self, resource: ResourceOut, base_url: str) -> Rendered:
        return self._json(resource_object(resource))

    def link(self, link: LinkOut, base_url: str) -> Rendered:
        return self._json(link_object(link))

    def locations(self, paths: Sequence[str], base_url: str) -> Rendered:
        raise NotRenderable("application/occi+json renders collections as whole entities, not "
                            "as locations; ask for text/plain, text/occi or text/uri-list")

    def collection(self, resources: Sequence[ResourceOut], links: Sequence[LinkOut],
                   base_url: str) -> Rendered:
        return self._json(collection_document(resources, links))

    def created(self, paths: Sequence[str], base_url: str,
                entities: Sequence[ResourceOut | LinkOut] = ()) -> Rendered:
        if not entities:
            raise ValueError("the JSON answer to a create is the created entities; pass them")
        if len(entities) == 1:
            entity = entities[0]
            return self._json(resource_object(entity) if isinstance(entity, ResourceOut)
                              else link_object(entity))
        return self.collection([e for e in entities if isinstance(e, ResourceOut)],
                               [e for e in entities if isinstance(e, LinkOut)], base_url)

    def action_invocation(self, action: Category, attributes: Mapping[str, Any]) -> Rendered:
        return self._json({"action": action.identifier,
                           "attributes": _attribute_members(attributes, ())})

    def error(self, status: int, title: str, message: str) -> Rendered:
        return self._json({"error": {"code": status, "title": title, "message": message}})

    def ok(self) -> Rendered:
        return Rendered(b"{}", self.content_type)
