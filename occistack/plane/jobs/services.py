"""What job handlers use besides their session, each with its own type.

Not PlaneServices (plane/context.py): a job step runs on no one's behalf, outside any request,
and needs the gateway's settings, which no use case does; the services the two share
(placement, the dispatcher, power, the sealer) are the same objects, built once by the
composition root.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from occistack.drivers.power.base import PowerDriver
from occistack.plane.agents.gateway import GatewaySettings
from occistack.plane.dispatch import Dispatcher
from occistack.plane.placement.service import PlacementService
from occistack.plane.sealing import Sealer


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
