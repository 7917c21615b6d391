"""``occistack-agent``: the process on every host.

    occistack-agent -c /etc/occistack/agent.conf

Reads the configuration (hostagent/config.py), opens the drivers, registers with the
management server over HTTP(S), then heartbeats and long-polls its commands until SIGTERM or
SIGINT. A lost server is retried with backoff (Agent.run_forever); a bad configuration stops
the agent at once with a message that says what to fix.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from occistack import __version__
from occistack.drivers.base import DriverError, HostDrivers
from occistack.drivers.fake import FakeDrivers
from occistack.hostagent.agent import Agent
from occistack.hostagent.config import AgentConfig, ConfigError, load_config
from occistack.hostagent.protocol import HostFacts
from occistack.hostagent.transport import HttpTransport

log = logging.getLogger("occistack.agent")


def build_drivers(config: AgentConfig):
    """The drivers the configuration names."""
    if config.drivers.compute == "fake":
        return FakeDrivers()
    from occistack.hostagent.wiring import libvirt_host_drivers

    return libvirt_host_drivers(config.drivers)


def host_facts(drivers: HostDrivers) -> HostFacts:
    """What registration reports: the hypervisor's own view where the compute driver has one
    (ComputeDriver.host_facts), else what this operating system says."""
    try:
        facts = drivers.compute.host_facts()
    except DriverError:
        facts = None
    if facts is not None:
        if isinstance(facts, HostFacts):
            return facts
        return HostFacts(**{**facts, "agent_version": __version__})
    return HostFacts(cpu_sockets=1, cpu_cores=os.cpu_count() or 1, cpu_mhz=_cpu_mhz(), memory_mib=_memory_mib(),
                     hypervisor="simulated", hypervisor_version=None, agent_version=__version__)


def _memory_mib() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 1024


def _cpu_mhz() -> int:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":")[1]))
    except (OSError, ValueError):
        pass
    return 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="occistack-agent", description="The occistack host agent.")
    parser.add_argument("-c", "--config", default="/etc/occistack/agent.conf", help="the configuration file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(arguments.config)
    except ConfigError as error:
        print(f"occistack-agent: {error}", file=sys.stderr)
        return 2
    drivers = build_drivers(config)
    agent = Agent(config.host, config.token, host_facts(drivers), drivers,
                  HttpTransport(config.server, config.token, config.tls))
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    log.info("agent for host %s, management server %s", config.host, config.server)
    agent.run_forever(stop)
    log.info("agent for host %s stopped", config.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
