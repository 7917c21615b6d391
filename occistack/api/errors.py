"""Errors as answers: every failure a client can cause becomes a status and a message rendered
in the media type the client asked for, and every other failure a logged 500 (after which
pyramid_tm has rolled the transaction back).

A refusal's status comes from its kind (occistack/plane/errors.py) and the face the request
came through, in the one table of api/error_statuses.py; only refusals about HTTP itself
(:class:`HTTPRefusal`: 401, 405, 413) carry a status of their own.
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_last_attempt, mark_error_retryable
from sqlalchemy.exc import IntegrityError, OperationalError

from occistack.model.contention import describe_database_error, should_run_again
from occistack.plane.errors import REFUSALS, ErrorKind, Unavailable, describe, kind_of
from occistack.api.error_statuses import face_of, status_for
from occistack.api.occi.renderings import OCCIParseError, renderer_for
from occistack.api.occi.renderings.render import NotRenderable
from occistack.api.occi.negotiation import RESPONSE_TYPES, TEXT_PLAIN, NotAcceptable, UnsupportedMediaType, response_type
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


#: The OCCI face's own refusals of what it was sent, by kind.
_FACE_ERROR_KINDS: dict[type[Exception], ErrorKind] = {OCCIParseError: ErrorKind.INVALID,
                                                       NotRenderable: ErrorKind.INVALID}


def error_response(request, status: int, message: str,
                   headers: dict[str, str] | list[tuple[str, str]] | None = None) -> Response:
    """Render ``message`` in the client's media type (text/plain if even that cannot be agreed).
    ``headers`` as a list of pairs may repeat a name (several WWW-Authenticate challenges)."""
    try:
        media = response_type(request.headers.get("Accept"))
    except NotAcceptable:
        media = TEXT_PLAIN
    rendered = renderer_for(media).error(status, REASONS.get(status, "Error"), message)
    # No charset parameter, as in views.support.respond (SPEC-NOTES §8).
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
    """A plane, model or OCCI-input refusal: the status the request's face gives its kind."""
    kind = kind_of(exc) or next(kind for cls, kind in _FACE_ERROR_KINDS.items() if isinstance(exc, cls))
    message = f"the request could not be parsed: {exc}" if isinstance(exc, OCCIParseError) else describe(exc)
    retry_after = exc.retry_after_seconds if isinstance(exc, Unavailable) else None
    return error_response(request, status_for(kind, face_of(request)), message,
                          {"Retry-After": str(retry_after)} if retry_after is not None else None)


@exception_view_config(NotAcceptable)
def not_acceptable(exc: NotAcceptable, request):
    return error_response(request, 406, f"cannot answer in any of the types in Accept: {exc}; "
                                        f"acceptable are {', '.join(RESPONSE_TYPES)}")


@exception_view_config(UnsupportedMediaType)
def unsupported_media_type(exc: UnsupportedMediaType, request):
    return error_response(request, 415, f"cannot read a body of type {exc}; send text/plain, text/occi, "
                                        "application/occi+json or application/json")


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
    for refused in (*REFUSALS, *_FACE_ERROR_KINDS):
        config.add_exception_view(refusal, context=refused)
