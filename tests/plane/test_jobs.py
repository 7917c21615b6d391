"""The job queue and its worker, on both back ends: claiming, order per resource, waiting for
agents, failure and retry; and on PostgreSQL, two workers sharing the queue."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from occistack.hostagent.protocol import GuestState, PowerGuest
from occistack.model import AgentCommand, Job
from occistack.model.states import CommandState, JobState
from occistack.plane.agents import gateway
from occistack.plane.dispatch import Operation
from occistack.plane.jobs.handlers import JobHandler, Outcome, StepFailed
from occistack.plane.jobs.queue import JobDispatcher, claim_next
from occistack.plane.jobs.worker import ManagementServices, Worker
from tests.plane.plane_fixtures import add_host

RAN: list[tuple[str, int]] = []


def recording(ctx):
    RAN.append((ctx.job.entity_id, ctx.step))
    return Outcome.DONE


def failing(ctx):
    raise StepFailed("the backend said no")


class Boom(Exception):
    pass


def crashing(ctx):
    raise Boom("a bug")


FAILURES: list[tuple[str, str]] = []


def remember_failure(ctx, message):
    FAILURES.append((ctx.job.entity_id, message))


HANDLERS = {
    "record": JobHandler(recording, remember_failure),
    "fail": JobHandler(failing, remember_failure),
    "crash": JobHandler(crashing, remember_failure),
}


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()
    FAILURES.clear()


def submit(session_factory, *operations: tuple[str, str]) -> list[int]:
    dispatcher = JobDispatcher()
    with session_factory() as session, session.begin():
        jobs = [dispatcher.submit(session, Operation(name, entity)) for name, entity in operations]
        session.flush()
        return [job.id for job in jobs]


def worker(session_factory, handlers=HANDLERS) -> Worker:
    return Worker(session_factory, ManagementServices(placement=None), handlers=handlers, name="test")


def states(session_factory, ids):
    with session_factory() as session:
        return [session.get(Job, job_id).state for job_id in ids]


def test_jobs_run_in_order_and_end_done(session_factory):
    ids = submit(session_factory, ("record", "a"), ("record", "b"), ("record", "a"))
    assert worker(session_factory).drain() == 3
    assert RAN == [("a", 0), ("b", 0), ("a", 0)]
    assert states(session_factory, ids) == [JobState.DONE] * 3


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_resource_s_later_job_waits_for_its_earlier_one(session_factory):
    first, second, other = submit(session_factory, ("record", "a"), ("record", "a"), ("record", "b"))
    with session_factory() as holding, holding.begin():
        assert claim_next(holding, "w1").id == first
        # While w1 holds a's first job, w2 skips it (locked) and may not take a's second one:
        # the next job it can claim is b's.
        with session_factory() as session, session.begin():
            assert claim_next(session, "w2").id == other
        with session_factory() as session, session.begin():
            assert claim_next(session, "w2").id == other  # (w2 rolled back: b is queued again)


def test_a_resource_s_jobs_run_one_after_the_other(session_factory):
    host_id = add_host(session_factory, "h0")

    def waits_once(ctx):
        if ctx.step == 0:
            ctx.send(host_id, PowerGuest("g", "start"))
            return Outcome.WAIT
        return Outcome.DONE

    handlers = {**HANDLERS, "wait": JobHandler(waits_once, remember_failure)}
    waiting, after, other = submit(session_factory, ("wait", "a"), ("record", "a"), ("record", "b"))
    runner = worker(session_factory, handlers)
    runner.drain()
    # a's first job waits for its agent: a's next one must not run before it ends.
    assert RAN == [("b", 0)]
    assert states(session_factory, [waiting, after]) == [JobState.WAITING, JobState.HELD]


def test_a_step_that_gives_up_fails_the_job_and_calls_on_failure(session_factory):
    [job_id] = submit(session_factory, ("fail", "vm-1"))
    worker(session_factory).drain()
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job.state == JobState.FAILED and job.message == "the backend said no"
    assert FAILURES == [("vm-1", "the backend said no")]


def test_an_unexpected_error_is_retried_then_fails_with_the_reason(session_factory):
    [job_id] = submit(session_factory, ("crash", "vm-2"))
    runner = worker(session_factory)
    for _ in range(3):
        with session_factory() as session, session.begin():
            session.execute(Job.__table__.update().values(run_after=Job.__table__.c.created_at))  # no backoff wait
        runner.run_once()
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job.state == JobState.FAILED
        assert job.attempts == 3
        assert "Boom: a bug" in job.message
    assert FAILURES and "internal error: Boom: a bug" in FAILURES[0][1]


def test_a_waiting_job_goes_on_when_its_agent_answers(session_factory):
    host_id = add_host(session_factory, "h1")

    def two_steps(ctx):
        if ctx.step == 0:
            ctx.send(host_id, PowerGuest("g", "start"))
            return Outcome.WAIT
        RAN.append((ctx.job.entity_id, ctx.step))
        assert ctx.answer(PowerGuest).result == {"state": "running"}
        assert ctx.result(PowerGuest) == GuestState("running")
        return Outcome.DONE

    handlers = {"two": JobHandler(two_steps, remember_failure)}
    [job_id] = submit(session_factory, ("two", "vm-3"))
    runner = worker(session_factory, handlers)
    assert runner.drain() == 1
    assert states(session_factory, [job_id]) == [JobState.WAITING]
    with session_factory() as session, session.begin():
        [command] = gateway.fetch(session, gateway.Fetch(host_id), gateway.GatewaySettings()).commands
        gateway.answer(session, gateway.Answer(host_id, command.id, True, {"state": "running"}))
    assert runner.drain() == 1
    assert RAN == [("vm-3", 1)]
    assert states(session_factory, [job_id]) == [JobState.DONE]


def test_a_job_whose_agent_never_answers_gets_a_failed_answer_at_its_deadline(session_factory):
    host_id = add_host(session_factory, "h2")
    seen = []

    def waits(ctx):
        if ctx.step == 0:
            ctx.send(host_id, PowerGuest("g", "stop"))
            return Outcome.WAIT
        seen.append(ctx.answer(PowerGuest).error)
        raise StepFailed(f"stop failed: {seen[0]}")

    handlers = {"wait": JobHandler(waits, remember_failure, wait_seconds=-1)}
    [job_id] = submit(session_factory, ("wait", "vm-4"))
    runner = worker(session_factory, handlers)
    runner.drain()
    runner.sweep()
    runner.drain()
    assert seen == ["host h2 did not answer in time"]
    assert states(session_factory, [job_id]) == [JobState.FAILED]
    assert FAILURES == [("vm-4", "stop failed: host h2 did not answer in time")]
    with session_factory() as session:
        assert session.scalar(select(AgentCommand.state)) == CommandState.FAILED


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_share_the_queue_without_running_a_job_twice(session_factory):
    ids = submit(session_factory, *[("record", f"r{number}") for number in range(200)])
    workers = [worker(session_factory) for _ in range(2)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(RAN) == sorted((f"r{number}", 0) for number in range(200))
    assert set(states(session_factory, ids)) == {JobState.DONE}


def test_a_job_behind_an_active_one_is_held_until_it_ends(session_factory):
    first, second = submit(session_factory, ("record", "x"), ("record", "x"))
    assert states(session_factory, [first, second]) == [JobState.QUEUED, JobState.HELD]
    runner = worker(session_factory)
    assert runner.run_once()
    assert states(session_factory, [first, second]) == [JobState.DONE, JobState.QUEUED]
    assert runner.drain() == 1


def test_a_stranded_held_job_is_released_by_the_sweep(session_factory):
    [job_id] = submit(session_factory, ("record", "y"))
    with session_factory() as session, session.begin():
        # As if it had been held behind a job that ended in a concurrent transaction.
        session.execute(Job.__table__.update().where(Job.__table__.c.id == job_id).values(state="held"))
    runner = worker(session_factory)
    assert runner.drain() == 0
    runner.sweep()
    assert runner.drain() == 1 and RAN == [("y", 0)]


def test_workers_are_woken_by_the_commit_not_by_a_savepoint(session_factory):
    from occistack.plane.wakeups import Notifier, wake_workers_after_commit

    notifier = Notifier()
    wake_workers_after_commit(session_factory, notifier)
    with session_factory() as session, session.begin():
        JobDispatcher().submit(session, Operation("record", "w"))
        with session.begin_nested():
            pass  # SQLAlchemy fires after_commit for this too
        assert notifier.generation == 0
    assert notifier.generation == 1
