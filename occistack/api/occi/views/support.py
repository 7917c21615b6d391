"""What the OCCI views share: reading the request, answering in the negotiated type, paging
and filtering."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from typing import Any, Sequence

from pyramid.response import Response

from occistack.model.occi import standard_registry
from occistack.api.occi.renderings import parse_json, parse_text_occi, parse_text_plain, renderer_for
from occistack.api.occi.renderings.ir import LinkOut, RenderingIR, ResourceOut
from occistack.api.occi.renderings.render import Rendered, Renderer
from occistack.plane.errors import InvalidRequest
from occistack.api.errors import PageTooLarge
from occistack.api.settings import base_url, get_settings
from occistack.api.occi.kinds import Scope
from occistack.api.occi.negotiation import OCCI_JSON, JSON, TEXT_OCCI, is_json, request_type, response_type

#: The OCCI headers as WSGI environ keys.
_OCCI_ENVIRON_KEYS = ("HTTP_CATEGORY", "HTTP_LINK", "HTTP_X_OCCI_ATTRIBUTE", "HTTP_X_OCCI_LOCATION")


def scope(request) -> Scope:
    settings = get_settings(request.registry)
    return Scope(plane=request.plane, registry=request.occi_registry, schemes=settings.schemes,
                 script_name=request.script_name, default_os_tpl=settings.default_os_tpl)


def renderer(request) -> Renderer:
    return renderer_for(response_type(request.headers.get("Accept")))


def parse_request(request) -> RenderingIR:
    """The request's OCCI rendering: its body in the Content-Type's rendering or, when the body
    is empty (text/occi, or a client that put text/plain content in headers), its OCCI headers."""
    ir = _parsed(request)
    if not ir.is_empty:
        _refuse_unstorable(ir)
        _refuse_overlong(ir, get_settings(request.registry).max_attribute_length)
    return ir


def _parsed(request) -> RenderingIR:
    environ = request.environ
    if environ.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in environ:
        body = b""  # HTTP/1.1: no length and no chunks, no body (every GET); skip WebOb's reading
    else:
        body = request.body
    media = request_type(environ.get("CONTENT_TYPE"))
    if body and body.strip() and media != TEXT_OCCI:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRequest(f"the body is not UTF-8 (byte {error.start} is invalid)") from None
        if media is not None and is_json(media):
            return parse_json(text)
        if media is None and text.lstrip().startswith("{"):
            return parse_json(text)
        return parse_text_plain(text)
    if any(key in environ for key in _OCCI_ENVIRON_KEYS):
        return parse_text_occi(request.headers)
    return RenderingIR()


def _refuse_unstorable(ir: RenderingIR) -> None:
    """NUL characters and unpaired surrogates (a lone ``\\ud800`` escape in JSON) parse, but no
    database column can hold them and no response can carry them: refuse them once, here, for
    every media type, rather than fail somewhere deep in a use case."""
    pending: list[Any] = [ir]
    while pending:  # a loop, not recursion: attribute values may nest as deep as JSON allows
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidRequest("the request contains a NUL character (\\u0000), which no OCCI value may hold")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidRequest("the request contains an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff "
                                     "escape); send whole characters") from None
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif is_dataclass(value):
            pending.extend(getattr(value, item.name) for item in fields(value))


def _refuse_overlong(ir: RenderingIR, longest: int) -> None:
    """Attribute values longer than the site's ``occistack.max_attribute_length`` would be stored
    and then sent back in every listing: refuse them. Attributes whose definition declares its
    own length (a title's column, user data) are held to that by the type system instead."""
    own_lengths = _attributes_with_own_length()
    for entity in (ir, *ir.members):
        for attributes in (entity.attributes, *(link.attributes for link in entity.links)):
            for name, value in attributes.items():
                if name in own_lengths:
                    continue
                length = _text_length(value)
                if length > longest:
                    raise InvalidRequest(f"{name} is {length} characters long; this site accepts at most {longest} "
                                         "characters in an attribute (occistack.max_attribute_length)")


@cache
def _attributes_with_own_length() -> frozenset[str]:
    return frozenset(definition.name for category in standard_registry() for definition in category.attributes
                     if definition.max_length is not None)


def _text_length(value: Any) -> int:
    """The characters of a value's text: a string's own, an array's or object's all together."""
    if isinstance(value, str):
        return len(value)
    total, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return total


def respond(request, rendered: Rendered, status: int = 200, location: str | None = None) -> Response:
    # charset=None: the Content-Type is exactly the media type the client asked for, with no
    # parameter it did not send (SPEC-NOTES §8; old clients compare it as a string). Bodies are UTF-8.
    response = Response(body=rendered.body, status=status, content_type=rendered.content_type, charset=None)
    for name, value in rendered.headers:
        response.headers.add(name, value)
    if location is not None:
        response.headers["Location"] = location
    return response


_LARGEST_OFFSET = 2 ** 62


@dataclass(frozen=True, slots=True)
class Page:
    offset: int
    limit: int | None


def page_of(request) -> Page:
    """GFD.223 pagination: ``page`` (from 1) and ``number`` (items per page). The spec's example
    separates them with ';', which query-string parsers no longer split on, so both are read."""
    params = _query_params(request)
    if "page" not in params and "number" not in params:
        return Page(0, None)
    maximum = get_settings(request.registry).max_page_size
    number = _positive_int(params.get("number", str(maximum)), "number")
    if number > maximum:
        raise PageTooLarge(f"number={number} is more than this server serves in one page; ask for at most {maximum}")
    page = _positive_int(params.get("page", "1"), "page")
    # Past the end is an empty page (GFD.223), however far past: cap the offset below what the
    # databases' 64-bit OFFSET holds rather than let a huge page number fail the query.
    return Page(min((page - 1) * number, _LARGEST_OFFSET), number)


def _query_params(request) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in request.query_string.replace(";", "&").split("&"):
        name, _, value = part.partition("=")
        if name:
            params.setdefault(name, value)
    return params


def _positive_int(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"{name}={text!r} is not a number; pages count from 1") from None
    if value < 1:
        raise InvalidRequest(f"{name}={value} is not accepted; {name} counts from 1")
    return value


def action_term(request) -> str | None:
    return _query_params(request).get("action") or None


def entity_filter(request) -> RenderingIR | None:
    """The filter of a collection GET: OCCI headers (GFD.223), or a text body some clients send."""
    ir = parse_request(request) if request.method in ("GET", "HEAD") else RenderingIR()
    return None if ir.is_empty else ir


def matches(entity: ResourceOut | LinkOut, wanted: RenderingIR) -> bool:
    """Whether an entity carries every category and attribute value the filter names."""
    identifiers = {ancestor.identifier for ancestor in entity.kind.lineage()}
    pending = list(entity.mixins)
    while pending:
        mixin = pending.pop()
        identifiers.add(mixin.identifier)
        pending.extend(getattr(mixin, "depends", ()))
    for category in wanted.categories:
        if category.identifier not in identifiers:
            return False
    for name, value in wanted.attributes.items():
        if name not in entity.attributes or str(entity.attributes[name]) != str(value):
            if not (isinstance(entity.attributes.get(name), float) and _float_equal(entity.attributes[name], value)):
                return False
    return True


def _float_equal(current: float, given: Any) -> bool:
    try:
        return abs(current - float(given)) < 1e-9
    except (TypeError, ValueError):
        return False


def render_listing(request, resources: Sequence[ResourceOut], links: Sequence[LinkOut],
                   locations: Sequence[str] | None = None) -> Response:
    """A collection in the negotiated type: whole entities in JSON, locations in text."""
    chosen = renderer(request)
    if chosen.full_collections:
        return respond(request, chosen.collection(resources, links, base_url(request)))
    if locations is None:
        locations = [entity.location for entity in (*resources, *links)]
    return respond(request, chosen.locations(locations, base_url(request)))


def wants_full_entities(request) -> bool:
    return renderer(request).full_collections


__all__ = [
    "JSON", "OCCI_JSON", "Page", "action_term", "entity_filter", "matches", "page_of",
    "parse_request", "render_listing", "renderer", "respond", "scope", "wants_full_entities",
]
