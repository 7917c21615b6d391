"""The agent gateway and the agent, through the in-process channel: registration and its
refusals, long polls, answers, redelivery without running a command twice, host health."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from occistack.drivers.fake import FakeDrivers
from occistack.hostagent.agent import Agent
from occistack.hostagent.protocol import (
    PROTOCOL_VERSION,
    Answer,
    Command,
    Commands,
    DownloadTemplate,
    Fetch,
    HostFacts,
    PowerGuest,
    Progress,
    ProtocolError,
    Register,
    decode,
    encode,
)
from occistack.model import AgentCommand, EventRecord, Host, Job, utcnow
from occistack.model.states import CommandState, HostStatus, JobState
from occistack.plane.agents import gateway
from occistack.plane import wakeups
from occistack.plane.dispatch import Operation
from occistack.plane.jobs.handlers import JobHandler, Outcome, report_progress
from occistack.plane.jobs.queue import JobDispatcher
from occistack.plane.wakeups import Notifier
from occistack.plane.agents.in_process import LocalChannel
from occistack.plane.jobs.worker import ManagementServices, Worker
from tests.factories import OsTemplateFactory, TemplateCopyFactory
from tests.plane.plane_fixtures import add_host

FACTS = HostFacts(cpu_sockets=2, cpu_cores=12, cpu_mhz=2600, memory_mib=98304, hypervisor_version="QEMU 8.2",
                  agent_version="test")
SETTINGS = gateway.GatewaySettings(redeliver_after=0.0)


def host_with_token(session_factory, name="h1", status=HostStatus.CONNECTING) -> tuple[int, str]:
    host_id = add_host(session_factory, name, status=status)
    with session_factory() as session, session.begin():
        token = gateway.new_agent_token(session.get(Host, host_id))
    return host_id, token


def test_messages_survive_json_and_bad_ones_are_refused():
    message = Register("h1", "t", PROTOCOL_VERSION, FACTS)
    assert decode(encode(message)) == message
    commands = Commands((Command(1, "power_guest", {"name": "g", "operation": "stop"}),))
    assert decode(encode(commands)) == commands
    for bad in ("{", "[]", '{"type": "Nope"}', '{"type": "Fetch", "host_id": 1, "extra": 2}'):
        with pytest.raises(ProtocolError):
            decode(bad)


def test_registration_needs_the_host_s_token_and_our_protocol(session_factory):
    host_id, token = host_with_token(session_factory)
    channel = LocalChannel(session_factory, SETTINGS)
    for name, given, version in (("h1", "wrong", PROTOCOL_VERSION), ("nobody", token, PROTOCOL_VERSION)):
        with pytest.raises(gateway.GatewayError, match="not registered here with this token"):
            channel(Register(name, given, version, FACTS))
    with pytest.raises(gateway.GatewayError,
                       match=f"speaks agent protocol {PROTOCOL_VERSION}; the agent on h1 speaks 99: upgrade one"):
        channel(Register("h1", token, 99, FACTS))
    reply = channel(Register("h1", token, PROTOCOL_VERSION, FACTS))
    assert reply.host_id == host_id
    with session_factory() as session:
        host = session.get(Host, host_id)
        assert host.status == HostStatus.UP and host.cpu_cores == 12 and host.memory_mib == 98304
        assert host.hypervisor_version == "QEMU 8.2" and host.last_heartbeat is not None
        assert session.scalar(select(EventRecord.action).where(EventRecord.resource_id == str(host_id))) == \
            "host.connect"


def queue_command(session_factory, host_id, command=PowerGuest("g1", "start")) -> int:
    def step(ctx):
        if ctx.step == 0:
            ctx.send(host_id, command)
            return Outcome.WAIT
        return Outcome.DONE

    with session_factory() as session, session.begin():
        JobDispatcher().submit(session, Operation("one", "vm"))
    Worker(session_factory, ManagementServices(None), {"one": JobHandler(step, lambda c, m: None)}).drain()
    with session_factory() as session:
        return session.scalar(select(Job.id))


def test_an_agent_runs_its_commands_and_answers_once_each(session_factory):
    host_id, token = host_with_token(session_factory)
    drivers = FakeDrivers()
    drivers.compute.guests["g1"] = {"spec": None, "state": "stopped"}
    agent = Agent("h1", token, FACTS, drivers, LocalChannel(session_factory, SETTINGS))
    agent.register()
    job_id = queue_command(session_factory, host_id)
    assert agent.run_once() == 1
    assert drivers.compute.state("g1") == "running"
    with session_factory() as session:
        command = session.scalar(select(AgentCommand))
        assert command.state == CommandState.DONE and command.result == {"state": "running"}
        assert session.get(Job, job_id).state == JobState.QUEUED  # requeued for its next step
    # A command delivered again (its agent reconnected before its answer arrived) is answered
    # from the agent's memory, not run twice: a second start would fail on a running guest.
    with session_factory() as session, session.begin():
        session.execute(update(AgentCommand).values(state=CommandState.DELIVERED))
    assert agent.run_once() == 1
    with session_factory() as session:
        assert session.scalar(select(AgentCommand.state)) == CommandState.DONE
        assert session.scalar(select(AgentCommand.deliveries)) == 2


def test_a_failed_command_carries_the_backend_s_message(session_factory):
    host_id, token = host_with_token(session_factory)
    agent = Agent("h1", token, FACTS, FakeDrivers(), LocalChannel(session_factory, SETTINGS))
    agent.register()
    queue_command(session_factory, host_id)  # no guest g1 on this host
    agent.run_once()
    with session_factory() as session:
        command = session.scalar(select(AgentCommand))
        assert command.state == CommandState.FAILED and command.error == "no guest named g1"


def test_a_repeated_or_foreign_answer_changes_nothing(session_factory):
    host_id, token = host_with_token(session_factory)
    other_id, _ = host_with_token(session_factory, "h2")
    channel = LocalChannel(session_factory, SETTINGS)
    channel(Register("h1", token, PROTOCOL_VERSION, FACTS))
    queue_command(session_factory, host_id)
    [command] = channel(Fetch(host_id)).commands
    with pytest.raises(gateway.GatewayError, match="was not sent to host"):
        channel(Answer(other_id, command.id, True))
    channel(Answer(host_id, command.id, False, error="first"))
    channel(Answer(host_id, command.id, True))
    with session_factory() as session:
        stored = session.get(AgentCommand, command.id)
        assert stored.state == CommandState.FAILED and stored.error == "first"


def test_progress_reaches_a_running_download_only(session_factory):
    """Progress of a download lands on its template copy while the command is out; a foreign,
    malformed or late report changes nothing."""
    from occistack.model import TemplateCopy, Zone

    host_id, token = host_with_token(session_factory)
    other_id, _ = host_with_token(session_factory, "h2")
    channel = LocalChannel(session_factory, SETTINGS, on_progress=report_progress)
    channel(Register("h1", token, PROTOCOL_VERSION, FACTS))
    with session_factory() as session, session.begin():
        template = OsTemplateFactory(session=session, term="progressing", state="downloading")
        zone_id = session.scalar(select(Zone.id).limit(1))
        copy_id = TemplateCopyFactory(session=session, template_id=template.id, zone_id=zone_id, state="downloading",
                                      progress=0).id
        job = Job(operation="download_template", entity_id=f"template-copy:{copy_id}", state=JobState.WAITING,
                  step=1, arguments={"template_id": template.id, "copy_id": copy_id}, progress={})
        session.add(job)
        session.flush()
        gateway.send(session, job, host_id, DownloadTemplate(url="http://x/y", checksum="md5:0",
                                                             destination="nfs://s/e/f"))
    [command] = channel(Fetch(host_id)).commands

    def progress() -> int:
        with session_factory() as session:
            return session.get(TemplateCopy, copy_id).progress

    channel(Progress(host_id, command.id, 40))
    assert progress() == 40
    with pytest.raises(gateway.GatewayError, match="was not sent to host"):
        channel(Progress(other_id, command.id, 50))
    with pytest.raises(gateway.GatewayError, match="from 0 to 100"):
        channel(Progress(host_id, command.id, 101))
    assert decode(encode(Progress(host_id, command.id, 7))) == Progress(host_id, command.id, 7)
    channel(Answer(host_id, command.id, True, {"size_gib": 1.0}))
    channel(Progress(host_id, command.id, 60))  # answered already: ignored
    assert progress() == 40


def long_poll_in_a_thread(session_factory, notifier: Notifier, wait_seconds: float):
    """A registered host whose agent long-polls in a thread: (host id, the thread, what it got:
    ``reply`` and ``seconds``)."""
    import threading
    import time

    host_id, token = host_with_token(session_factory)
    channel = LocalChannel(session_factory, gateway.GatewaySettings(), notifier)
    channel(Register("h1", token, PROTOCOL_VERSION, FACTS))
    got = {}

    def poll():
        started = time.monotonic()
        got["reply"] = channel(Fetch(host_id, wait_seconds=wait_seconds))
        got["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    return host_id, thread, got


def test_a_long_poll_returns_as_soon_as_a_command_is_queued(session_factory):
    notifier = Notifier()
    wakeups.wake_agents_after_commit(session_factory, notifier)
    host_id, thread, got = long_poll_in_a_thread(session_factory, notifier, wait_seconds=10)
    queue_command(session_factory, host_id)
    thread.join(timeout=10)
    assert len(got["reply"].commands) == 1
    assert got["seconds"] < 5


def test_a_stopping_server_ends_the_long_polls_it_holds_at_once(session_factory):
    """Closing the command notifier (and, on PostgreSQL, the broadcast that wakes listeners)
    ends a long poll now, with no commands, instead of at its timeout."""
    notifier = Notifier()
    _host_id, thread, got = long_poll_in_a_thread(session_factory, notifier, wait_seconds=20)
    notifier.close()
    wakeups.wake_every_agent(session_factory.kw["bind"])
    thread.join(timeout=10)
    assert got["reply"].commands == () and got["seconds"] < 5


def test_silent_hosts_go_disconnected_then_alert_and_come_back(session_factory):
    host_id, token = host_with_token(session_factory)
    channel = LocalChannel(session_factory, SETTINGS)
    channel(Register("h1", token, PROTOCOL_VERSION, FACTS))
    settings = gateway.GatewaySettings(disconnected_after=30, alert_after=90)

    def sweep_at(seconds_later):
        with session_factory() as session, session.begin():
            gateway.sweep_hosts(session, settings, now=utcnow() + timedelta(seconds=seconds_later))
            return session.get(Host, host_id).status

    assert sweep_at(10) == HostStatus.UP
    assert sweep_at(40) == HostStatus.DISCONNECTED
    assert sweep_at(60) == HostStatus.DISCONNECTED
    assert sweep_at(100) == HostStatus.ALERT
    channel(gateway.Heartbeat(host_id))
    with session_factory() as session:
        host = session.get(Host, host_id)
        assert host.status == HostStatus.UP
        actions = session.scalars(select(EventRecord.action).order_by(EventRecord.id)).all()
        assert actions == ["host.connect", "host.status", "host.status", "host.reconnect"]


def test_the_progress_meter_reports_whole_percents_sparingly():
    from occistack.hostagent.agent import ProgressMeter

    sent: list[int] = []
    meter = ProgressMeter(sent.append, interval=3600)
    for done in range(0, 1001, 10):
        meter(done, 1000)
    meter(5, None)  # a size the source did not tell: nothing to say
    assert sent == [0]  # the first at once, the rest held back by the interval
    eager = ProgressMeter(sent.append, interval=0)
    sent.clear()
    for done in (1, 2, 3, 500, 500, 1000):
        eager(done, 1000)
    assert sent == [0, 50, 100]  # only when the whole percent moves

    def unreachable(_percent):
        raise ConnectionError("server gone")

    ProgressMeter(unreachable, interval=0)(1, 2)  # dropped, not raised: the answer is what counts
