"""What every response carries and every request is checked for, before any view runs.

``Server`` names our OCCI versions (clients such as the ooi/EGI tooling read it), ``Accept``
lists the renderings we produce (rOCCI picks its media type from it), and a client that asks
for an OCCI version above ours gets 501 (GFD.223 §5.3).
"""

from __future__ import annotations

import logging

from pyramid.tweens import EXCVIEW, INGRESS

from .errors import error_response
from .negotiation import ACCEPT_HEADER, SERVER_HEADER, client_version_too_high

log = logging.getLogger(__name__)


def occi_protocol_tween_factory(handler, registry):
    def occi_protocol_tween(request):
        too_high = client_version_too_high(request.headers.get("User-Agent"))
        if too_high is not None:
            response = error_response(request, 501, f"this server implements OCCI 1.2 (and 1.1); the client asks "
                                                    f"for OCCI/{too_high}")
        else:
            try:
                response = handler(request)
            except Exception:
                # Past the exception views: the transaction failed to commit. It was rolled back.
                log.exception("request failed after its view ran: %s %s", request.method, request.path_qs)
                response = error_response(request, 500, "the change could not be saved; nothing was changed")
        response.headers["Server"] = SERVER_HEADER
        response.headers["Accept"] = ACCEPT_HEADER
        return response

    return occi_protocol_tween


def includeme(config) -> None:
    config.add_tween("occistack.occi_server.protocol.occi_protocol_tween_factory", under=INGRESS,
                     over=("pyramid_tm.tm_tween_factory", EXCVIEW))
