"""``GET /metrics``: the cloud's figures and this server's requests in Prometheus' text format.

Two kinds of figures:

* what the database knows -- hosts by state, capacity per zone and resource, jobs by
  operation and state with their durations, agents' round trips -- read at scrape time by
  :class:`CloudCollector` with the plane's few aggregate queries (plane/admin/figures.py), so
  every process answers the same and a scrape costs the same however large the cloud;
* what only this process sees -- its requests by face, route, method and status, with their
  latencies (requests.py). With several server processes, set ``PROMETHEUS_MULTIPROC_DIR``
  (an empty directory, emptied again at each start, in the environment of the server before
  it starts) and each scrape adds up every process's counts; without it a scrape shows the
  counts of whichever process answered it.

Who may scrape is decided in access.py.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString
from pyramid.response import Response
from sqlalchemy.exc import SQLAlchemyError

from occistack.model.session import read_only_session
from occistack.plane.admin.cases import reports
from occistack.plane.admin.figures import CloudFigures, Durations
from occistack.plane.context import PlaneContext
from occistack.api.errors import not_allowed
from occistack.api.monitoring.access import METRICS
from occistack.api.monitoring.requests import PROCESS_REGISTRY
from occistack.api.orchestration import plane_services

log = logging.getLogger(__name__)
#: The text format every Prometheus server reads (the names here need none of 1.0.0's escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Where the registry keeps the registry of the cloud's figures.
CLOUD_REGISTRY = "occistack.metrics_cloud_registry"


class CloudCollector:
    """The database's figures, read at each scrape (one read-only session, a few queries)."""

    def __init__(self, engine, services):
        self.engine = engine
        self.services = services

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("occistack_database_up", "1 when the figures below could be read from the database")
        try:
            with read_only_session(self.engine) as session:
                figures = reports.cloud_figures(PlaneContext(session, None, self.services))
        except SQLAlchemyError as error:
            log.error("/metrics: the database could not be read: %s", error.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from cloud_metrics(figures)


def cloud_metrics(figures: CloudFigures) -> Iterator[Metric]:
    hosts = GaugeMetricFamily("occistack_hosts", "Hosts by zone, status (their agent's) and resource state (the "
                              "administrator's)", labels=("zone", "status", "resource_state"))
    silence = GaugeMetricFamily("occistack_host_agent_silence_seconds",
                                "The longest any host of the group has not been heard from (its last heartbeat); "
                                "hosts that never sent one are left out", labels=("zone", "status", "resource_state"))
    for group in figures.hosts:
        labels = (group.zone, group.status, group.resource_state)
        hosts.add_metric(labels, group.hosts)
        if group.oldest_heartbeat is not None:
            silence.add_metric(labels, max(0.0, (figures.measured_at - group.oldest_heartbeat).total_seconds()))
    yield hosts
    yield silence
    used = GaugeMetricFamily("occistack_capacity_used", "Capacity in use, per zone and resource (the unit is in the "
                             "resource's name), as the admin API's capacity report counts it", labels=("zone", "resource"))
    total = GaugeMetricFamily("occistack_capacity_total", "Capacity there is, per zone and resource (with overcommit "
                              "and overprovisioning), as the admin API's capacity report counts it",
                              labels=("zone", "resource"))
    for figure in figures.capacity:
        used.add_metric((figure.zone, figure.resource), figure.used)
        total.add_metric((figure.zone, figure.resource), figure.total)
    yield used
    yield total
    jobs = GaugeMetricFamily("occistack_jobs", "Jobs by operation and state, as the jobs table holds them",
                             labels=("operation", "state"))
    durations = HistogramMetricFamily("occistack_job_duration_seconds", "Finished jobs: from submission to their "
                                      "end, by operation and final state", labels=("operation", "state"))
    for group in figures.jobs:
        jobs.add_metric((group.operation, group.state), group.jobs)
        if group.durations is not None:
            durations.add_metric((group.operation, group.state), _buckets(group.durations),
                                 group.durations.total_seconds)
    yield jobs
    yield durations
    trips = HistogramMetricFamily("occistack_agent_command_round_trip_seconds", "Commands host agents carried out: "
                                  "from their delivery to the agent to its answer, by command",
                                  labels=("command",))
    for round_trips in figures.round_trips:
        trips.add_metric((round_trips.command,), _buckets(round_trips.durations), round_trips.durations.total_seconds)
    yield trips


def _buckets(durations: Durations) -> list[tuple[str, float]]:
    return [*((floatToGoString(bound), count) for bound, count in zip(durations.bounds, durations.at_most)),
            ("+Inf", durations.count)]


def exposition(registry) -> bytes:
    """Everything a scrape answers: this process's (or, in multi-process mode, every process's)
    requests, then the cloud's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = PROCESS_REGISTRY
    return generate_latest(processes) + generate_latest(registry[CLOUD_REGISTRY])


def metrics(request) -> Response:
    response = Response(body=exposition(request.registry))
    response.headers["Content-Type"] = CONTENT_TYPE
    response.headers["Cache-Control"] = "no-store"
    return response


def includeme(config) -> None:
    registry = config.registry
    cloud = CollectorRegistry(auto_describe=False)
    cloud.register(CloudCollector(registry["occistack.engine"], plane_services(registry)))
    registry[CLOUD_REGISTRY] = cloud
    config.add_view(metrics, route_name="metrics", request_method=("GET", "HEAD"), permission=METRICS)
    config.add_view(lambda request: not_allowed(request, ["GET", "HEAD"]), route_name="metrics", permission=METRICS)
