"""Remote host agents over real HTTP: the server under waitress on a loopback port, two
agents with the HTTP transport, an OCCI create that becomes a running guest through them, the
channel's refusals, and an agent that reconnects when the server comes (back)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from sqlalchemy import func, select
from waitress.server import create_server

from occistack.drivers.fake import FakeDrivers
from occistack.hostagent.agent import Agent
from occistack.hostagent.protocol import PROTOCOL_VERSION, Fetch, Heartbeat, HostFacts, Register, encode
from occistack.hostagent.transport import AgentRefused, HttpTransport, ServerUnreachable
from occistack.model import EventRecord, Host, VirtualMachine
from occistack.model.states import VmState
from occistack.plane.agents import gateway
from occistack.api.orchestration import server_plane
from tests.conftest import basic, close_app, make_app

FACTS = HostFacts(cpu_sockets=2, cpu_cores=16, cpu_mhz=2400, memory_mib=65536, hypervisor_version="test",
                  agent_version="test")
COMPUTE = "\n".join([
    'Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
    'Category: cirros-0.6; scheme="http://occistack.local/occi/infrastructure/os_tpl#"; class="mixin"',
    'Category: small; scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"; class="mixin"',
])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """The real application under waitress in a thread, on ``port``."""

    def __init__(self, db_url: str, port: int, host: str = "127.0.0.1", **settings: str):
        self.app = make_app(db_url, **{"occistack.worker": "thread", "occistack.agents.inprocess": "",
                                       "occistack.agents.heartbeat_seconds": "1", **settings})
        self.server = create_server(self.app, host=host, port=port, threads=8)
        self.url = f"http://{host}:{port}"
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # waitress's loop may be inside select() on the sockets close() just closed.
            if not self.closing:
                raise

    @property
    def session_factory(self):
        return self.app.registry["occistack.session_factory"]

    def close(self) -> None:
        self.closing = True
        self.server.close()
        server_plane(self.app.registry).plane.stop()
        self.thread.join(timeout=5)
        close_app(self.app)


def host_tokens(session_factory) -> dict[str, str]:
    with session_factory() as session, session.begin():
        return {host.name: gateway.new_agent_token(host) for host in session.scalars(select(Host).order_by(Host.id))}


@pytest.fixture
def served(db_url, demo_data):
    server = Served(db_url, free_port())
    yield server
    server.close()


@pytest.fixture
def agents(served):
    """An HTTP agent on fake drivers for every host of the demo cloud, running in threads."""
    stop = threading.Event()
    tokens = host_tokens(served.session_factory)
    running = []
    for name, token in tokens.items():
        agent = Agent(name, token, FACTS, FakeDrivers(), HttpTransport(served.url, token))
        thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
        thread.start()
        running.append((agent, thread))
    yield [agent for agent, _thread in running]
    stop.set()
    for agent, thread in running:
        thread.join(timeout=30)
        agent.transport.close()


def wait_for(predicate, timeout: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def test_a_compute_created_over_occi_runs_on_a_remote_agent(served, agents):
    wait_for(lambda: all(agent.host_id for agent in agents), what="both agents registering")
    created = requests.post(f"{served.url}/compute/", data=COMPUTE, timeout=30,
                            headers={"Content-Type": "text/plain", "Authorization": basic("demo", "demo")})
    assert created.status_code == 201, created.text
    vm_id = created.headers["Location"].rsplit("/", 1)[-1]

    def state():
        with served.session_factory() as session:
            return session.scalar(select(VirtualMachine.state).where(VirtualMachine.id == vm_id))

    wait_for(lambda: state() == VmState.RUNNING, what="the compute becoming active")
    with served.session_factory() as session:
        vm = session.get(VirtualMachine, vm_id)
        host_name = session.get(Host, vm.host_id).name
    guest_host = next(agent for agent in agents if agent.host_name == host_name)
    assert guest_host.runner.drivers.compute.state(vm.instance_name) == "running"
    others = [agent for agent in agents if agent is not guest_host]
    assert all(vm.instance_name not in agent.runner.drivers.compute.guests for agent in others)

    stopped = requests.post(f"{served.url}/compute/{vm_id}?action=stop", timeout=30, data=(
        'Category: stop; scheme="http://schemas.ogf.org/occi/infrastructure/compute/action#"; class="action"'),
        headers={"Content-Type": "text/plain", "Authorization": basic("demo", "demo")})
    assert stopped.status_code == 200, stopped.text
    wait_for(lambda: state() == VmState.STOPPED, what="the compute stopping")
    assert guest_host.runner.drivers.compute.state(vm.instance_name) == "stopped"


def post_message(served, message, token: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(f"{served.url}/agent/v1/messages", data=encode(message), headers=headers, timeout=30)


def test_the_channel_refuses_what_is_not_an_agent_s_own(served):
    tokens = host_tokens(served.session_factory)
    registered = post_message(served, Register("host1", tokens["host1"], PROTOCOL_VERSION, FACTS), tokens["host1"])
    assert registered.status_code == 200, registered.text
    host1 = registered.json()["host_id"]
    with served.session_factory() as session:
        host2 = session.scalar(select(Host.id).where(Host.name == "host2"))

    no_token = post_message(served, Heartbeat(host1), None)
    assert no_token.status_code == 401 and "Bearer" in no_token.headers["WWW-Authenticate"]
    assert "Authorization: Bearer" in no_token.text
    # host1's token cannot speak for host2, nor for a host that does not exist.
    for host_id in (host2, 999_999):
        refused = post_message(served, Fetch(host_id), tokens["host1"])
        assert refused.status_code == 403 and f"does not belong to host {host_id}" in refused.text
    wrong = post_message(served, Register("host2", "not-the-token", PROTOCOL_VERSION, FACTS), "not-the-token")
    assert wrong.status_code == 403 and "not registered here with this token" in wrong.text
    other_version = post_message(served, Register("host1", tokens["host1"], 99, FACTS), tokens["host1"])
    assert other_version.status_code == 409 and "speaks 99" in other_version.text
    garbage = requests.post(f"{served.url}/agent/v1/messages", data=b"{", timeout=30,
                            headers={"Authorization": f"Bearer {tokens['host1']}"})
    assert garbage.status_code == 400 and "not an agent message" in garbage.text
    listed = requests.get(f"{served.url}/agent/v1/messages", timeout=30)
    assert listed.status_code == 405 and listed.headers["Allow"] == "POST"
    # The transport turns refusals into AgentRefused with the server's reason.
    with pytest.raises(AgentRefused, match="does not belong to host"):
        HttpTransport(served.url, tokens["host1"])(Fetch(host2))


def test_a_long_poll_returns_when_a_command_is_queued(served):
    from occistack.model import AgentCommand
    from occistack.plane.wakeups import mark_commands_written

    tokens = host_tokens(served.session_factory)
    transport = HttpTransport(served.url, tokens["host1"])
    host1 = transport(Register("host1", tokens["host1"], PROTOCOL_VERSION, FACTS)).host_id
    replies = []
    poller = threading.Thread(target=lambda: replies.append(transport(Fetch(host1, wait_seconds=15))))
    started = time.monotonic()
    poller.start()
    time.sleep(0.5)  # the fetch is waiting by now
    with served.session_factory() as session, session.begin():
        session.add(AgentCommand(host_id=host1, name="create_volume", payload={"name": "v1", "size_gib": 1}))
        mark_commands_written(session, host1)
    poller.join(timeout=20)
    waited = time.monotonic() - started
    assert replies and [command.name for command in replies[0].commands] == ["create_volume"]
    assert waited < 5, f"the long poll answered after {waited:.1f} s, not when the command came"
    transport.close()


def test_an_agent_keeps_trying_until_the_server_is_there(db_url, demo_data):
    port = free_port()
    with pytest.raises(ServerUnreachable, match=f"127.0.0.1:{port}"):
        HttpTransport(f"http://127.0.0.1:{port}", "t")(Heartbeat(1))
    # The agent starts first, with nobody listening; the server comes two seconds later.
    served_later: list[Served] = []
    stop = threading.Event()
    agent_box: list[Agent] = []

    def start_agent_when_tokens_exist():
        agent_box[0].run_forever(stop)

    from occistack.model import make_engine
    from occistack.model.session import make_session_factory

    engine = make_engine({"sqlalchemy.url": db_url})
    tokens = host_tokens(make_session_factory(engine))
    engine.dispose()
    agent_box.append(Agent("host1", tokens["host1"], FACTS, FakeDrivers(),
                           HttpTransport(f"http://127.0.0.1:{port}", tokens["host1"])))
    thread = threading.Thread(target=start_agent_when_tokens_exist, daemon=True)
    thread.start()
    try:
        time.sleep(2)
        assert agent_box[0].host_id is None
        served_later.append(Served(db_url, port))
        wait_for(lambda: agent_box[0].host_id is not None, timeout=40, what="the agent registering")
        with served_later[0].session_factory() as session:
            connects = session.scalar(select(func.count()).select_from(EventRecord)
                                      .where(EventRecord.action == "host.connect"))
        assert connects >= 1
    finally:
        stop.set()
        thread.join(timeout=30)
        agent_box[0].transport.close()
        for server in served_later:
            server.close()
