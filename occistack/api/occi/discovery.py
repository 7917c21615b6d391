"""A fast path for the request every OCCI client sends first and most often: ``GET /-/``.

The query interface of a user changes only when the catalog does, and the discovery view
already keeps each user's rendering in the catalog cache. When that rendering is current and
the caller's credentials were verified a moment ago, the answer needs no database, no
transaction, no routing and no view lookup, which together cost several times what producing
the answer does (bench/http). This tween answers exactly those requests, with the bytes the
view cached; anything else -- a filter, a body, credentials to check, a catalog to revalidate,
an Accept header we cannot satisfy -- goes down the normal path, which fills the cache.
"""

from __future__ import annotations

from typing import Any

from pyramid.interfaces import ISecurityPolicy
from pyramid.tweens import EXCVIEW

from occistack.federation import Identity
from occistack.api.occi.contexts import READ, OCCIContext
from occistack.api.occi.negotiation import NotAcceptable, response_type
from occistack.api.occi.views.support import respond

QUERY_PATHS = frozenset(("/-/", "/.well-known/org/ogf/occi/-/"))
#: A filter on the query interface is a Category rendering in the headers or the body.
_FILTER_KEYS = ("HTTP_CATEGORY", "HTTP_LINK", "HTTP_X_OCCI_ATTRIBUTE", "HTTP_X_OCCI_LOCATION",
                "HTTP_TRANSFER_ENCODING")


def discovery_key(identity: Identity, media: str, filter_identifiers: tuple[str, ...]) -> tuple[Any, ...]:
    """Whose query interface, in which media type, filtered by which categories."""
    return identity.user_id, identity.project_id, media, filter_identifiers


def discovery_tween_factory(handler, registry):
    catalog = registry["occistack.catalog"]
    policy = registry.getUtility(ISecurityPolicy)

    def discovery_tween(request):
        environ = request.environ
        if (environ["REQUEST_METHOD"] in ("GET", "HEAD") and environ.get("PATH_INFO") in QUERY_PATHS
                and environ.get("CONTENT_LENGTH") in (None, "", "0")
                and not any(key in environ for key in _FILTER_KEYS)):
            identity = policy.cached_identity(request)
            if identity is not None and policy.permits(request, OCCIContext(request), READ):
                try:
                    media = response_type(environ.get("HTTP_ACCEPT"))
                except NotAcceptable:
                    return handler(request)  # the view answers 406 in its own words
                rendered = catalog.fresh_rendering(discovery_key(identity, media, ()))
                if rendered is not None:
                    return respond(request, rendered)
        return handler(request)

    return discovery_tween


def includeme(config) -> None:
    # Below the protocol tween (which adds Server and Accept to every answer), above the
    # transaction: a cached answer opens none.
    config.add_tween("occistack.api.occi.discovery.discovery_tween_factory",
                     under="occistack.api.occi.protocol.occi_protocol_tween_factory",
                     over=("pyramid_tm.tm_tween_factory", EXCVIEW))
