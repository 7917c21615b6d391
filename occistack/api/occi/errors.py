"""The OCCI face's errors: written in the rendering the client negotiated (text/plain when even
that cannot be agreed), and its own refusals of what it was sent -- a body it cannot parse, a
media type it does not read or write, an entity it cannot render."""

from __future__ import annotations

from pyramid.view import exception_view_config

from occistack.plane.errors import ErrorKind, describe
from occistack.api.errors import ANY_FACE, RenderedError, add_error_renderer, error_response, refusal_response
from occistack.api.occi.negotiation import RESPONSE_TYPES, TEXT_PLAIN, NotAcceptable, UnsupportedMediaType, response_type
from occistack.api.occi.renderings import OCCIParseError, renderer_for
from occistack.api.occi.renderings.render import NotRenderable


def occi_error(request, status: int, reason: str, message: str) -> RenderedError:
    try:
        media = response_type(request.headers.get("Accept"))
    except NotAcceptable:
        media = TEXT_PLAIN
    rendered = renderer_for(media).error(status, reason, message)
    return RenderedError(rendered.body, rendered.content_type, tuple(rendered.headers))


@exception_view_config(OCCIParseError)
def unparsable(exc: OCCIParseError, request):
    return refusal_response(request, ErrorKind.INVALID, f"the request could not be parsed: {exc}")


@exception_view_config(NotRenderable)
def not_renderable(exc: NotRenderable, request):
    return refusal_response(request, ErrorKind.INVALID, describe(exc))


@exception_view_config(NotAcceptable)
def not_acceptable(exc: NotAcceptable, request):
    return error_response(request, 406, f"cannot answer in any of the types in Accept: {exc}; "
                                        f"acceptable are {', '.join(RESPONSE_TYPES)}")


@exception_view_config(UnsupportedMediaType)
def unsupported_media_type(exc: UnsupportedMediaType, request):
    return error_response(request, 415, f"cannot read a body of type {exc}; send text/plain, text/occi, "
                                        "application/occi+json or application/json")


def includeme(config) -> None:
    # Also the admin API's, the token service's and the agents' channel's until they write
    # errors of their own: they have always answered in this face's JSON.
    add_error_renderer(config, ANY_FACE, occi_error)
    config.scan(__name__)
