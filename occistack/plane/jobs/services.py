"""What job handlers use besides their session, each with its own type.

Not PlaneServices (plane/context.py): a job step runs on no one's behalf, outside any request,
and needs the gateway's settings, which no use case does; the services the two share
(placement, the dispatcher, power, the sealer) are the same objects, built once by the
composition root.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from occistack.drivers.power.base import PowerDriver
from occistack.plane.agents.gateway import GatewaySettings
from occistack.plane.dispatch import Dispatcher
from occistack.plane.placement.service import PlacementService
from occistack.plane.sealing import Sealer
from occistack.plane.tunables import BY_NAME, Tunables


@dataclass
class ManagementServices:
    """Placement (handlers release and move reservations), the gateway's settings (the worker
    sweeps hosts with them) and HA's fencing: the BMCs' power driver, the sealer that opens
    their passwords, and the dispatcher that submits the restarts (None where no HA runs)."""

    placement: PlacementService
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    power: PowerDriver | None = None
    sealer: Sealer | None = None
    dispatcher: Dispatcher | None = None
    #: the global settings; the sweep's timings come from them when given.
    tunables: Tunables | None = None

    def gateway_now(self, session) -> GatewaySettings:
        """The gateway's settings with the timings an administrator may change at run time
        (``agents.*``, ``ha.fence_retry_seconds``) as they are now."""
        if self.tunables is None:
            return self.gateway
        value = self.tunables.value
        return replace(self.gateway, disconnected_after=value(session, "agents.disconnected_after"),
                       alert_after=value(session, "agents.alert_after"),
                       fence_retry_seconds=value(session, "ha.fence_retry_seconds"))

    def capacity_alert_threshold(self, session) -> float:
        """The fraction of a zone's capacity above which the sweep raises a zone.capacity alert."""
        if self.tunables is None:
            return BY_NAME["alerts.capacity_threshold"].default
        return float(self.tunables.value(session, "alerts.capacity_threshold"))
