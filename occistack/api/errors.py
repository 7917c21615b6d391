"""Errors as answers: every failure a client can cause becomes a status and a message rendered
in the media type the client asked for, and every other failure a logged 500 (after which
pyramid_tm has rolled the transaction back).
"""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from pyramid_retry import is_last_attempt, mark_error_retryable
from sqlalchemy.exc import IntegrityError, OperationalError

from occistack.model.contention import describe_database_error, should_run_again
from occistack.model.occi import AttributeValueError, CategoryConflict
from occistack.model.states import IllegalTransition, StaleState
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted, UseCaseError
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


class OCCIError(Exception):
    """A refusal with an HTTP status, raised by views."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class BadRequest(OCCIError):
    status = 400


class Forbidden(OCCIError):
    status = 403


class NotFoundError(OCCIError):
    status = 404


class MethodNotAllowed(OCCIError):
    status = 405


class ConflictError(OCCIError):
    status = 409


class PageTooLarge(OCCIError):
    status = 413


_USE_CASE_STATUS = {NotFound: 404, Conflict: 409, InvalidRequest: 400, NotPermitted: 403}


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


@exception_view_config(OCCIError)
def occi_error(exc: OCCIError, request):
    return error_response(request, exc.status, exc.message, exc.headers)


@exception_view_config(UseCaseError)
def use_case_error(exc: UseCaseError, request):
    status = next((code for kind, code in _USE_CASE_STATUS.items() if isinstance(exc, kind)), 400)
    return error_response(request, status, str(exc))


@exception_view_config(OCCIParseError)
def parse_error(exc: OCCIParseError, request):
    return error_response(request, 400, f"the request could not be parsed: {exc}")


@exception_view_config(AttributeValueError)
def attribute_error(exc: AttributeValueError, request):
    return error_response(request, 400, str(exc))


@exception_view_config(CategoryConflict)
def category_conflict(exc: CategoryConflict, request):
    return error_response(request, 409, str(exc))


@exception_view_config(IllegalTransition)
def illegal_transition(exc: IllegalTransition, request):
    return error_response(request, 409, str(exc))


@exception_view_config(StaleState)
def stale_state(exc: StaleState, request):
    return error_response(request, 409, f"{exc}; it changed while this request ran — try again")


@exception_view_config(NotRenderable)
def not_renderable(exc: NotRenderable, request):
    return error_response(request, 400, str(exc))


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
    return error_response(request, 403, refusal_for_role(request))


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
    return error_response(request, 409, "a concurrent request took a name, address or id this one needed; "
                                        "nothing was changed — try again")


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
    return error_response(request, 503, message, {"Retry-After": str(retry_after)})


@exception_view_config(Exception)
def unexpected_error(exc: Exception, request):
    log.exception("unexpected error on %s %s", request.method, request.path_qs)
    return error_response(request, 500, "the server failed to handle this request; nothing was changed, "
                                        "and the failure has been logged")


def includeme(config) -> None:
    config.scan(__name__)
