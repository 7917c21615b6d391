"""The JSON rendering in (GFD.225): application/occi+json and application/json bodies.

GFD.225 has distinct shapes for a resource, a link, an action invocation, a mixin and the
collections; each is mapped onto the one IR the text parsers produce. A body of the wrong
shape is refused with an OCCIParseError that names the member at fault, never with whatever
exception Python would raise on the way.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from occistack.api.occi.renderings.errors import OCCIParseError
from occistack.api.occi.renderings.ir import AttributeSpecIR, CategoryIR, LinkIR, RenderingIR

_ENTITY_TOP_LEVEL = (("id", "occi.core.id"), ("title", "occi.core.title"))
_RESOURCE_TOP_LEVEL = _ENTITY_TOP_LEVEL + (("summary", "occi.core.summary"),)
_EXAMPLE_KIND = "http://schemas.ogf.org/occi/infrastructure#compute"


class _ShapeError(Exception):
    """A JSON document that parsed but is not an OCCI rendering; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise _ShapeError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_json(body: str) -> RenderingIR:
    """Parse an OCCI JSON body into the IR; raise OCCIParseError for anything else."""
    if not isinstance(body, str):
        if not isinstance(body, (bytes, bytearray)):
            raise OCCIParseError(f"expected a JSON text, not {type(body).__name__}")
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as error:
            raise OCCIParseError(f"the body is not UTF-8: {error.reason} at byte {error.start}") \
                from None
    try:
        document = _DECODER.decode(body)
    except json.JSONDecodeError as error:
        raise OCCIParseError(f"this is not valid JSON: {error.msg}", line=error.lineno,
                             column=error.colno, context=_line_excerpt(body, error.pos)) from None
    except RecursionError:
        raise OCCIParseError("the JSON document is nested too deeply") from None
    except _ShapeError as error:
        raise OCCIParseError(str(error)) from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise OCCIParseError(f"this is not acceptable JSON: {error}") from None
    try:
        return _document(document)
    except _ShapeError as error:
        raise OCCIParseError(str(error)) from None
    except RecursionError:
        raise OCCIParseError("the JSON document is nested too deeply") from None


def _line_excerpt(body: str, position: int) -> str:
    start = max(body.rfind("\n", 0, position) + 1, position - 24)
    end = body.find("\n", position)
    end = min(end if end != -1 else len(body), position + 24)
    return body[start:end].strip()


def _document(document: Any) -> RenderingIR:
    if not isinstance(document, dict):
        raise _ShapeError("expected a JSON object (a resource, link, action invocation, mixin "
                          f"or collection), not {_json_type(document)}")
    if "action" in document:
        return _action_invocation(document)
    if "kind" in document:
        return _link(document) if ("source" in document or "target" in document) \
            else _resource(document)
    if "resources" in document or "links" in document:
        return _entity_collection(document)
    if "term" in document or "scheme" in document:
        return RenderingIR(categories=(_category_definition(document, "mixin", "the mixin"),))
    if any(key in document for key in ("kinds", "mixins", "actions")):
        return RenderingIR(categories=_category_collection(document))
    if not document:
        return RenderingIR()
    if set(document) <= {"attributes"}:
        return RenderingIR(attributes=_attributes(document, "the document"))
    raise _ShapeError("expected a resource or link (with \"kind\"), an action invocation (with "
                      "\"action\"), a mixin (with \"term\" and \"scheme\") or a collection "
                      "(\"resources\", \"links\", \"kinds\", \"mixins\" or \"actions\")")


# --- entities -------------------------------------------------------------------------------
# Requests carry entities on the hot path, so the checks below are inline and the words of an
# error are put together only when there is one.

def _resource(document: dict[str, Any], where: str = "the resource") -> RenderingIR:
    attributes = _attributes(document, where)
    _top_level_into(attributes, document, _RESOURCE_TOP_LEVEL, where)
    links = document.get("links")
    if links is None:
        links = ()
    elif type(links) is not list:
        raise _ShapeError(f"\"links\" of {where} must be an array of link objects, "
                          f"not {_json_type(links)}")
    return RenderingIR(
        categories=_entity_categories(document, where),
        links=tuple([_inline_link(link, index, where) for index, link in enumerate(links)]),
        attributes=attributes,
    )


def _link(document: dict[str, Any], where: str = "the link") -> RenderingIR:
    attributes = _attributes(document, where)
    _top_level_into(attributes, document, _ENTITY_TOP_LEVEL, where)
    for end in ("source", "target"):
        if end in document:
            location, kind = _kinded_location(document[end], end, where)
            attributes[f"occi.core.{end}"] = location
            if kind is not None:
                attributes[f"occi.core.{end}.kind"] = kind
    return RenderingIR(categories=_entity_categories(document, where), attributes=attributes)


def _inline_link(link: Any, index: int, owner: str) -> LinkIR:
    if type(link) is not dict:
        raise _ShapeError(f"link {index + 1} of {owner} must be a link object, "
                          f"not {_json_type(link)}")
    target = link.get("target")
    if target is None:
        raise _ShapeError(f"link {index + 1} of {owner} has no \"target\"; expected "
                          "\"target\": {\"location\": \"/network/1\", \"kind\": \"…\"}")
    target, target_kind = _kinded_location(target, "target", owner, index)
    source = link.get("source")
    source_kind = None
    if source is not None:
        source, source_kind = _kinded_location(source, "source", owner, index)
    attributes = link.get("attributes")
    if attributes is None:
        attributes = {}
    elif type(attributes) is not dict:
        raise _ShapeError(f"\"attributes\" of link {index + 1} of {owner} must be an object "
                          f"of name: value pairs, not {_json_type(attributes)}")
    identifier, title, kind, rel = (link.get("id"), link.get("title"), link.get("kind"),
                                    link.get("rel"))
    if identifier is not None:
        attributes["occi.core.id"] = _string(identifier, "id", link, index, owner)
    if title is not None:
        attributes["occi.core.title"] = _string(title, "title", link, index, owner)
    if kind is not None:
        _category_reference(_string(kind, "kind", link, index, owner), "kind", "kind",
                            f"link {index + 1} of {owner}")
    if rel is None:
        rel = target_kind
    else:
        _string(rel, "rel", link, index, owner)
    mixins = link.get("mixins")
    return LinkIR(
        target=target,
        rel=rel,
        self_location=identifier,
        kind=kind,
        mixins=_identifier_list(link, "mixins", f"link {index + 1} of {owner}") if mixins else (),
        attributes=attributes,
        source=source,
        target_kind=target_kind,
        source_kind=source_kind,
    )


def _string(value: Any, member: str, link: Any, index: int, owner: str) -> str:
    if type(value) is not str:
        raise _ShapeError(f"\"{member}\" of link {index + 1} of {owner} must be a string, "
                          f"not {_json_type(value)}")
    return value


def _action_invocation(document: dict[str, Any]) -> RenderingIR:
    action = document["action"]
    if type(action) is not str:
        raise _ShapeError("\"action\" must be a string, the action's identifier (such as "
                          "http://schemas.ogf.org/occi/infrastructure/compute/action#stop), "
                          f"not {_json_type(action)}")
    category = _category_reference(action, "action", "action", "the document")
    return RenderingIR(categories=(category,),
                       attributes=_attributes(document, "the action invocation"))


def _entity_collection(document: dict[str, Any]) -> RenderingIR:
    members: list[RenderingIR] = []
    for key, parse_member in (("resources", _resource), ("links", _link)):
        entities = document.get(key, [])
        if type(entities) is not list:
            raise _ShapeError(f"\"{key}\" must be an array, not {_json_type(entities)}")
        for index, entity in enumerate(entities):
            where = f"{key[:-1]} {index + 1} of \"{key}\""
            if type(entity) is not dict:
                raise _ShapeError(f"{where} must be an object, not {_json_type(entity)}")
            if "kind" not in entity:
                raise _ShapeError(f"{where} has no \"kind\"; "
                                  f"expected \"kind\": \"{_EXAMPLE_KIND}\"")
            members.append(parse_member(entity, where))
    if len(members) == 1:
        return members[0]
    return RenderingIR(members=tuple(members))


def _entity_categories(document: dict[str, Any], where: str) -> tuple[CategoryIR, ...]:
    kind = document["kind"]
    if type(kind) is not str:
        raise _ShapeError(f"\"kind\" of {where} must be a string, such as \"{_EXAMPLE_KIND}\", "
                          f"not {_json_type(kind)}")
    categories = [_category_reference(kind, "kind", "kind", where)]
    mixins = document.get("mixins")
    if mixins:
        if type(mixins) is not list:
            raise _ShapeError(f"\"mixins\" of {where} must be an array of category identifiers")
        for mixin in mixins:
            if type(mixin) is not str:
                raise _ShapeError(f"\"mixins\" of {where} must be an array of category "
                                  f"identifiers, not of {_json_type(mixin)}s")
            categories.append(_category_reference(mixin, "mixin", "mixins", where))
    return tuple(categories)


def _attributes(document: dict[str, Any], where: str) -> dict[str, Any]:
    # The decoded document is ours alone, so its attributes object becomes the IR's as is.
    attributes = document.get("attributes")
    if attributes is None:
        return {}
    if type(attributes) is not dict:
        raise _ShapeError(f"\"attributes\" of {where} must be an object of name: value pairs, "
                          f"not {_json_type(attributes)}")
    return attributes


def _top_level_into(attributes: dict[str, Any], document: dict[str, Any],
                    members: tuple[tuple[str, str], ...], where: str) -> None:
    for member, attribute in members:
        value = document.get(member)
        if value is None:
            continue
        if type(value) is not str:
            raise _ShapeError(f"\"{member}\" of {where} must be a string, not {_json_type(value)}")
        attributes[attribute] = value


def _kinded_location(value: Any, end: str, owner: str,
                     link_index: int | None = None) -> tuple[str, str | None]:
    if type(value) is dict:
        location, kind = value.get("location"), value.get("kind")
        if type(location) is str and (kind is None or type(kind) is str):
            return location, kind
    elif type(value) is str:  # tolerated: a bare location instead of {"location": …}
        return value, None
    where = owner if link_index is None else f"link {link_index + 1} of {owner}"
    raise _ShapeError(f"\"{end}\" of {where} must be an object with a \"location\" string "
                      "(and optionally a \"kind\" string)")


def _optional_string(document: dict[str, Any], member: str, where: str) -> str | None:
    value = document.get(member)
    if value is not None and type(value) is not str:
        raise _ShapeError(f"\"{member}\" of {where} must be a string, not {_json_type(value)}")
    return value


# --- categories -----------------------------------------------------------------------------

def _category_collection(document: dict[str, Any]) -> tuple[CategoryIR, ...]:
    categories: list[CategoryIR] = []
    for key, category_class in (("kinds", "kind"), ("mixins", "mixin"), ("actions", "action")):
        definitions = document.get(key, [])
        if not isinstance(definitions, list):
            raise _ShapeError(f"\"{key}\" must be an array, not {_json_type(definitions)}")
        for index, definition in enumerate(definitions):
            where = f"{category_class} {index + 1} of \"{key}\""
            if type(definition) is str:  # a reference, as in {"mixins": ["…#os_tpl_1"]}
                categories.append(
                    _category_reference(definition, category_class, key, "the document"))
            else:
                categories.append(_category_definition(definition, category_class, where))
    return tuple(categories)


def _category_definition(definition: Any, category_class: str, where: str) -> CategoryIR:
    if not isinstance(definition, dict):
        raise _ShapeError(f"{where} must be an object, not {_json_type(definition)}")
    for member in ("term", "scheme"):
        if not isinstance(definition.get(member), str):
            raise _ShapeError(f"{where} needs a \"{member}\" string")
    if category_class == "mixin" and "parent" in definition:
        category_class = "kind"
    parent = _optional_string(definition, "parent", where)
    depends = (parent,) if parent is not None else _identifier_list(definition, "depends", where)
    return CategoryIR(
        scheme=definition["scheme"],
        term=definition["term"],
        cls=category_class,
        title=_optional_string(definition, "title", where),
        depends=depends,
        applies=_identifier_list(definition, "applies", where),
        location=_optional_string(definition, "location", where),
        attributes=_attribute_specs(definition, where),
        actions=_identifier_list(definition, "actions", where),
    )


def _attribute_specs(definition: dict[str, Any], where: str) -> tuple[AttributeSpecIR, ...]:
    attributes = definition.get("attributes")
    if attributes is None:
        return ()
    if not isinstance(attributes, dict):
        raise _ShapeError(f"\"attributes\" of {where} must be an object of attribute "
                          f"definitions, not {_json_type(attributes)}")
    specs = []
    for name, spec in attributes.items():
        if not isinstance(spec, dict):
            raise _ShapeError(f"the definition of {name} in {where} must be an object "
                              "such as {\"mutable\": true, \"required\": false}")
        specs.append(AttributeSpecIR(name, immutable=spec.get("mutable") is False,
                                     required=spec.get("required") is True))
    return tuple(specs)


def _identifier_list(document: dict[str, Any], member: str, where: str) -> tuple[str, ...]:
    values = document.get(member)
    if values is None:
        return ()
    if type(values) is not list or not all(type(value) is str for value in values):
        raise _ShapeError(f"\"{member}\" of {where} must be an array of category identifiers")
    for value in values:
        _category_reference(value, "mixin", member, where)
    return tuple(values)


def _category_reference(identifier: str, category_class: str, member: str,
                        where: str) -> CategoryIR:
    category = _reference(identifier, category_class)
    if category is None:
        raise _ShapeError(f"\"{member}\" of {where}: {identifier!r} is not a category "
                          "identifier; expected <scheme>#<term>, such as " + _EXAMPLE_KIND)
    return category


# Identifiers repeat from request to request; the number kept is bounded.
@lru_cache(maxsize=2048)
def _reference(identifier: str, category_class: str) -> CategoryIR | None:
    scheme, hash_sign, term = identifier.rpartition("#")
    if not hash_sign or not term:
        return None
    return CategoryIR(scheme=scheme + "#", term=term, cls=category_class)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
