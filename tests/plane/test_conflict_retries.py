"""Worker steps and agent messages that PostgreSQL ends for a deadlock or a serialization
failure are run again (issue 12, point 8), a bounded number of times, without counting an
attempt of the job. The conflicts here are psycopg2's own error classes wrapped as SQLAlchemy
raises them; tests/api/test_database_conflicts.py provokes a real one."""

from __future__ import annotations

import psycopg2.errors
import pytest
from sqlalchemy.exc import OperationalError

from occistack.hostagent.protocol import Heartbeat
from occistack.model import Job
from occistack.model.contention import CONFLICT_ATTEMPTS
from occistack.model.states import JobState
from occistack.plane.agents import gateway
from occistack.plane.agents.channel import AgentChannel
from occistack.plane.jobs.handlers import JobHandler, Outcome
from tests.plane.plane_fixtures import add_host
from tests.plane.test_jobs import remember_failure, submit, worker


def deadlock() -> OperationalError:
    return OperationalError("UPDATE hosts SET cpu_used_mhz = …", {}, psycopg2.errors.DeadlockDetected())


def conflicting(times: int, ran: list[int]):
    def step(ctx):
        ran.append(ctx.step)
        if len(ran) <= times:
            raise deadlock()
        return Outcome.DONE
    return step


def job(session_factory, job_id) -> Job:
    with session_factory() as session:
        return session.get(Job, job_id)


def test_a_step_that_meets_a_deadlock_runs_again_without_counting_an_attempt(session_factory):
    ran: list[int] = []
    [job_id] = submit(session_factory, ("conflict", "vm-1"))
    runner = worker(session_factory, {"conflict": JobHandler(conflicting(CONFLICT_ATTEMPTS - 1, ran),
                                                             remember_failure)})
    runner.drain()
    done = job(session_factory, job_id)
    assert (done.state, done.attempts, len(ran)) == (JobState.DONE, 0, CONFLICT_ATTEMPTS)


def test_a_step_that_keeps_meeting_deadlocks_counts_as_a_failed_attempt(session_factory):
    ran: list[int] = []
    [job_id] = submit(session_factory, ("conflict", "vm-1"))
    runner = worker(session_factory, {"conflict": JobHandler(conflicting(100, ran), remember_failure)})
    for _ in range(CONFLICT_ATTEMPTS):
        runner.run_once()
    after = job(session_factory, job_id)
    assert len(ran) == CONFLICT_ATTEMPTS
    assert after.state == JobState.QUEUED and after.attempts == 1  # put off, as any crash
    assert "DeadlockDetected" in after.message


def test_an_agent_message_that_meets_a_deadlock_is_handled_again(session_factory, monkeypatch):
    host_id = add_host(session_factory, "h-conflict")
    real_heartbeat, calls = gateway.heartbeat, []

    def heartbeat_once_deadlocked(session, message):
        calls.append(message)
        if len(calls) == 1:
            raise deadlock()
        return real_heartbeat(session, message)

    monkeypatch.setattr(gateway, "heartbeat", heartbeat_once_deadlocked)
    channel = AgentChannel(session_factory, gateway.GatewaySettings())
    channel.handle(Heartbeat(host_id, {}))
    assert len(calls) == 2

    calls.clear()
    monkeypatch.setattr(gateway, "heartbeat", lambda session, message: calls.append(1) or (_ for _ in ()).throw(
        deadlock()))
    with pytest.raises(OperationalError):
        channel.handle(Heartbeat(host_id, {}))
    assert len(calls) == CONFLICT_ATTEMPTS
