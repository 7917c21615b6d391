"""What every response carries and every request is checked for, before any view runs.

``Server`` names our OCCI versions (clients such as the ooi/EGI tooling read it), ``Accept``
lists the renderings we produce (rOCCI picks its media type from it), and a client that asks
for an OCCI version above ours gets 501 (GFD.223 §5.3).

Every face (OCCI, the admin API, the token service, the agents' channel) passes through here,
so what no request of any face may be is refused here once: a path or query string that is not
UTF-8 or holds a NUL, and a body larger than ``occistack.max_request_body_bytes`` (413, unread).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_to_bytes

from pyramid.tweens import EXCVIEW, INGRESS
from sqlalchemy.exc import OperationalError

from occistack.model.contention import describe_database_error

from occistack.api.errors import error_response
from occistack.api.mounts import BUILTIN_KEYSTONE_PATH, JSON_PATH_PREFIXES
from occistack.api.occi.negotiation import ACCEPT_HEADER, SERVER_HEADER, client_version_too_high
from occistack.api.settings import get_settings

log = logging.getLogger(__name__)


def occi_protocol_tween_factory(handler, registry):
    largest_body = get_settings(registry).max_request_body_bytes
    keystone = registry.get("occistack.keystone")
    json_faces = JSON_PATH_PREFIXES + ((BUILTIN_KEYSTONE_PATH + "/",) if keystone is not None and keystone.mode == "builtin"
                                else ())

    def occi_protocol_tween(request):
        environ = request.environ
        too_high = client_version_too_high(request.headers.get("User-Agent"))
        unusable = unusable_path(environ.get("PATH_INFO", "")) or unusable_query(environ.get("QUERY_STRING", ""))
        if too_high is not None:
            response = error_response(request, 501, f"this server implements OCCI 1.2 (and 1.1); the client asks "
                                                    f"for OCCI/{too_high}")
        elif unusable is not None:
            response = refusal(request, json_faces, 400, unusable)
        elif (oversize := oversize_body(request, largest_body)) is not None:
            response = refusal(request, json_faces, *oversize)
        else:
            squeeze_repeated_slashes(request.environ)
            try:
                response = handler(request)
            except OperationalError as error:
                # Past the exception views too (met while authenticating, or while committing):
                # "busy" or "not reachable", as the error view says it.
                log.error("database error outside the view on %s %s: %s", request.method, request.path_qs,
                          error.orig)
                message, retry_after = describe_database_error(error)
                response = error_response(request, 503, message, {"Retry-After": str(retry_after)})
            except Exception:
                # Past the exception views: the transaction failed to commit. It was rolled back.
                log.exception("request failed after its view ran: %s %s", request.method, request.path_qs)
                response = error_response(request, 500, "the change could not be saved; nothing was changed")
        response.headers["Server"] = SERVER_HEADER
        response.headers["Accept"] = ACCEPT_HEADER
        return response

    return occi_protocol_tween


def unusable_path(path_info: str) -> str | None:
    """Why a path can name nothing here, or None. Checked before routing: Pyramid cannot route a
    path that is not UTF-8 (and neither this tween nor the error views could even log it), and
    a NUL can be neither stored nor looked up in PostgreSQL."""
    try:
        # WSGI hands the percent-decoded bytes over as latin-1 text.
        decoded = path_info.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return "the path is not UTF-8 once percent-decoded; percent-encode the UTF-8 bytes of non-ASCII characters"
    if "\x00" in decoded:
        return "the path contains a NUL character (%00), which no location of this service has"
    return None


def unusable_query(query_string: str) -> str | None:
    """Why a query string can be no request's, or None: the same rules as for paths, checked
    before any view reads a parameter (WebOb would fail decoding it, deep in the view)."""
    if not query_string:
        return None
    try:
        decoded = unquote_to_bytes(query_string.encode("latin-1").replace(b"+", b" ")).decode("utf-8")
    except UnicodeError:
        return ("the query string is not UTF-8 once percent-decoded; percent-encode the UTF-8 bytes of "
                "non-ASCII characters")
    if "\x00" in decoded:
        return "the query string contains a NUL character (%00), which no parameter of this service accepts"
    return None


def oversize_body(request, largest: int) -> tuple[int, str] | None:
    """(status, why) when the body is larger than ``largest`` bytes or its length is no number,
    else None. A declared length is judged unread; a body without one (chunked) is read up to
    one byte past the limit, and kept for the views when it fits."""
    environ = request.environ
    declared = environ.get("CONTENT_LENGTH")
    if declared not in (None, ""):
        if not (declared.isascii() and declared.strip().isdigit()):
            return 400, f"Content-Length {declared!r} is not a number of bytes"
        return _too_large(largest) if int(declared) > largest else None
    if "HTTP_TRANSFER_ENCODING" not in environ or not request.is_body_readable:
        return None  # HTTP/1.1: no length and no chunks, no body (every GET); nothing to read
    body = request.body_file_raw.read(largest + 1)
    if len(body) > largest:
        return _too_large(largest)
    request.body = body
    return None


def _too_large(largest: int) -> tuple[int, str]:
    return 413, (f"the request body is larger than this site accepts: at most {largest} bytes "
                 "(occistack.max_request_body_bytes)")


def refusal(request, json_faces: tuple[str, ...], status: int, message: str):
    """An error answer given before routing, in JSON on the faces that answer nothing else."""
    path = request.environ.get("PATH_INFO", "")
    if path.startswith(json_faces) or path + "/" in json_faces:
        request.environ["HTTP_ACCEPT"] = "application/json"
    return error_response(request, status, message)


_REPEATED_SLASHES = re.compile(r"//+")


def squeeze_repeated_slashes(environ) -> None:
    """Route ``/compute//<id>`` as ``/compute/<id>``. VMDIRAC joins its compute URL (which ends
    in '/') and an id with another '/', and IM joins its endpoint path and a link's ``self`` the
    same way; the Rails router under rOCCI-server squeezed such slashes, so those clients worked
    there. No location or id of ours has an empty segment, so nothing else can be meant."""
    path = environ.get("PATH_INFO", "")
    if "//" in path:
        environ["PATH_INFO"] = _REPEATED_SLASHES.sub("/", path)


def includeme(config) -> None:
    config.add_tween("occistack.api.occi.protocol.occi_protocol_tween_factory", under=INGRESS,
                     over=("pyramid_tm.tm_tween_factory", EXCVIEW))
