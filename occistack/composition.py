"""The composition root: where settings become the objects one process runs.

Every process of occistack builds its part of the management plane here and nowhere else --
the server (api/orchestration.py registers what :func:`compose_server` builds and starts it
once Pyramid has made the application), ``occistack worker`` (:func:`compose_worker`) and
``occistack simulated-hosts`` (:func:`compose_simulated_hosts`). So the choices a site makes in
its ini file -- which drivers in-process agents drive, whether a worker runs in the server, how
HA reaches BMCs, which key seals secrets -- are read in one module, and the plane's own modules
(plane/runtime.py, plane/agents/in_process.py) only run what they are handed.

It sits above the plane and the drivers (it imports both) and below the faces (which import it):
it is not a face, so it is not under api/, and not a rule of the plane, so not under plane/.

Settings (``[app:main]``):

* ``occistack.worker`` -- ``thread`` (a job worker in a thread of the server; the embedded
  default) or ``none`` (workers are ``occistack worker`` processes; production);
* ``occistack.agents.inprocess`` -- host names whose agents run inside the server, ``*`` for
  every host, empty for none (production hosts run ``occistack-agent``);
* ``occistack.drivers`` -- what in-process agents drive: ``fake`` (in memory) or
  ``libvirt-test`` (libvirt's test driver, one simulated node per host);
  ``occistack.simulated_hosts.directory`` -- where ``libvirt-test`` hosts keep their nodes
  across restarts (one directory per host; unset: a temporary directory, forgotten at exit);
* ``occistack.agents.inprocess_check_seconds`` (1) -- how often in-process agents are
  started for hosts added since (and stopped for deleted ones);
* ``occistack.power`` -- how HA fences hosts through their BMCs: ``ipmi`` (the default),
  ``fake`` (simulated BMCs, for the embedded default and tests) or ``none`` (no HA);
  ``occistack.power.timeout_seconds`` (20) bounds each exchange with a BMC;
* ``occistack.secret_key`` or ``occistack.secret_key_file`` -- the key that seals BMC
  passwords (plane/sealing.py);
* ``occistack.placement.strategy`` (``first_fit`` or ``dispersing``),
  ``occistack.placement.capacity_threshold`` (0.85).

Tests may hand one set of drivers to every in-process agent with the setting
``occistack.driver_instances`` (an object, not text).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from occistack.drivers.base import HostDrivers
from occistack.drivers.fake import FakeDrivers
from occistack.drivers.power.base import PowerDriver
from occistack.drivers.simulated_host import SimulatedHosts
from occistack.plane.agents.in_process import LocalAgents, launch_local_agents
from occistack.plane.admin.users import password_min_length_of
from occistack.plane.context import PlaneServices
from occistack.plane.jobs.handlers import report_progress
from occistack.plane.limits import SiteLimits
from occistack.plane.revocations import RevocationFeed
from occistack.plane.runtime import ManagementPlane, PlaneSettings
from occistack.plane.sealing import Sealer, sealer_from_settings
from occistack.plane.wakeups import Notifier, wake_agents_after_commit

# --- what in-process agents drive ------------------------------------------------------------

#: What in-process agents can drive (``occistack.drivers``).
IN_PROCESS_DRIVERS = ("fake", "libvirt-test")


@dataclass
class InProcessDrivers:
    """The drivers of the hosts whose agents run in this process: one set per host (each
    simulated host its own hypervisor), made when its agent starts and let go when the host is
    deleted -- or one ``shared`` set for every host, which a test hands in to look inside."""

    kind: str = "fake"
    shared: HostDrivers | None = None
    #: where ``libvirt-test`` hosts keep their nodes (None: a temporary directory).
    state_directory: str | None = None
    #: host name → its drivers, for the hosts that have an agent here.
    per_host: dict[str, HostDrivers] = field(default_factory=dict)
    simulated: SimulatedHosts | None = None

    def __post_init__(self) -> None:
        if self.kind not in IN_PROCESS_DRIVERS:
            raise ValueError(f"occistack.drivers = {self.kind!r}; accepted: {', '.join(IN_PROCESS_DRIVERS)}")
        if self.kind == "libvirt-test" and self.shared is None:
            self.simulated = SimulatedHosts(state_directory=self.state_directory)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> InProcessDrivers:
        return cls(settings.get("occistack.drivers", "fake"), settings.get("occistack.driver_instances"),
                   settings.get("occistack.simulated_hosts.directory") or None)

    def drivers_for(self, host_name: str) -> HostDrivers:
        if self.shared is not None:
            return self.shared
        if host_name not in self.per_host:
            self.per_host[host_name] = (self.simulated.drivers(host_name) if self.simulated is not None
                                        else FakeDrivers())
        return self.per_host[host_name]

    def forget(self, host_name: str) -> None:
        """The host was deleted: its drivers (and its simulated node) go."""
        drivers = self.per_host.pop(host_name, None)
        if self.simulated is not None:
            self.simulated.forget(host_name, drivers)

    @property
    def by_host(self):
        """What tests look into: the shared set, or host name → drivers."""
        return self.shared if self.shared is not None else self.per_host

    def close(self) -> None:
        """Save the simulated nodes one last time (or remove their temporary directory)."""
        if self.simulated is not None:
            self.simulated.close()


# --- how HA reaches BMCs ---------------------------------------------------------------------

#: How HA fences hosts (``occistack.power``).
POWER_DRIVERS = ("ipmi", "fake", "none")


def power_driver(kind: str, timeout_seconds: float = 20.0) -> PowerDriver | None:
    """The power driver HA fences hosts with, by its setting's name (None for ``none``);
    ``timeout_seconds`` bounds each exchange with a BMC (an unanswered one is "unreachable")."""
    if kind == "none":
        return None
    if kind == "fake":
        from occistack.drivers.power.fake import FakePowerDriver

        return FakePowerDriver()
    if kind == "ipmi":
        # Imported only when chosen: a site without BMCs does not need pyghmi's import cost.
        from occistack.drivers.power.ipmi import IpmiPowerDriver

        return IpmiPowerDriver(timeout=timeout_seconds)
    raise ValueError(f"occistack.power = {kind!r} is not a power driver; accepted: {', '.join(POWER_DRIVERS)}")


def power_driver_from_settings(settings: Mapping[str, Any]) -> PowerDriver | None:
    """The power driver that ``occistack.power`` and ``occistack.power.timeout_seconds`` name."""
    return power_driver(settings.get("occistack.power", "ipmi"),
                        float(settings.get("occistack.power.timeout_seconds", 20)))


# --- the server's plane ------------------------------------------------------------------------

class ServerPlane:
    """The plane of one management server, assembled but not running: its services for the
    use cases, and -- in the embedded default -- a worker and in-process agents, which
    :meth:`start` sets going (the server calls it once the application exists, never while it
    is being configured) and :meth:`stop` ends."""

    def __init__(self, plane: ManagementPlane, services: PlaneServices, sealer: Sealer,
                 drivers: InProcessDrivers, revocations: RevocationFeed) -> None:
        self.plane = plane
        self.services = services
        self.sealer = sealer
        self.drivers = drivers
        #: credentials revoked by any process, for the server's memory of verified ones.
        self.revocations = revocations
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the background threads (worker, agents), once; they are stopped at exit."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self.plane.start()
        self.revocations.start()
        atexit.register(self.stop)

    @property
    def started(self) -> bool:
        return self._started

    def stop(self) -> None:
        """Stop the threads; idempotent (a test stops it, then the process exits)."""
        self.revocations.stop()
        self.plane.stop()


def compose_server(settings: Mapping[str, Any], session_factory: sessionmaker[Session]) -> ServerPlane:
    """The server's plane as ``settings`` ask for it (see this module's documentation)."""
    drivers = InProcessDrivers.from_settings(settings)
    if drivers.simulated is not None:
        # Registered before the plane's stop (at start), so it runs after it: atexit runs last first.
        atexit.register(drivers.close)
    sealer = sealer_from_settings(settings)
    plane = ManagementPlane(session_factory, PlaneSettings.from_ini(settings), drivers.drivers_for,
                            power=power_driver_from_settings(settings), sealer=sealer,
                            forget_drivers=None if drivers.shared is not None else drivers.forget)
    services = PlaneServices(dispatcher=plane.dispatcher, placement=plane.placement,
                             password_min_length=password_min_length_of(settings), sealer=sealer,
                             power=plane.services.power, limits=SiteLimits.from_ini(settings))
    return ServerPlane(plane, services, sealer, drivers, RevocationFeed(session_factory))


# --- the other processes -----------------------------------------------------------------------

def compose_worker(settings: Mapping[str, Any], session_factory: sessionmaker[Session]) -> ManagementPlane:
    """``occistack worker``'s plane: the queue, placement and HA of the settings, with no worker
    thread and no agents of its own (the command runs the workers itself)."""
    wanted = PlaneSettings.from_ini(settings)
    return ManagementPlane(session_factory, PlaneSettings(
        worker="none", placement_strategy=wanted.placement_strategy,
        capacity_threshold=wanted.capacity_threshold, gateway=wanted.gateway),
        power=power_driver_from_settings(settings), sealer=sealer_from_settings(settings))


def compose_simulated_hosts(settings: Mapping[str, Any], session_factory: sessionmaker[Session],
                            host_names: list[str]) -> LocalAgents:
    """``occistack simulated-hosts``' agents: one per named host (every host for ``["*"]``), on
    in-memory drivers whatever ``occistack.drivers`` says (simulated nodes belong to the server
    that keeps their directory), woken by commits in this process. Registered, not started;
    a LookupError names a host that does not exist or runs no agent."""
    commands = Notifier()
    wake_agents_after_commit(session_factory, commands)
    drivers = InProcessDrivers("fake")
    return launch_local_agents(session_factory, host_names, drivers.drivers_for,
                               PlaneSettings.from_ini(settings).gateway, commands, forget_drivers=drivers.forget,
                               on_progress=report_progress)
