"""Host agents inside the management server's process: the embedded default and the tests.

They are real :class:`~occistack.hostagent.agent.Agent` objects on (fake or test-driver)
drivers, and they speak the real protocol: every message is encoded to JSON and decoded again
on its way through :class:`LocalChannel`, which hands it to the gateway in a transaction of
its own -- what the HTTP channel of a remote agent does. Only the wire is missing.

Their tokens: at start the launcher gives each of its hosts a fresh random token (the hash in
the database, the token in memory), so no development secret is written anywhere.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..hostagent.agent import Agent
from ..hostagent.protocol import HostFacts, decode, encode
from ..model import BARE_METAL, Host
from . import gateway
from .agent_channel import AgentChannel
from .wakeups import Notifier

log = logging.getLogger(__name__)


class LocalChannel(AgentChannel):
    """The transport of in-process agents: the server's channel, with every message and its
    reply passed through JSON as they would cross a socket."""

    def __call__(self, message):
        return decode(encode(self.handle(decode(encode(message)))))


@dataclass
class LocalAgents:
    """The in-process agents of some hosts, and (optionally) their threads."""

    agents: list[Agent]
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def run_once(self) -> int:
        """Let every agent handle what is pending for it now; how many commands ran."""
        return sum(agent.run_once() for agent in self.agents)

    def heartbeat(self) -> None:
        for agent in self.agents:
            agent.heartbeat()

    def start(self) -> None:
        for agent in self.agents:
            thread = threading.Thread(target=agent.run_forever, args=(self._stop,), daemon=True,
                                      name=f"agent-{agent.host_name}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def launch_local_agents(session_factory: sessionmaker[Session], host_names: list[str], drivers_for,
                        settings: gateway.GatewaySettings, commands: Notifier | None = None,
                        advance=None) -> LocalAgents:
    """Agents for the named hosts (every host of the database when the list is ["*"]),
    registered. ``drivers_for(host_name)`` gives each its drivers. A simulated host reports
    the capacity its administrator declared for it. Bare-metal nodes run no agent: "*" leaves
    them out, and naming one is a mistake."""
    with session_factory() as session, session.begin():
        statement = select(Host).order_by(Host.id)
        if host_names != ["*"]:
            statement = statement.where(Host.name.in_(host_names))
        hosts = session.scalars(statement).all()
        nodes = [host.name for host in hosts if host.hypervisor == BARE_METAL]
        if nodes and host_names != ["*"]:
            raise LookupError(f"in-process agents are configured for bare-metal nodes, which run no agent: "
                              f"{', '.join(nodes)}")
        hosts = [host for host in hosts if host.hypervisor != BARE_METAL]
        missing = set(host_names) - {host.name for host in hosts} - {"*"}
        if missing:
            raise LookupError(f"in-process agents are configured for hosts that do not exist: "
                              f"{', '.join(sorted(missing))}")
        tokens = {host.name: gateway.new_agent_token(host) for host in hosts}
        facts = {host.name: HostFacts(host.cpu_sockets, host.cpu_cores, host.cpu_mhz, host.memory_mib,
                                      host.hypervisor, "simulated", agent_version="in-process") for host in hosts}
    channel = LocalChannel(session_factory, settings, commands, advance)
    agents = [Agent(name, token, facts[name], drivers_for(name), channel) for name, token in tokens.items()]
    for agent in agents:
        agent.register()
    return LocalAgents(agents)
