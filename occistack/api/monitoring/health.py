"""``GET /healthz``: the plane's health checks as JSON, 200 when this server should stay in a
load balancer's pool and 503 when a required check fails.

Settings (``[app:main]``, docs/monitoring.md):

* ``occistack.health.required`` (``database workers``) -- the checks whose failure makes the
  answer 503, among ``database workers agents secondary_storage``;
* ``occistack.health.worker_seconds`` (30) -- a job worker seen within this long is alive
  (workers beat every 5 seconds);
* ``occistack.health.agent_seconds`` (``occistack.agents.disconnected_after``, 30) -- a host
  agent not heard from within this long is silent;
* ``occistack.health.timeout_seconds`` (2) -- the longest a query of the checks may take.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

from pyramid.exceptions import ConfigurationError
from pyramid.response import Response

from occistack.model import utcnow
from occistack.model.session import read_only_session
from occistack.plane.admin.cases import reports
from occistack.plane.admin.health import CHECKS, DEFAULT_REQUIRED, HealthQuestion
from occistack.api.errors import not_allowed
from occistack.api.monitoring.access import HEALTH

#: Where the registry keeps the site's HealthSettings.
HEALTH_SETTINGS = "occistack.health_settings"


@dataclass(frozen=True)
class HealthSettings:
    required: tuple[str, ...] = DEFAULT_REQUIRED
    worker_seconds: float = 30.0
    agent_seconds: float = 30.0
    timeout_seconds: float = 2.0

    @classmethod
    def from_ini(cls, settings) -> HealthSettings:
        required = tuple((settings.get("occistack.health.required") or " ".join(DEFAULT_REQUIRED)).split())
        unknown = [name for name in required if name not in CHECKS]
        if unknown:
            raise ConfigurationError(f"occistack.health.required names {', '.join(unknown)}; the checks are: "
                                     f"{', '.join(CHECKS)}")
        return cls(required=required,
                   worker_seconds=_positive(settings, "occistack.health.worker_seconds", 30),
                   agent_seconds=_positive(settings, "occistack.health.agent_seconds",
                                           float(settings.get("occistack.agents.disconnected_after", 30))),
                   timeout_seconds=_positive(settings, "occistack.health.timeout_seconds", 2))

    def question(self) -> HealthQuestion:
        return HealthQuestion(now=utcnow(), worker_seconds=self.worker_seconds, agent_seconds=self.agent_seconds,
                              required=self.required, timeout_seconds=self.timeout_seconds)


def _positive(settings, name: str, default: float) -> float:
    try:
        value = float(settings.get(name, default))
    except ValueError:
        value = -1
    if not value > 0:
        raise ConfigurationError(f"{name} = {settings.get(name)!r}; it is a number of seconds above 0")
    return value


def healthz(request) -> Response:
    engine = request.registry["occistack.engine"]
    report = reports.check_health(partial(read_only_session, engine), request.registry[HEALTH_SETTINGS].question())
    document = {"status": report.status,
                "checks": {check.name: {key: value for key, value in asdict(check).items() if key != "name"}
                           for check in report.checks}}
    response = Response(json_body=document, status=200 if report.healthy else 503)
    # Every probe must see the present, not a cache's copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def includeme(config) -> None:
    config.registry[HEALTH_SETTINGS] = HealthSettings.from_ini(config.get_settings())
    config.add_view(healthz, route_name="healthz", request_method=("GET", "HEAD"), permission=HEALTH)
    config.add_view(lambda request: not_allowed(request, ["GET", "HEAD"]), route_name="healthz", permission=HEALTH)
