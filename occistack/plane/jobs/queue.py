"""The durable job queue: writing jobs, claiming them, moving them between states.

A use case submits an :class:`Operation`; :class:`JobDispatcher` writes it as a ``jobs`` row in
the use case's own transaction, so the job exists exactly when the change that asked for it
does. Workers claim jobs with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (any number of
worker processes share the queue without blocking each other); on SQLite one in-process worker
claims them in a write transaction. The jobs of one resource run one at a time, in order: a
unique index lets a resource have one active (queued or waiting) job; a job submitted while
another is active is written ``held``, and when the active one ends it releases the oldest
held one. So the claim is the plain ``state = 'queued' ORDER BY id LIMIT 1`` -- no check of
other jobs -- and two processes can never run jobs of one resource at once.

Wake-ups: a commit that wrote jobs (or an agent answer that requeued one) wakes the workers
of every process (see :mod:`.wakeups`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from occistack.hostagent.protocol import encode_command
from occistack.model import AgentCommand, Job, utcnow
from occistack.model.jobs import ACTIVE_CONDITION
from occistack.model.states import JOB_TRANSITIONS, CommandState, JobEvent, JobState, StaleState
from occistack.plane.caller import Caller
from occistack.plane.dispatch import FirstCommand, Operation
from occistack.plane.tunables import Tunables
from occistack.plane.wakeups import Notifier, mark_commands_written, mark_jobs_written

_CLAIMED = CLAIMED_KEY = "occistack.claimed_jobs"


@dataclass(frozen=True, slots=True)
class SubmittedJob:
    """What a submit says back: the job's id and whether it is queued or held."""

    id: int
    state: JobState


class JobDispatcher:
    """A Dispatcher (see dispatch.py) that writes each operation as a job."""

    def __init__(self, notifier: Notifier | None = None, tunables: Tunables | None = None):
        self.notifier = notifier
        #: the global settings: ``jobs.max_attempts`` for jobs submitted without their own.
        self.tunables = tunables

    def _attempts(self, session: Session, max_attempts: int | None) -> int:
        if max_attempts is not None:
            return max_attempts
        return int(self.tunables.value(session, "jobs.max_attempts")) if self.tunables is not None else 3

    def submit(self, session: Session, operation: Operation, caller: Caller | None = None,
               max_attempts: int | None = None) -> SubmittedJob:
        """Write the job, queued -- or held, when the resource has an active job already."""
        max_attempts = self._attempts(session, max_attempts)
        values = {"operation": operation.name, "entity_id": operation.entity_id,
                  "arguments": dict(operation.arguments), "step": 0, "progress": {}, "attempts": 0,
                  "max_attempts": max_attempts, "run_after": utcnow(), "created_at": utcnow(),
                  "project_id": caller.project_id if caller else None,
                  "user_id": caller.user_id if caller else None}
        session.flush()
        job_id = session.scalar(_insert_unless_active(session.get_bind().dialect.name),
                                {**values, "state": str(JobState.QUEUED)})
        queued = job_id is not None
        if job_id is None:
            job_id = session.scalar(insert(Job.__table__).values(**values, state=str(JobState.HELD))
                                    .returning(Job.__table__.c.id))
        mark_jobs_written(session)
        return SubmittedJob(job_id, JobState.QUEUED if queued else JobState.HELD)

    def submit_waiting(self, session: Session, operation: Operation, commands: list[FirstCommand],
                       caller: Caller | None = None, wait_seconds: float = 120.0,
                       max_attempts: int | None = None) -> SubmittedJob:
        """Write the job with its first step already taken: its agent commands are written
        with it, and it starts ``waiting`` for their answers, as if a worker had claimed it
        and run step 0 -- the states it passes through are the job table's (CLAIM, WAIT).
        For a use case that has every row of the first step at hand, this saves the worker a
        whole transaction. When the resource has an active job already, the job is written
        ``held`` like any other, and a worker runs its step 0 once it is released."""
        max_attempts = self._attempts(session, max_attempts)
        target = JOB_TRANSITIONS.next_state(JOB_TRANSITIONS.next_state(JobState.QUEUED, JobEvent.CLAIM),
                                            JobEvent.WAIT)
        now = utcnow()
        values = {"operation": operation.name, "entity_id": operation.entity_id,
                  "arguments": dict(operation.arguments), "step": 0, "progress": {}, "attempts": 0,
                  "max_attempts": max_attempts, "run_after": now, "created_at": now,
                  "deadline": now + timedelta(seconds=wait_seconds), "claimed_by": "request",
                  "project_id": caller.project_id if caller else None,
                  "user_id": caller.user_id if caller else None}
        session.flush()
        job_id = session.scalar(_insert_unless_active(session.get_bind().dialect.name),
                                {**values, "state": str(target)})
        if job_id is None:
            return self.submit(session, operation, caller, max_attempts)
        for command in commands:
            name, payload = encode_command(command.command)
            session.execute(_INSERT_COMMAND, {
                "host_id": command.host_id, "job_id": job_id, "step": 0, "name": name,
                "payload": payload, "state": str(CommandState.PENDING), "deliveries": 0, "created_at": now})
        for host_id in {command.host_id for command in commands}:
            mark_commands_written(session, host_id)
        return SubmittedJob(job_id, JobState(target))


@cache
def _insert_unless_active(dialect_name: str):
    """INSERT … ON CONFLICT DO NOTHING against the one-active-job-per-resource index: the id
    of the new job, or no row when the resource has an active job. Built once per dialect."""
    module = postgresql if dialect_name == "postgresql" else sqlite
    statement = module.insert(Job.__table__).on_conflict_do_nothing(
        index_elements=["entity_id"], index_where=text(ACTIVE_CONDITION))
    return statement.returning(Job.__table__.c.id)


_INSERT_COMMAND = insert(AgentCommand.__table__)


# --- claiming and moving ---------------------------------------------------------------------

def claim_next(session: Session, worker: str, now: datetime | None = None) -> Job | None:
    """Lock and return the next runnable job, or None.

    The job is moved to ``running`` in memory only: on PostgreSQL the row stays locked until
    the caller's transaction ends, which is what keeps other workers off it, and nobody else
    could see a ``running`` written in that transaction anyway. The step's outcome is then
    written in one conditional UPDATE from ``queued`` (see :func:`move_job`). A worker that
    dies mid-step leaves the job ``queued`` for another.
    """
    job = session.scalar(_claim_statement(session.get_bind().dialect.name == "postgresql"),
                         {"now": now or utcnow()})
    if job is None:
        return None
    claim_in_memory(session, job, worker)
    return job


@cache
def _claim_statement(skip_locked: bool):
    statement = (select(Job).where(Job.state == str(JobState.QUEUED), Job.run_after <= bindparam("now"))
                 .order_by(Job.id).limit(1))
    return statement.with_for_update(skip_locked=True, key_share=True) if skip_locked else statement


def claim_in_memory(session: Session, job: Job, worker: str) -> None:
    """The CLAIM transition, applied to the object and not yet written (see claim_next)."""
    target = JOB_TRANSITIONS.next_state(job.state, JobEvent.CLAIM)
    set_committed_value(job, "state", target)
    session.info.setdefault(_CLAIMED, {})[job.id] = worker


def move_job(session: Session, job: Job, event_name: JobEvent, **values) -> JobState:
    """Move ``job`` by ``event_name`` through JOB_TRANSITIONS with a conditional UPDATE;
    ``values`` are other columns to set in the same statement."""
    session.flush()  # the job's own pending changes (its progress) go first
    current = job.state
    target = JOB_TRANSITIONS.next_state(current, event_name)
    if target in (JobState.DONE, JobState.FAILED):
        values.setdefault("finished_at", utcnow())
    # A job claimed in this transaction is still ``queued`` in the database.
    claimed_by = session.info.get(_CLAIMED, {}).pop(job.id, None)
    stored = JobState.QUEUED if claimed_by is not None else current
    if claimed_by is not None:
        values.setdefault("claimed_by", claimed_by)
    parameters = {"job_id": job.id, "expected": str(stored), "target": str(target),
                  **{f"new_{name}": value for name, value in values.items()}}
    columns = tuple(sorted(values))
    if target in (JobState.DONE, JobState.FAILED) and session.get_bind().dialect.name == "postgresql":
        ended, released = session.execute(_end_and_release(columns), parameters).one()
        if ended != 1:
            raise StaleState(f"job {job.id} is no longer {stored}")
        if released:
            mark_jobs_written(session)
    else:
        result = session.execute(_conditional_update(columns), parameters)
        if result.rowcount != 1:
            raise StaleState(f"job {job.id} is no longer {stored}")
        if target in (JobState.DONE, JobState.FAILED):
            release_next(session, job.entity_id)
    session.expire(job)
    return JobState(target)


@cache
def _conditional_update(columns: tuple[str, ...]):
    """``UPDATE jobs SET state = :target, <columns> WHERE id = :job_id AND state = :expected``,
    built once per set of columns (building it costs more than running it)."""
    jobs = Job.__table__
    return (update(jobs).where(jobs.c.id == bindparam("job_id"), jobs.c.state == bindparam("expected"))
            .values(state=bindparam("target"), **{name: bindparam(f"new_{name}") for name in columns})
            .execution_options(synchronize_session=False))


@cache
def _end_and_release(columns: tuple[str, ...]):
    """:func:`_conditional_update` and :func:`release_next` in one PostgreSQL statement, for a
    job that ends: the UPDATE that ends it and the one that queues its resource's oldest held
    job are data-modifying CTEs, and the statement answers how many rows each changed. One
    round trip to the database instead of two, for every job a worker finishes; the release
    only finds the ended job's resource when the first UPDATE ended it, as before."""
    jobs = Job.__table__
    ended = (_conditional_update(columns).returning(jobs.c.entity_id).cte("ended"))
    oldest = (select(jobs.c.id).where(jobs.c.entity_id == select(ended.c.entity_id).scalar_subquery(),
                                      jobs.c.state == str(JobState.HELD))
              .order_by(jobs.c.id).limit(1).scalar_subquery())
    released = (update(jobs).where(jobs.c.id == oldest, jobs.c.state == str(JobState.HELD))
                .values(state=str(JOB_TRANSITIONS.next_state(JobState.HELD, JobEvent.RELEASE)))
                .returning(jobs.c.id).cte("released"))
    return select(select(func.count()).select_from(ended).scalar_subquery(),
                  select(func.count()).select_from(released).scalar_subquery())


def _release_statement():
    jobs = Job.__table__
    oldest = (select(jobs.c.id).where(jobs.c.entity_id == bindparam("of_entity"), jobs.c.state == str(JobState.HELD))
              .order_by(jobs.c.id).limit(1).scalar_subquery())
    target = JOB_TRANSITIONS.next_state(JobState.HELD, JobEvent.RELEASE)
    return (update(jobs).where(jobs.c.id == oldest, jobs.c.state == str(JobState.HELD))
            .values(state=str(target)).execution_options(synchronize_session=False))


_RELEASE = _release_statement()


def release_next(session: Session, entity_id: str) -> bool:
    """Queue the oldest held job of a resource whose active job has just ended."""
    result = session.execute(_RELEASE, {"of_entity": entity_id})
    if result.rowcount:
        mark_jobs_written(session)
    return bool(result.rowcount)


def release_stranded(session: Session) -> int:
    """Release held jobs whose resource has no active job. A job written ``held`` while its
    predecessor was ending in a concurrent transaction is missed by that one's release_next;
    the workers' sweep finds it here."""
    jobs = Job.__table__
    active = aliased(Job)
    stranded = session.scalars(
        select(jobs.c.entity_id).where(jobs.c.state == str(JobState.HELD))
        .where(~exists().where(active.entity_id == jobs.c.entity_id,
                               active.state.in_([str(JobState.QUEUED), str(JobState.WAITING)])))
        .distinct()).all()
    return sum(release_next(session, entity_id) for entity_id in stranded)


def postpone(session: Session, job_id: int, message: str, backoff_seconds: float) -> Job | None:
    """Count a failed attempt of a queued job and put it off (the step that failed was rolled
    back, so the job is still ``queued``); None if it is not queued any more."""
    table = Job.__table__
    result = session.execute(
        update(table).where(table.c.id == job_id, table.c.state == str(JobState.QUEUED))
        .values(attempts=table.c.attempts + 1, message=message[:4000],
                run_after=utcnow() + timedelta(seconds=backoff_seconds))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    return session.get(Job, job_id, populate_existing=True)
