"""Errors as answers: every failure a client can cause becomes a status and a message rendered
in the media type the client asked for, and every other failure a logged 500 (after which
pyramid_tm has rolled the transaction back).

A refusal's status comes from its kind (occistack/plane/errors.py) and the face the request
came through, in the one table of api/error_statuses.py; only refusals about HTTP itself
(:class:`HTTPRefusal`: 401, 405, 413) carry a status of their own.

How an error is written is each face's own: a face registers its :class:`ErrorRenderer` with
:func:`add_error_renderer` (OCCI renders in the negotiated OCCI rendering; an OpenStack face will
write OpenStack's error documents). The OCCI face's renderer also serves the faces that have
none yet (the admin API, the token service, the agents' channel answer in its JSON); with no
face's renderer at all, errors are plain text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_last_attempt, mark_error_retryable
from sqlalchemy.exc import IntegrityError, OperationalError

from occistack.model.contention import describe_database_error, should_run_again
from occistack.plane.errors import REFUSALS, ErrorKind, Unavailable, describe, kind_of
from occistack.api.error_statuses import face_of, status_for
from occistack.api.security import authentication_refusal

log = logging.getLogger(__name__)

REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 409: "Conflict", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
}


class HTTPRefusal(Exception):
    """A refusal that is about HTTP itself, with no kind in the plane's vocabulary (a method a
    path does not take, a page too large, credentials to present): raised by views with its
    status. Everything else a user can cause is a plane error (occistack/plane/errors.py)."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class MethodNotAllowed(HTTPRefusal):
    status = 405


class PageTooLarge(HTTPRefusal):
    status = 413


def not_allowed(request, allowed: Iterable[str]):
    allowed = tuple(allowed)
    raise MethodNotAllowed(f"{request.method} is not supported on {request.path}; supported: {', '.join(allowed)}",
                           headers={"Allow": ", ".join(allowed)})


class RenderedError(NamedTuple):
    body: bytes
    content_type: str
    headers: Sequence[tuple[str, str]] = ()


class ErrorRenderer(Protocol):
    """How a face writes an error: its status, the status's reason phrase, the message."""

    def __call__(self, request, status: int, reason: str, message: str) -> RenderedError: ...


#: Where the faces' error renderers are kept in the registry: face name (api/error_statuses.py)
#: → renderer, and under ANY_FACE the one for faces without their own.
ERROR_RENDERERS = "occistack.error_renderers"
ANY_FACE = "*"


def add_error_renderer(config, face: str, render: ErrorRenderer) -> None:
    """Write the errors of requests that came through ``face`` (or ANY_FACE) with ``render``."""
    config.registry.setdefault(ERROR_RENDERERS, {})[face] = render


def plain_text_error(request, status: int, reason: str, message: str) -> RenderedError:
    return RenderedError(f"{message}\n".encode(), "text/plain")


def error_response(request, status: int, message: str,
                   headers: dict[str, str] | list[tuple[str, str]] | None = None) -> Response:
    """Render ``message`` as the request's face writes errors. ``headers`` as a list of pairs may
    repeat a name (several WWW-Authenticate challenges)."""
    renderers = request.registry.get(ERROR_RENDERERS, {})
    render = renderers.get(face_of(request)) or renderers.get(ANY_FACE) or plain_text_error
    rendered = render(request, status, REASONS.get(status, "Error"), message)
    # No charset parameter, as in the OCCI face's responses (SPEC-NOTES §8).
    response = Response(body=rendered.body, status=status, content_type=rendered.content_type, charset=None)
    for name, value in rendered.headers:
        response.headers.add(name, value)
    if isinstance(headers, dict):
        for name, value in headers.items():
            response.headers[name] = value
    else:
        for name, value in headers or ():
            response.headers.add(name, value)
    return response


@exception_view_config(HTTPRefusal)
def http_refusal(exc: HTTPRefusal, request):
    return error_response(request, exc.status, exc.message, exc.headers)


def refusal(exc: Exception, request):
    """A plane or model refusal: the status the request's face gives its kind."""
    retry_after = exc.retry_after_seconds if isinstance(exc, Unavailable) else None
    return refusal_response(request, kind_of(exc), describe(exc),
                            {"Retry-After": str(retry_after)} if retry_after is not None else None)


def refusal_response(request, kind: ErrorKind, message: str, headers: dict[str, str] | None = None) -> Response:
    """The answer to a refusal of ``kind``: the status the request's face gives it."""
    return error_response(request, status_for(kind, face_of(request)), message, headers)


@notfound_view_config()
def not_found(request):
    return error_response(request, 404, f"nothing at {request.path}; GET /-/ lists the locations of this service")


@forbidden_view_config()
def forbidden(request):
    if request.authenticated_userid is None:
        # No credentials, or credentials that were not accepted: the policy knows which and why.
        return error_response(request, *authentication_refusal(request))
    return error_response(request, status_for(ErrorKind.FORBIDDEN, face_of(request)), refusal_for_role(request))


def refusal_for_role(request) -> str:
    """Why an accepted identity may not do this: what its role allows, and which role would."""
    role = request.identity.role
    if request.matched_route is not None and request.matched_route.name.startswith("admin"):
        return f"the admin API is for users whose role is admin; your role is {role}"
    if role == "reader":
        return (f"your role is reader: it may read (GET, HEAD) but not create, change, act on or delete "
                f"({request.method} needs the role member or admin)")
    return f"your role ({role}) does not allow {request.method} here"


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request):
    if isinstance(exc, (HTTPNotFound, HTTPForbidden)):
        return not_found(request) if isinstance(exc, HTTPNotFound) else forbidden(request)
    if exc.code < 400:
        return exc
    return error_response(request, exc.code, exc.detail or exc.explanation or exc.title)


@exception_view_config(IntegrityError)
def integrity_error(exc: IntegrityError, request):
    # Two requests raced for the same name, address or id; the loser is told to try again.
    log.info("integrity error on %s %s: %s", request.method, request.path_qs, exc.orig)
    return error_response(request, status_for(ErrorKind.CONFLICT, face_of(request)),
                          "a concurrent request took a name, address or id this one needed; nothing was changed — try again")


@exception_view_config(OperationalError)
def database_error(exc: OperationalError, request):
    """A deadlock or serialization failure runs the request again (api/database.py)
    and, after the last attempt, is "busy"; "not reachable" is said only of connections."""
    if should_run_again(exc) and not is_last_attempt(request):
        # pyramid_tm marks most of these itself; not those raised while committing.
        mark_error_retryable(exc)
        log.info("conflict on %s %s, running it again: %s", request.method, request.path_qs, exc.orig)
    else:
        log.error("database error on %s %s: %s", request.method, request.path_qs, exc.orig)
    message, retry_after = describe_database_error(exc)
    return error_response(request, status_for(ErrorKind.UNAVAILABLE, face_of(request)), message,
                          {"Retry-After": str(retry_after)})


@exception_view_config(Exception)
def unexpected_error(exc: Exception, request):
    log.exception("unexpected error on %s %s", request.method, request.path_qs)
    return error_response(request, 500, "the server failed to handle this request; nothing was changed, "
                                        "and the failure has been logged")


def includeme(config) -> None:
    config.scan(__name__)
    for refused in REFUSALS:
        config.add_exception_view(refusal, context=refused)
