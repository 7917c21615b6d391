"""Every request of every face, counted and timed for ``/metrics``: a tween at the very top
of the stack, so it sees the answers the other tweens give before routing (a body too large,
a path that is not UTF-8) and the error views' as well.

A request costs one histogram observation (a dictionary lookup for its labels and a few
additions); the labels are the face, the route's name -- never the path, whose ids would make
a series per entity -- the method and the status. A request answered before routing (the OCCI
query interface from its cache, a path refused as malformed) is counted under the route its
path would have taken, matched afterwards; under ``unmatched`` only if none would.

Under several processes (gunicorn's workers) each process counts its own requests; with
``PROMETHEUS_MULTIPROC_DIR`` set in the server's environment, prometheus_client keeps the
counts in files there and ``/metrics`` adds up every process's (docs/monitoring.md).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Histogram
from pyramid.interfaces import IRoutesMapper
from pyramid.tweens import INGRESS

#: The registry of what this process counts itself (the cloud's figures are read at scrape time).
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
#: Seconds: from a cached discovery answer (well under a millisecond) to an agent's long poll.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
REQUESTS = Histogram("occistack_http_request_duration_seconds",
                     "HTTP requests by face, route, method and status, and how long they took (the _count is "
                     "the number of requests)", ("face", "route", "method", "status"),
                     buckets=LATENCY_BUCKETS, registry=PROCESS_REGISTRY)
#: Route name prefixes → the face that serves them; any other route is OCCI's.
FACE_OF_ROUTE_PREFIX = (("admin_", "admin"), ("keystone_", "keystone"), ("agent_", "agents"),
                        ("healthz", "monitoring"), ("metrics", "monitoring"))
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def face_of(route_name: str | None) -> str:
    if route_name is None:
        return "none"
    for prefix, face in FACE_OF_ROUTE_PREFIX:
        if route_name.startswith(prefix):
            return face
    return "occi"


def request_metrics_tween_factory(handler, registry):
    series: dict[tuple[str | None, str, int], object] = {}
    mapper = registry.queryUtility(IRoutesMapper)

    def route_of(request):
        matched = getattr(request, "matched_route", None)
        if matched is None and mapper is not None:
            # A tween answered before routing: match now (the query interface is the first route,
            # so the hot case costs one pattern).
            try:
                matched = mapper(request)["route"]
            except Exception:  # noqa: BLE001 - a path routing cannot even read: unmatched
                return None
        return matched.name if matched is not None else None

    def observe(request, status: int, seconds: float) -> None:
        route = route_of(request)
        # A client may send any method name: those outside HTTP's usual few share one series.
        method = request.method if request.method in _METHODS else "other"
        key = (route, method, status)
        child = series.get(key)
        if child is None:
            child = series[key] = REQUESTS.labels(face_of(route), route or "unmatched", method, str(status))
        child.observe(seconds)

    def request_metrics_tween(request):
        started = time.perf_counter()
        try:
            response = handler(request)
        except BaseException:
            observe(request, 500, time.perf_counter() - started)
            raise
        observe(request, response.status_int, time.perf_counter() - started)
        return response

    return request_metrics_tween


def includeme(config) -> None:
    # Above every other tween, the OCCI protocol tween (also just under INGRESS) included: named
    # by its dotted name, so this face imports no other.
    config.add_tween("occistack.api.monitoring.requests.request_metrics_tween_factory", under=INGRESS,
                     over="occistack.api.occi.protocol.occi_protocol_tween_factory")
