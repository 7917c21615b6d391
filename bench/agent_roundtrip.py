"""Benchmark: a command's round trip, management server → remote agent → answer, over loopback.

Run from the repository root: ``.venv/bin/python -m bench.agent_roundtrip`` (PostgreSQL at
127.0.0.1:5432, or ``OCCISTACK_TEST_PG``).

The server runs under waitress on a loopback port with the production arrangement of the
channel (PostgreSQL; the agent long-polls over HTTP with keep-alive). One agent, on fake
drivers, waits in its long poll. Each round commits one command for its host (what a job step
does), and the clock stops when the agent's answer has been recorded by the server -- the
moment the job could take its next step. For scale, the same run times one bare message
round trip (a heartbeat) over the same connection.

Target: p50 under 50 ms.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

import transaction
from sqlalchemy import select
from waitress.server import create_server

from bench.common import close_app, percentile, result_line, scratch_database
from occistack.demo import seed_demo
from occistack.drivers.fake import FakeDrivers
from occistack.hostagent.agent import Agent
from occistack.hostagent.protocol import Answers, Heartbeat, HostFacts
from occistack.hostagent.transport import HttpTransport
from occistack.model import AgentCommand, Host, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane.agents import gateway
from occistack.plane import wakeups

ROUND_TRIPS = 100
TARGET_MS = 50.0
FACTS = HostFacts(cpu_sockets=2, cpu_cores=16, cpu_mhz=2400, memory_mib=65536, agent_version="bench")


class AnswerSignal:
    """The agent's transport, noting when the server has accepted an Answers message."""

    def __init__(self, transport: HttpTransport):
        self.transport = transport
        self.answered = threading.Event()

    def __call__(self, message):
        reply = self.transport(message)
        if isinstance(message, Answers):
            self.answered.set()
        return reply


def measure(url: str) -> tuple[list[float], list[float]]:
    from occistack.api.app import main

    engine = make_engine({"sqlalchemy.url": url})
    session_factory = make_session_factory(engine)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(session_factory, manager)
        seed_demo(session)
        host = session.scalar(select(Host).where(Host.name == "host1"))
        token = gateway.new_agent_token(host)
    app = main({}, **{"sqlalchemy.url": url, "occistack.worker": "none", "occistack.agents.inprocess": ""})
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    base = f"http://127.0.0.1:{server.effective_port}"
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    signal = AnswerSignal(HttpTransport(base, token))
    agent = Agent("host1", token, FACTS, FakeDrivers(), signal)
    agent.register()
    agent.poll_seconds = agent.heartbeat_seconds = 60.0  # nothing but the long poll in the way
    stop = threading.Event()
    polling = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
    polling.start()
    app_sessions = app.registry["occistack.session_factory"]
    round_trips, heartbeats = [], []
    probe = HttpTransport(base, token)
    try:
        for number in range(ROUND_TRIPS + 5):
            time.sleep(0.02)  # the agent is back in its long poll
            signal.answered.clear()
            started = time.perf_counter()
            with app_sessions() as session, session.begin():
                session.add(AgentCommand(host_id=agent.host_id, name="create_volume",
                                         payload={"name": f"bench-{number}", "size_gib": 1}))
                wakeups.mark_commands_written(session, agent.host_id)
            if not signal.answered.wait(10):
                raise SystemExit(f"command {number} was not answered within 10 s")
            elapsed = (time.perf_counter() - started) * 1000
            beat = time.perf_counter()
            probe(Heartbeat(agent.host_id))
            if number >= 5:  # the first few warm the connections up
                round_trips.append(elapsed)
                heartbeats.append((time.perf_counter() - beat) * 1000)
    finally:
        stop.set()
        # The long poll ends at its deadline or at the next command; give it one to end now.
        with app_sessions() as session, session.begin():
            session.add(AgentCommand(host_id=agent.host_id, name="create_volume", payload={"name": "last", "size_gib": 1}))
            wakeups.mark_commands_written(session, agent.host_id)
        polling.join(timeout=10)
        probe.close()
        signal.transport.close()
        server.close()
        close_app(app)
        engine.dispose()
    return round_trips, heartbeats


def main() -> int:
    with scratch_database("occistack_bench_agent", migrated=True) as url:
        round_trips, heartbeats = measure(url)
    p50, p90 = statistics.median(round_trips), percentile(round_trips, 0.9)
    print(f"{len(round_trips)} command round trips over HTTP on PostgreSQL: p50 {p50:.1f} ms, p90 {p90:.1f} ms, "
          f"max {max(round_trips):.1f} ms; one bare heartbeat round trip p50 {statistics.median(heartbeats):.1f} ms")
    print()
    line = result_line("agent_roundtrip", "command_round_trip_p50_ms", p50, TARGET_MS, op="<=", unit="ms")
    print(line)
    return 0 if line.endswith("PASS") else 1


if __name__ == "__main__":
    sys.exit(main())
