"""What every use case is given: one :class:`PlaneContext` -- the session, the caller, and the
plane's services, each with its own type.

Faces build a context per request (``request.plane`` in the HTTP faces, one per command in the
CLI) and pass it, with a frozen request dataclass, to a use case. The services are made once, by
the composition root, and shared; the context only pairs them with this request's session and
caller. A use case never reaches for a registry or a setting by name: what it may use is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from occistack.drivers.power.base import PowerDriver
from occistack.model import utcnow
from occistack.plane.caller import Caller
from occistack.plane.dispatch import Dispatcher, OnBehalfOf
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.sealing import Sealer
from occistack.plane.tunables import Tunables


@dataclass(frozen=True)
class PlaneServices:
    """The long-lived services of one process's plane, built once by the composition root."""

    dispatcher: Dispatcher
    placement: PlacementService
    #: the shortest password a user may be given (``occistack.password_min_length``).
    password_min_length: int
    #: opens and seals secrets kept in the database (BMC passwords); None where no key is set.
    sealer: Sealer | None = None
    #: the BMCs' power driver that HA fences with; None where no HA runs.
    power: PowerDriver | None = None
    #: the site's limits (NICs per compute, default quotas, request sizes).
    limits: SiteLimits = field(default_factory=SiteLimits)
    #: "now", as the plane sees it: tests may hand in a clock they move themselves.
    clock: Callable[[], datetime] = utcnow
    #: the global settings (their ini defaults, and the values changed at run time).
    tunables: Tunables = field(default_factory=Tunables)


@dataclass(frozen=True)
class PlaneContext:
    """One use case's world: where it reads and writes, on whose behalf, and with what."""

    session: Session
    caller: Caller | None
    services: PlaneServices
    #: who acts when no user of the cloud does, as the event log names them: the operator at
    #: the command line ("cli:alice"). None with no caller: the plane itself ("system").
    operator: str | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        """The plane's dispatcher, with this context's caller named on every job it submits."""
        if self.caller is None:
            return self.services.dispatcher
        return OnBehalfOf(self.services.dispatcher, self.caller)

    @property
    def placement(self) -> PlacementService:
        return self.services.placement

    @property
    def limits(self) -> SiteLimits:
        return self.services.limits

    def now(self) -> datetime:
        return self.services.clock()

    def acting_as(self, caller: Caller | None) -> PlaneContext:
        """The same context on behalf of another caller (an admin acting in a project, say)."""
        return replace(self, caller=caller)
