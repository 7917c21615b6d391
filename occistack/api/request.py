"""The request class: the request methods of every include, folded into one class at start-up.

``config.add_request_method(..., reify=True)`` is how each include adds what it offers a
request (pyramid_tm its ``tm``, ours ``dbsession``, ``occi_registry``, ``caller``). Pyramid
applies such properties by creating a new subclass of the request for every request, which
costs about 25 microseconds -- on a cached ``GET /-/`` more than the view itself. Once the
configuration is complete the set of extensions is fixed, so it is folded here into one
subclass made once, registered as the request factory, and the per-request step is dropped.
"""

from __future__ import annotations

from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request


def fold_request_extensions(registry) -> None:
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None:
        return
    base = registry.queryUtility(IRequestFactory, default=Request)
    attributes = {**extensions.methods, **extensions.descriptors, "__module__": __name__}
    folded = type("OCCIRequest", (base,), attributes)
    registry.registerUtility(folded, IRequestFactory)
    registry.unregisterUtility(extensions, IRequestExtensions)
