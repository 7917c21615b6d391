"""Who may read the monitoring face.

``/healthz`` is open to every caller: a load balancer has no credentials, and the answer holds
only counts and ages (plane/admin/health.py says what it leaves out). ``/metrics`` names zones
and operations and shows the cloud's size and load, so it is the admin role's -- or, for a
Prometheus server that should not hold an administrator's password, any caller that presents
the site's metrics token (``Authorization: Bearer <token>``, ``occistack.metrics.token`` or
``occistack.metrics.token_file``) or connects from one of ``occistack.metrics.allowed_networks``
(the address of the TCP peer: behind a proxy, that is the proxy's).

Both views carry a permission, as every view does; the route contexts' ACLs grant it.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from pyramid.authorization import DENY_ALL, Allow, Everyone
from pyramid.exceptions import ConfigurationError

#: The permissions of the two views.
HEALTH = "health"
METRICS = "metrics"
ADMIN_ROLE_PRINCIPAL = "role:admin"
JSON = "application/json"
#: Where the registry keeps the site's MetricsAccess.
METRICS_ACCESS = "occistack.metrics_access"


@dataclass(frozen=True)
class MetricsAccess:
    token: str | None = None
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_ini(cls, settings) -> MetricsAccess:
        token = (settings.get("occistack.metrics.token") or "").strip() or None
        token_file = (settings.get("occistack.metrics.token_file") or "").strip()
        if token_file:
            if token is not None:
                raise ConfigurationError("set occistack.metrics.token or occistack.metrics.token_file, not both")
            try:
                token = Path(token_file).read_text().strip() or None
            except OSError as error:
                raise ConfigurationError(f"occistack.metrics.token_file = {token_file}: {error.strerror}") from None
            if token is None:
                raise ConfigurationError(f"occistack.metrics.token_file = {token_file} is empty")
        networks = []
        for text in (settings.get("occistack.metrics.allowed_networks") or "").split():
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ConfigurationError(f"occistack.metrics.allowed_networks: {text!r} is not an address or "
                                         "network (e.g. 10.0.0.0/8 or ::1)") from None
        return cls(token, tuple(networks))

    def admits(self, request) -> bool:
        """True when the request presents the metrics token or comes from an allowed network."""
        if self.token is not None:
            scheme, _, presented = request.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self.token.encode()):
                return True
        if self.networks:
            try:
                peer = ipaddress.ip_address(request.environ.get("REMOTE_ADDR", ""))
            except ValueError:
                return False
            return any(peer in network for network in self.networks)
        return False


class HealthContext:
    __acl__ = [(Allow, Everyone, HEALTH)]

    def __init__(self, request):
        self.request = request


def health_context(request) -> HealthContext:
    request.environ["HTTP_ACCEPT"] = JSON  # refusals (a wrong method) in JSON too
    # Nobody is asked who they are: a balancer's probe must not cost a password hash, nor fail
    # because the database behind the credentials is down.
    request.environ["occistack.identity"] = None
    return HealthContext(request)


class MetricsContext:
    def __init__(self, request, admitted: bool):
        self.request = request
        # Admitted by token or network: anyone; otherwise only an administrator's identity.
        self.__acl__ = [(Allow, Everyone, METRICS)] if admitted else [(Allow, ADMIN_ROLE_PRINCIPAL, METRICS),
                                                                      DENY_ALL]


def metrics_context(request) -> MetricsContext:
    admitted = request.registry[METRICS_ACCESS].admits(request)
    if admitted:
        # The token is the site's, not a user's OIDC token: no identity source may try it.
        request.environ["occistack.identity"] = None
    else:
        # Refusals in JSON; a successful scrape answers in Prometheus' text format regardless.
        request.environ["HTTP_ACCEPT"] = JSON
    return MetricsContext(request, admitted)


def includeme(config) -> None:
    config.registry[METRICS_ACCESS] = MetricsAccess.from_ini(config.get_settings())
