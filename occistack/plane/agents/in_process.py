"""Host agents inside the management server's process: the embedded default and the tests.

They are real :class:`~occistack.hostagent.agent.Agent` objects on (fake or test-driver)
drivers, and they speak the real protocol: every message is encoded to JSON and decoded again
on its way through :class:`LocalChannel`, which hands it to the gateway in a transaction of
its own -- what the HTTP channel of a remote agent does. Only the wire is missing.

Their tokens: at start the launcher gives each of its hosts a fresh random token (the hash in
the database, the token in memory), so no development secret is written anywhere.

Hosts come and go while the server runs (the admin API, or ``occistack host add`` in another
process): the plane watches the inventory generation and calls
:meth:`LocalAgents.follow_inventory`, which gives a new host its agent and takes a deleted
host's away.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from occistack.hostagent.agent import Agent
from occistack.hostagent.protocol import HostFacts, decode, encode
from occistack.model import BARE_METAL, Host, InventoryGeneration
from occistack.plane.agents import gateway
from occistack.plane.agents.channel import AgentChannel
from occistack.plane.wakeups import Notifier

log = logging.getLogger(__name__)


class LocalChannel(AgentChannel):
    """The transport of in-process agents: the server's channel, with every message and its
    reply passed through JSON as they would cross a socket."""

    def __call__(self, message):
        return decode(encode(self.handle(decode(encode(message)))))


class LocalAgents:
    """The in-process agents of some hosts (every host for ``["*"]``), and their threads once
    started. :meth:`follow_inventory` brings them in line with the hosts of the database: a
    host added while the server runs gets its agent at once, a deleted one loses it."""

    def __init__(self, session_factory: sessionmaker[Session], host_names: list[str], drivers_for,
                 channel: LocalChannel, forget_drivers=None) -> None:
        self.session_factory = session_factory
        self.host_names = host_names
        self.drivers_for = drivers_for
        #: ``forget_drivers(host_name)``: the host was deleted, its drivers can go.
        self.forget_drivers = forget_drivers
        self.channel = channel
        #: the inventory generation the agents were last brought in line with.
        self.generation: int | None = None
        self._agents: dict[int, Agent] = {}
        self._stops: dict[int, threading.Event] = {}
        self._threads: list[threading.Thread] = []
        self._started = False
        self._lock = threading.Lock()
        self._following = threading.Lock()  # one follow_inventory at a time

    @property
    def agents(self) -> list[Agent]:
        with self._lock:
            return list(self._agents.values())

    def run_once(self) -> int:
        """Let every agent handle what is pending for it now; how many commands ran."""
        return sum(agent.run_once() for agent in self.agents)

    def heartbeat(self) -> None:
        for agent in self.agents:
            agent.heartbeat()

    def start(self) -> None:
        with self._lock:
            self._started = True
            for host_id, agent in self._agents.items():
                self._start_thread(host_id, agent)

    def stop(self) -> None:
        with self._lock:
            self._started = False
            for stop in self._stops.values():
                stop.set()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=5)

    def follow_inventory_if_changed(self) -> tuple[list[str], list[str]]:
        """:meth:`follow_inventory` when the inventory changed since the last time (one cheap
        read otherwise): what the plane calls every few seconds."""
        with self.session_factory() as session:
            generation = session.scalar(select(InventoryGeneration.generation).where(InventoryGeneration.id == 1))
        if generation == self.generation:
            return [], []
        return self.follow_inventory()

    def follow_inventory(self, strict: bool = False) -> tuple[list[str], list[str]]:
        """Start agents for the matching hosts that have none, stop those of hosts that are
        gone; the names of both. ``strict``: a named host that does not exist, or is a
        bare-metal node, is a LookupError (a mistake in the settings, caught at start)."""
        with self._following:
            return self._follow_inventory(strict)

    def _follow_inventory(self, strict: bool) -> tuple[list[str], list[str]]:
        with self.session_factory() as session, session.begin():
            generation = session.scalar(select(InventoryGeneration.generation).where(InventoryGeneration.id == 1))
            statement = select(Host).order_by(Host.id)
            if self.host_names != ["*"]:
                statement = statement.where(Host.name.in_(self.host_names))
            hosts = session.scalars(statement).all()
            if strict:
                _check_named_hosts(self.host_names, hosts)
            hosts = [host for host in hosts if host.hypervisor != BARE_METAL]
            with self._lock:
                new = [host for host in hosts if host.id not in self._agents]
                gone = [host_id for host_id in self._agents if host_id not in {host.id for host in hosts}]
            # (id, name, token, facts) read in the transaction that stores the tokens' hashes
            new = [(host.id, host.name, gateway.new_agent_token(host),
                    HostFacts(host.cpu_sockets, host.cpu_cores, host.cpu_mhz, host.memory_mib, host.hypervisor,
                              "simulated", agent_version="in-process")) for host in new]
        started = []
        for host_id, name, token, facts in new:
            agent = Agent(name, token, facts, self.drivers_for(name), self.channel)
            agent.register()
            with self._lock:
                self._agents[host_id] = agent
                if self._started:
                    self._start_thread(host_id, agent)
            started.append(name)
        stopped = [self._stop_agent(host_id) for host_id in gone]
        self.generation = generation
        if started or stopped:
            log.info("in-process agents started for %s, stopped for %s",
                     ", ".join(started) or "no host", ", ".join(stopped) or "no host")
        return started, stopped

    def _start_thread(self, host_id: int, agent: Agent) -> None:
        stop = self._stops[host_id] = threading.Event()
        thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True,
                                  name=f"agent-{agent.host_name}")
        thread.start()
        self._threads.append(thread)

    def _stop_agent(self, host_id: int) -> str:
        """The agent of a deleted host: its thread ends after its current long poll."""
        with self._lock:
            agent = self._agents.pop(host_id)
            stop = self._stops.pop(host_id, None)
        if stop is not None:
            stop.set()
        if self.forget_drivers is not None:
            self.forget_drivers(agent.host_name)
        return agent.host_name


def _check_named_hosts(host_names: list[str], hosts: list[Host]) -> None:
    if host_names == ["*"]:
        return
    nodes = [host.name for host in hosts if host.hypervisor == BARE_METAL]
    if nodes:
        raise LookupError(f"in-process agents are configured for bare-metal nodes, which run no agent: "
                          f"{', '.join(nodes)}")
    missing = set(host_names) - {host.name for host in hosts}
    if missing:
        raise LookupError(f"in-process agents are configured for hosts that do not exist: "
                          f"{', '.join(sorted(missing))}")


def launch_local_agents(session_factory: sessionmaker[Session], host_names: list[str], drivers_for,
                        settings: gateway.GatewaySettings, commands: Notifier | None = None,
                        advance=None, forget_drivers=None, on_progress=None) -> LocalAgents:
    """Agents for the named hosts (every host of the database when the list is ["*"]),
    registered. ``drivers_for(host_name)`` gives each its drivers. A simulated host reports
    the capacity its administrator declared for it. Bare-metal nodes run no agent: "*" leaves
    them out, and naming one is a mistake."""
    channel = LocalChannel(session_factory, settings, commands, advance, on_progress)
    agents = LocalAgents(session_factory, host_names, drivers_for, channel, forget_drivers)
    agents.follow_inventory(strict=True)
    return agents
