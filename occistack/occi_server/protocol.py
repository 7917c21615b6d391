"""What every response carries and every request is checked for, before any view runs.

``Server`` names our OCCI versions (clients such as the ooi/EGI tooling read it), ``Accept``
lists the renderings we produce (rOCCI picks its media type from it), and a client that asks
for an OCCI version above ours gets 501 (GFD.223 §5.3).
"""

from __future__ import annotations

import logging
import re

from pyramid.tweens import EXCVIEW, INGRESS
from sqlalchemy.exc import OperationalError

from ..model.contention import describe_database_error

from .errors import error_response
from .negotiation import ACCEPT_HEADER, SERVER_HEADER, client_version_too_high

log = logging.getLogger(__name__)


def occi_protocol_tween_factory(handler, registry):
    def occi_protocol_tween(request):
        too_high = client_version_too_high(request.headers.get("User-Agent"))
        unusable = unusable_path(request.environ.get("PATH_INFO", ""))
        if too_high is not None:
            response = error_response(request, 501, f"this server implements OCCI 1.2 (and 1.1); the client asks "
                                                    f"for OCCI/{too_high}")
        elif unusable is not None:
            response = error_response(request, 400, unusable)
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
    config.add_tween("occistack.occi_server.protocol.occi_protocol_tween_factory", under=INGRESS,
                     over=("pyramid_tm.tm_tween_factory", EXCVIEW))
