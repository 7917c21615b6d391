"""The monitoring face: ``/healthz`` for load balancers and ``/metrics`` for Prometheus.

``access.py`` decides who may read each (health: anyone; metrics: the admin role, a configured
token or allowed networks), ``health.py`` renders the plane's health checks as JSON with 200 or
503, ``metrics.py`` renders the cloud's figures and this process's request counts in the
Prometheus text format, and ``requests.py`` is the tween that counts every request of every
face. docs/monitoring.md is the administrator's side of it.
"""

MODULES = (".access", ".requests", ".health", ".metrics")


def includeme(config) -> None:
    for module in MODULES:
        config.include(module)
