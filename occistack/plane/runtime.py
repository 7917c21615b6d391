"""The management plane of one process at run time: job queue, placement, worker, agents.

It runs what it is handed; which drivers, which power driver, which key are chosen from the
settings by the composition root (occistack/composition.py). The server builds one for its
requests (a dispatcher that writes jobs, a placement service); the embedded default also runs a
worker and in-process agents in threads of the server; ``occistack worker`` runs only the
worker; tests run worker and agents step by step with :meth:`ManagementPlane.settle`, so a test
sees the outcome of its request deterministically.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from occistack.plane.agents.channel import AgentChannel
from occistack.plane.agents.gateway import GatewaySettings
from occistack.plane.jobs.handlers import report_progress
from occistack.plane.jobs.queue import JobDispatcher
from occistack.plane.agents.in_process import LocalAgents, launch_local_agents
from occistack.plane.placement.service import PlacementService
from occistack.plane.tunables import Tunables
from occistack.plane.wakeups import Notifier, wake_agents_after_commit, wake_every_agent, wake_workers_after_commit
from occistack.plane.jobs.worker import ManagementServices, Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaneSettings:
    #: "thread": a worker in a thread of this process; "none": workers run elsewhere (or a
    #: test drives them with settle()).
    worker: str = "thread"
    #: hosts whose agents run in this process ("*" for every host), on ``drivers_for``.
    local_agent_hosts: tuple[str, ...] = ()
    placement_strategy: str = "first_fit"
    capacity_threshold: float = 0.85
    topology_revalidate_seconds: float = 5.0
    #: how often (seconds) the in-process agents are brought in line with the hosts added or
    #: deleted since, by this process or another (the CLI).
    local_agents_check_seconds: float = 1.0
    gateway: GatewaySettings = GatewaySettings()

    @classmethod
    def from_ini(cls, settings) -> PlaneSettings:
        """From the ``[app:main]`` settings (see occistack/composition.py for their names)."""
        return cls(
            worker=settings.get("occistack.worker", "thread"),
            local_agent_hosts=tuple(settings.get("occistack.agents.inprocess", "").split()),
            placement_strategy=settings.get("occistack.placement.strategy", "first_fit"),
            capacity_threshold=float(settings.get("occistack.placement.capacity_threshold", 0.85)),
            topology_revalidate_seconds=float(settings.get("occistack.placement.revalidate_seconds", 5)),
            local_agents_check_seconds=float(settings.get("occistack.agents.inprocess_check_seconds", 1)),
            gateway=GatewaySettings(
                heartbeat_seconds=float(settings.get("occistack.agents.heartbeat_seconds", 10)),
                disconnected_after=float(settings.get("occistack.agents.disconnected_after", 30)),
                alert_after=float(settings.get("occistack.agents.alert_after", 90)),
            ),
        )

    def tunable_defaults(self) -> dict[str, str]:
        """The ini settings of the global settings these settings hold, as text: the defaults
        of a plane built from these settings alone (tests, benchmarks)."""
        return {"occistack.placement.capacity_threshold": str(self.capacity_threshold),
                "occistack.agents.disconnected_after": str(self.gateway.disconnected_after),
                "occistack.agents.alert_after": str(self.gateway.alert_after),
                "occistack.ha.fence_retry_seconds": str(self.gateway.fence_retry_seconds)}


class ManagementPlane:
    def __init__(self, session_factory: sessionmaker[Session], settings: PlaneSettings, drivers_for=None,
                 power=None, sealer=None, forget_drivers=None, tunables: Tunables | None = None):
        """``power`` (a drivers.power PowerDriver) and ``sealer`` enable HA: without them hosts
        that stop answering are never fenced, so their VMs are never restarted elsewhere.
        ``drivers_for(host_name)`` gives an in-process agent its drivers, ``forget_drivers(host_name)``
        is told when that host was deleted. ``tunables``: the global settings as the whole ini
        file gives their defaults (by default, those ``settings`` hold)."""
        self.session_factory = session_factory
        self.settings = settings
        self.jobs_notifier = Notifier()
        self.commands_notifier = Notifier()
        wake_workers_after_commit(session_factory, self.jobs_notifier)
        wake_agents_after_commit(session_factory, self.commands_notifier)
        self.tunables = tunables if tunables is not None else Tunables(settings.tunable_defaults())
        self.tunables.attach(session_factory)
        self.dispatcher = JobDispatcher(self.jobs_notifier, tunables=self.tunables)
        self.placement = PlacementService(settings.topology_revalidate_seconds, settings.placement_strategy,
                                          settings.capacity_threshold, tunables=self.tunables)
        self.placement.attach(session_factory)
        self.services = ManagementServices(self.placement, settings.gateway, power=power, sealer=sealer,
                                           dispatcher=self.dispatcher, tunables=self.tunables)
        self.worker = Worker(session_factory, self.services, notifier=self.jobs_notifier)
        #: where remote agents' messages go (the HTTP view hands them over).
        self.channel = AgentChannel(session_factory, settings.gateway, self.commands_notifier,
                                    advance=self.worker.continue_answered, on_progress=report_progress)
        self.agents: LocalAgents | None = None
        if settings.local_agent_hosts:
            if drivers_for is None:
                raise ValueError("in-process agents need drivers")
            self.agents = launch_local_agents(session_factory, list(settings.local_agent_hosts), drivers_for,
                                              settings.gateway, self.commands_notifier,
                                              advance=self.worker.continue_answered, forget_drivers=forget_drivers,
                                              on_progress=report_progress)
        self._stop = threading.Event()
        self._worker_thread: threading.Thread | None = None
        self._inventory_thread: threading.Thread | None = None
        self._settled_at = (-1, -1)

    def start(self) -> None:
        """Start what runs in this process's background: the worker thread, the agents."""
        if self.settings.worker == "thread" and self._worker_thread is None:
            self._worker_thread = threading.Thread(target=self.worker.run_forever, args=(self._stop,),
                                                   daemon=True, name="occistack-worker")
            self._worker_thread.start()
        if self.agents is not None and self.settings.worker == "thread" and self._inventory_thread is None:
            self.agents.start()
            self._inventory_thread = threading.Thread(target=self._follow_inventory, daemon=True,
                                                      name="occistack-local-agents")
            self._inventory_thread.start()

    def _follow_inventory(self) -> None:
        """Hosts added while the server runs get their in-process agent within a few seconds;
        deleted ones lose it."""
        while not self._stop.wait(self.settings.local_agents_check_seconds):
            try:
                self.agents.follow_inventory_if_changed()
            except Exception:  # noqa: BLE001 - a database hiccup: the next round tries again
                log.exception("could not bring the in-process agents in line with the hosts; trying again")

    def stop(self) -> None:
        """Stop what runs in the background; once (the server also calls it at exit)."""
        if self._stop.is_set():
            return
        self._stop.set()
        # Long polls (of in-process agents, and of remote ones served here) end now, not at
        # their timeout: the notifier wakes those waiting in this process, the broadcast
        # those waiting on PostgreSQL.
        self.commands_notifier.close()
        wake_every_agent(self.session_factory.kw["bind"])
        if self._inventory_thread is not None:
            self._inventory_thread.join(timeout=10)
        if self.agents is not None:
            self.agents.stop()
        if self._worker_thread is not None:
            self._worker_thread.join(timeout=10)

    def settle(self, rounds: int = 10_000) -> int:
        """Run job steps and agent commands until nothing is left to do; how many ran. For
        tests and benchmarks that drive the plane without threads. It looks only when a
        commit since the last settle queued jobs or commands (the notifiers say so), so a
        request that queued nothing costs nothing here."""
        seen = (self.jobs_notifier.generation, self.commands_notifier.generation)
        if seen == self._settled_at:
            return 0
        done = 0
        for _ in range(rounds):
            progressed = self.worker.drain()
            if self.agents is not None:
                progressed += self.agents.run_once()
            if not progressed:
                self._settled_at = (self.jobs_notifier.generation, self.commands_notifier.generation)
                return done
            done += progressed
        raise RuntimeError("the management plane did not settle: jobs keep producing work")

