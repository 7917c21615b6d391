"""The agent gateway: where host agents register, heartbeat, fetch their commands and answer.

Commands are rows (``agent_commands``) that a job step wrote in its own transaction; nothing
reaches a host before that transaction commits. The last answer to a step's commands requeues
the job for its next step. Every function here takes the protocol's messages
(hostagent/protocol.py) and returns its replies, and runs in the caller's transaction; the
transports (in-process for the embedded default, HTTP for real agents) only carry them.

Host health: each heartbeat or registration marks the host Up; :func:`sweep_hosts` moves hosts
whose heartbeats stopped to Disconnected and then Alert, through the host state table, and
placement avoids every host that is not Up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session

from occistack.hostagent.protocol import (
    Accepted,
    Answer,
    Answers,
    Command,
    Commands,
    Fetch,
    Heartbeat,
    HostCommand,
    Progress,
    ProtocolError,
    Register,
    Registered,
    check_version,
    encode_command,
)
from occistack.model import AgentCommand, Host, Job, utcnow
from occistack.model.states import (COMMAND_TRANSITIONS, HOST_STATUS_TRANSITIONS, JOB_TRANSITIONS, CommandEvent,
                                    CommandState, HostEvent, HostStatus, JobEvent, JobState, StaleState)
from occistack.plane.errors import ErrorKind, PlaneError
from occistack.plane.alerts import HOST_DOWN, raise_alert
from occistack.plane.events import record_event
from occistack.plane.transitions import apply_event, event_moves, set_move
from occistack.plane.wakeups import mark_commands_written, mark_jobs_written
from occistack.plane.agents.reconcile import reconcile_host


class GatewayError(PlaneError):
    """The agent's message is refused: another protocol version, a command of another host, a
    host that changed status meanwhile."""

    kind = ErrorKind.CONFLICT


class AgentUnauthenticated(GatewayError):
    """The credentials do not belong to the host the message is about."""

    kind = ErrorKind.FORBIDDEN


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    heartbeat_seconds: float = 10.0
    poll_seconds: float = 20.0
    #: missed heartbeats before Disconnected, then before Alert.
    disconnected_after: float = 30.0
    alert_after: float = 90.0
    #: a delivered command not answered within this is delivered again (the agent dedups).
    redeliver_after: float = 60.0
    #: a host in Alert that could not be fenced is tried again after this long.
    fence_retry_seconds: float = 300.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_agent_token(host: Host) -> str:
    """Give ``host`` a fresh agent token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    host.agent_token_hash = token_hash(token)
    return token


def register(session: Session, message: Register, settings: GatewaySettings, certified: bool = False) -> Registered:
    """``certified``: the transport verified a host certificate that names ``message.host_name``,
    which then needs no token."""
    try:
        check_version(message.protocol_version, f"the agent on {message.host_name}", us="this management server")
    except ProtocolError as mismatch:
        raise GatewayError(str(mismatch)) from None
    host = session.scalar(select(Host).where(Host.name == message.host_name).with_for_update(key_share=True))
    if certified:
        if host is None:
            raise AgentUnauthenticated(f"host {message.host_name!r} is not registered here; add it with "
                                       "'occistack host add' first")
    elif host is None or not host.agent_token_hash or not hmac.compare_digest(
            host.agent_token_hash, token_hash(message.token)):
        # One answer for both: an unknown name must not be told apart from a wrong token.
        raise AgentUnauthenticated(f"host {message.host_name!r} is not registered here with this token; add it with "
                           "'occistack host add' and configure the token it printed")
    facts = message.facts
    host.cpu_sockets, host.cpu_cores, host.cpu_mhz, host.memory_mib = (
        facts.cpu_sockets, facts.cpu_cores, facts.cpu_mhz, facts.memory_mib)
    host.hypervisor_version, host.agent_version = facts.hypervisor_version, facts.agent_version
    move_host_status(session, host, HostEvent.REGISTERED)
    host.last_heartbeat = utcnow()
    host.state_message = None
    record_event(session, "host.connect", "completed", "host", host.id, actor=f"agent:{host.name}",
                 description=f"agent {facts.agent_version or ''} registered, {facts.cpu_cores} cores, "
                             f"{facts.memory_mib} MiB")
    return Registered(host.id, settings.heartbeat_seconds, settings.poll_seconds)


def heartbeat(session: Session, message: Heartbeat) -> Accepted:
    host = _host(session, message.host_id)
    if host.status != HostStatus.UP:
        move_host_status(session, host, HostEvent.HEARTBEAT)
        record_event(session, "host.reconnect", "completed", "host", host.id, actor=f"agent:{host.name}",
                     description=f"the agent of host {host.name} is connected again")
    host.last_heartbeat = utcnow()
    if message.guests is not None:
        reconcile_host(session, host.id, host.name, message.guests)
    return Accepted()


def fetch(session: Session, message: Fetch, settings: GatewaySettings) -> Commands:
    """The host's pending commands (and delivered ones never answered), oldest first, marked
    delivered. On PostgreSQL they are locked while read, so two fetches of one host (an agent
    reconnecting while its old connection lingers) never both take a command."""
    now = utcnow()
    rows = session.execute(_fetch_statement(session.get_bind().dialect.name == "postgresql"), {
        "host": message.host_id, "now": now, "stale": now - timedelta(seconds=settings.redeliver_after),
        "limit": max(1, min(message.limit, 100))}).all()
    return Commands(tuple(Command(row.id, row.name, dict(row.payload or {}))
                          for row in sorted(rows, key=lambda row: row.id)))


#: The states a command waits for its answer in (the ones an answer moves it out of).
_UNANSWERED, _ = event_moves(COMMAND_TRANSITIONS, CommandEvent.SUCCEEDED)


@cache
def _fetch_statement(lock: bool):
    """Deliver a host's due commands and return them, in one statement: pending ones, and
    delivered ones whose answer is overdue, oldest first."""
    commands = AgentCommand.__table__
    due = (commands.c.state == str(CommandState.PENDING)) | (
        (commands.c.state == str(CommandState.DELIVERED)) & (commands.c.delivered_at < bindparam("stale")))
    chosen = (select(commands.c.id).where(commands.c.host_id == bindparam("host"), due)
              .order_by(commands.c.id).limit(bindparam("limit")))
    if lock:
        chosen = chosen.with_for_update(skip_locked=True)
    return (set_move(commands, COMMAND_TRANSITIONS, CommandEvent.DELIVER, commands.c.id.in_(chosen.scalar_subquery()),
                     delivered_at=bindparam("now"), deliveries=commands.c.deliveries + 1)
            .returning(commands.c.id, commands.c.name, commands.c.payload))


def answer(session: Session, message: Answer, advance=None) -> Accepted:
    """Record an answer; the last one of a job step advances the job: ``advance(session,
    job_id, step)`` runs its next step in this very transaction (the worker's
    ``continue_answered``), or, without it, the job is requeued for a worker. A repeated
    answer, or one for a command that was given up on, changes nothing."""
    commands = AgentCommand.__table__
    recorded = session.execute(_RECORD_SUCCESS if message.ok else _RECORD_FAILURE, {
        "command": message.command_id, "host": message.host_id, "result": message.result or {},
        "error": None if message.ok else (message.error or "the agent reported a failure without a reason"),
        "answered_at": utcnow()}).first()
    if recorded is None:
        owner = session.scalar(select(commands.c.host_id).where(commands.c.id == message.command_id))
        if owner != message.host_id:
            raise GatewayError(f"command {message.command_id} was not sent to host {message.host_id}")
        return Accepted()  # answered before, or given up on
    if recorded.job_id is not None:
        if advance is not None:
            advance(session, recorded.job_id, recorded.step)
        else:
            requeue_when_answered(session, recorded.job_id, recorded.step)
    return Accepted()


def _record_answer_statement(event: CommandEvent):
    """The command's answer, moving it by ``event``: only while it waits for one (a repeated
    answer, or one for a command given up on, moves nothing)."""
    commands = AgentCommand.__table__
    return (set_move(commands, COMMAND_TRANSITIONS, event,
                     commands.c.id == bindparam("command"), commands.c.host_id == bindparam("host"),
                     result=bindparam("result", type_=commands.c.result.type), error=bindparam("error"),
                     answered_at=bindparam("answered_at"))
            .returning(commands.c.job_id, commands.c.step))


#: Built once: building a statement costs more than running it.
_RECORD_SUCCESS = _record_answer_statement(CommandEvent.SUCCEEDED)
_RECORD_FAILURE = _record_answer_statement(CommandEvent.FAILED)


def answer_all(session: Session, message: Answers, advance=None) -> Accepted:
    for one in message.answers:
        if one.host_id != message.host_id:
            raise GatewayError(f"host {message.host_id} cannot answer for host {one.host_id}")
        answer(session, one, advance)
    return Accepted()


def progress(session: Session, message: Progress, on_progress=None) -> Accepted:
    """A running command's progress, handed to ``on_progress(session, job, percent)`` -- the
    jobs' routing to the job's handler (plane/jobs/handlers ``report_progress``), given by
    whoever assembles the gateway, which sits below the jobs and does not know their handlers (a
    download's percentage lands on the template copy). Ignored once the command is answered,
    and where no routing was given."""
    if not isinstance(message.percent, int) or isinstance(message.percent, bool) or not 0 <= message.percent <= 100:
        raise GatewayError("Progress.percent must be a whole number from 0 to 100")
    commands = AgentCommand.__table__
    row = session.execute(select(commands.c.host_id, commands.c.state, commands.c.job_id)
                          .where(commands.c.id == message.command_id)).first()
    if row is None or row.host_id != message.host_id:
        raise GatewayError(f"command {message.command_id} was not sent to host {message.host_id}")
    if row.state not in _UNANSWERED or row.job_id is None:
        return Accepted()
    job = session.get(Job, row.job_id) if on_progress is not None else None
    if job is not None:
        on_progress(session, job, message.percent)
    return Accepted()


def requeue_when_answered(session: Session, job_id: int, step: int) -> bool:
    """Requeue a waiting job for its next step once every command of ``step`` is answered,
    and wake the workers: one conditional UPDATE, the ANSWERED transition of the job state
    table guarded by "no command of this step is still out" (so of two last answers racing,
    exactly one requeues)."""
    result = session.execute(_REQUEUE_ANSWERED, {"job": job_id, "step": step, "next_step": step + 1})
    if result.rowcount != 1:
        return False
    mark_jobs_written(session)
    return True


def _requeue_answered_statement():
    jobs, commands = Job.__table__, AgentCommand.__table__
    target = JOB_TRANSITIONS.next_state(JobState.WAITING, JobEvent.ANSWERED)
    outstanding = exists().where(commands.c.job_id == bindparam("job"), commands.c.step == bindparam("step"),
                                 commands.c.state.in_([str(state) for state in _UNANSWERED]))
    return (update(jobs).where(jobs.c.id == bindparam("job"), jobs.c.state == str(JobState.WAITING),
                               jobs.c.step == bindparam("step"), ~outstanding)
            .values(state=str(target), step=bindparam("next_step"), deadline=None)
            .execution_options(synchronize_session=False))


_REQUEUE_ANSWERED = _requeue_answered_statement()
#: The same, returning the requeued job as an ORM object (refreshed if already in the session).
_REQUEUE_ANSWERED_JOB = (select(Job).from_statement(_REQUEUE_ANSWERED.returning(*Job.__table__.c))
                         .execution_options(populate_existing=True))


def requeue_answered_job(session: Session, job_id: int, step: int) -> Job | None:
    """:func:`requeue_when_answered` for the caller that runs the next step at once: the
    requeued job, read back by the UPDATE itself (None when commands of the step are still
    out, or another answer requeued it). Workers are not woken: the caller runs the step."""
    return session.scalars(_REQUEUE_ANSWERED_JOB, {"job": job_id, "step": step, "next_step": step + 1}).first()


def send(session: Session, job: Job, host_id: int, command: HostCommand) -> AgentCommand:
    """Queue a command for a host as part of ``job``'s current step (ProtocolError, before
    anything is written, for a command with a field of the wrong type)."""
    name, payload = encode_command(command)
    row = AgentCommand(host_id=host_id, job_id=job.id, step=job.step, name=name, payload=payload,
                       state=CommandState.PENDING)
    session.add(row)
    mark_commands_written(session, host_id)
    return row


# --- health ----------------------------------------------------------------------------------

def sweep_hosts(session: Session, settings: GatewaySettings, now: datetime | None = None) -> list[int]:
    """Move hosts whose heartbeats stopped: Up → Disconnected → Alert. The ids moved."""
    now = now or utcnow()
    moved = []
    for limit, statuses in ((settings.disconnected_after, (HostStatus.UP, HostStatus.CONNECTING)),
                            (settings.alert_after, (HostStatus.DISCONNECTED,))):
        stale = session.scalars(select(Host).where(
            Host.status.in_([str(status) for status in statuses]),
            Host.last_heartbeat < now - timedelta(seconds=limit)).with_for_update(skip_locked=True, key_share=True))
        for host in stale:
            move_host_status(session, host, HostEvent.HEARTBEATS_MISSED)
            host.state_message = f"no heartbeat since {host.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC"
            record_event(session, "host.status", "completed", "host", host.id,
                         description=f"host {host.name} is {host.status}: {host.state_message}")
            if host.status == HostStatus.ALERT:
                raise_alert(session, HOST_DOWN, "host", host.id,
                            f"host {host.name} stopped answering: {host.state_message}", zone_id=host.zone_id)
            moved.append(host.id)
    return moved


def expire_waiting_jobs(session: Session, now: datetime | None = None) -> list[int]:
    """Fail the commands of waiting jobs past their deadline, so their next step sees an
    answer ("no answer from host …") and decides what to do; the job ids requeued."""
    now = now or utcnow()
    requeued = []
    overdue = session.scalars(select(Job).where(Job.state == str(JobState.WAITING), Job.deadline < now)
                              .with_for_update(skip_locked=True, key_share=True)).all()
    for job in overdue:
        late = session.scalars(select(AgentCommand).where(
            AgentCommand.job_id == job.id, AgentCommand.step == job.step,
            AgentCommand.state.in_([str(state) for state in _UNANSWERED]))).all()
        for command in late:
            try:
                apply_event(session, command, COMMAND_TRANSITIONS, CommandEvent.TIMED_OUT)
            except StaleState:
                continue  # its answer came meanwhile, and stands
            host = session.get(Host, command.host_id)
            command.error = f"host {host.name if host else command.host_id} did not answer in time"
            command.answered_at = now
        session.flush()
        if requeue_when_answered(session, job.id, job.step):
            requeued.append(job.id)
    return requeued


def _host(session: Session, host_id: int) -> Host:
    host = session.get(Host, host_id)
    if host is None:
        raise GatewayError(f"no host {host_id}; register first")
    return host


def move_host_status(session: Session, host: Host, event_name: HostEvent) -> None:
    """Move the host's connection status through HOST_STATUS_TRANSITIONS with the conditional
    UPDATE every state moves by (GatewayError if another transaction moved it first); a move
    that changes it moves the inventory generation, so placement's snapshots see it."""
    try:
        apply_event(session, host, HOST_STATUS_TRANSITIONS, event_name, column="status")
    except StaleState:
        session.refresh(host)
        raise GatewayError(f"host {host.name} changed status concurrently; try again") from None
