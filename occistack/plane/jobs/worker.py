"""Job workers: claim a job, run its next step, commit; again.

One step is one transaction. When the handler gives up (StepFailed), the step's transaction is
rolled back -- everything it wrote is undone -- and a fresh one lets its ``on_failure`` move
the resource to ``error`` and fails the job; when anything else goes wrong (a bug, a lost database connection) the whole step is
rolled back -- the job is still ``queued`` -- and a fresh transaction counts the attempt and
puts the job off, or, after its last attempt, fails it and its resource with the reason. So
every job ends, done or failed with a message, also when the worker process is killed halfway:
PostgreSQL rolls the dead worker's transaction back and another worker claims the job.

``occistack worker`` runs :meth:`Worker.run_forever` in its own process; the embedded default
runs one in a thread of the server.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from occistack.model import Job, utcnow
from occistack.model.contention import CONFLICT_ATTEMPTS, ROW_LOCK, conflict_pause, is_transient_conflict
from occistack.model.states import JobEvent, JobState
from occistack.plane.agents import gateway
from occistack.plane.jobs import queue as jobs
from occistack.plane.jobs.handlers import HANDLERS, JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.deletes import resume_waiting_deletes
from occistack.plane.jobs.ha import submit_fencing
from occistack.plane.jobs.heartbeats import record_heartbeat
from occistack.plane.alerts import check_zone_capacity
from occistack.plane.jobs.services import ManagementServices
from occistack.plane.jobs.snapshot_policies import run_due_policies
from occistack.plane.jobs.handlers.base import previous_answers
from occistack.plane.listener import PostgresListener
from occistack.plane.jobs.queue import claim_in_memory, claim_next, move_job, postpone, release_stranded
from occistack.plane.wakeups import JOBS_CHANNEL, Notifier, mark_jobs_written
from occistack.plane import usage_hours

log = logging.getLogger(__name__)

#: Seconds before retrying a step that failed unexpectedly, by attempt.
_BACKOFF = (0.2, 1.0, 5.0, 30.0)


class Worker:
    def __init__(self, session_factory: sessionmaker[Session], services: ManagementServices,
                 handlers: dict[str, JobHandler] | None = None, name: str | None = None,
                 notifier: Notifier | None = None, sweep_seconds: float = 5.0, usage_hours_seconds: float = 60.0):
        self.session_factory = session_factory
        self.services = services
        self.handlers = handlers if handlers is not None else HANDLERS
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.notifier = notifier
        self.sweep_seconds = sweep_seconds
        self._last_sweep = 0.0
        #: how often the hours of usage that ended are aggregated (an hour ends once an hour).
        self.usage_hours_seconds = usage_hours_seconds
        self._last_usage_hours = 0.0
        #: job id -> conflicts its current step met in a row (see _run_again_after_conflict).
        self._conflicts: dict[int, int] = {}

    # --- one step --------------------------------------------------------------------------

    def run_once(self) -> bool:
        """Run one step of one job; False when there was nothing to do."""
        job_id = None
        failure: StepFailed | None = None
        try:
            with self.session_factory() as session, session.begin():
                job = claim_next(session, self.name)
                if job is None:
                    return False
                job_id = job.id
                failure = self._step(session, job)
                if failure is not None:
                    session.rollback()  # undo whatever the step wrote before it gave up
        except Exception as error:  # noqa: BLE001 - the step is rolled back; the job must still end
            if job_id is None:
                raise
            if self._run_again_after_conflict(job_id, error):
                return True
            log.exception("job %s failed unexpectedly in worker %s", job_id, self.name)
            self._after_crash(job_id, error)
            return True
        self._conflicts.pop(job_id, None)
        if failure is not None:
            self._fail(job_id, failure.message)
        return True

    def _run_again_after_conflict(self, job_id: int, error: Exception) -> bool:
        """A step PostgreSQL ended for a deadlock or serialization failure left nothing behind
        and the job queued: it runs again at once (the next claim), without counting an
        attempt -- up to CONFLICT_ATTEMPTS times in a row; then it counts as a crash."""
        if not is_transient_conflict(error):
            return False
        conflicts = self._conflicts.get(job_id, 0) + 1
        if conflicts >= CONFLICT_ATTEMPTS:
            self._conflicts.pop(job_id, None)
            return False
        self._conflicts[job_id] = conflicts
        log.info("job %s met a conflict in worker %s (%s); running the step again", job_id, self.name,
                 getattr(error, "orig", error).__class__.__name__)
        conflict_pause(conflicts)
        return True

    def _step(self, session: Session, job: Job) -> StepFailed | None:
        """Run the job's next step and write its outcome; the StepFailed it gave up with."""
        handler = self.handlers.get(job.operation)
        if handler is None:
            move_job(session, job, JobEvent.FAIL, message=f"no handler for operation {job.operation!r}")
            return None
        context = StepContext(session, job, self.services, previous_answers(session, job))
        try:
            outcome = handler.run(context)
        except StepFailed as failure:
            return failure
        if outcome is Outcome.WAIT:
            if not context.sent:
                raise RuntimeError(f"{job.operation} step {job.step} waits but sent no command")
            move_job(session, job, JobEvent.WAIT, deadline=_deadline(handler))
        else:
            # A message left by a failed earlier attempt no longer describes the job.
            move_job(session, job, JobEvent.COMPLETE, **({"message": None} if job.message else {}))
        return None

    def continue_answered(self, session: Session, job_id: int, step: int) -> None:
        """Run a job's next step now, in the transaction that recorded the last answer of its
        step -- "the answer advances the job" -- instead of requeueing it for a worker: one
        transaction and one claim fewer per step. The step runs in a savepoint; if it fails
        unexpectedly, only the step is undone and the job stays queued for a worker."""
        job = gateway.requeue_answered_job(session, job_id, step)
        if job is None:
            return  # other commands of the step are still out
        handler = self.handlers.get(job.operation)
        if handler is None:
            mark_jobs_written(session)
            return
        claim_in_memory(session, job, self.name)
        try:
            with session.begin_nested():
                failure = self._step(session, job)
                if failure is not None:
                    raise _GaveUp(failure)
        except _GaveUp as gave_up:
            # The step's writes are undone; its handler moves the resource to error.
            session.expire_all()
            claim_in_memory(session, job, self.name)
            handler.on_failure(StepContext(session, job, self.services, previous_answers(session, job)),
                               gave_up.failure.message)
            move_job(session, job, JobEvent.FAIL, message=gave_up.failure.message[:4000])
        except Exception:  # noqa: BLE001 - the answer stays recorded; a worker retries the step
            log.exception("job %s: its next step failed in the answer's transaction; a worker will retry", job_id)
            session.info.get(jobs.CLAIMED_KEY, {}).pop(job_id, None)
            mark_jobs_written(session)

    def _fail(self, job_id: int, message: str) -> None:
        """End a job whose step gave up: in a fresh transaction (the step's writes are gone),
        its handler moves the resource to error, and the job is failed with the message."""
        with self.session_factory() as session, session.begin():
            job = claim_specific(session, job_id, self.name)
            if job is None:
                return
            handler = self.handlers[job.operation]
            handler.on_failure(StepContext(session, job, self.services, previous_answers(session, job)), message)
            move_job(session, job, JobEvent.FAIL, message=message[:4000])

    def _after_crash(self, job_id: int, error: Exception) -> None:
        reason = f"internal error: {error.__class__.__name__}: {error}"
        with self.session_factory() as session, session.begin():
            job = session.get(Job, job_id, with_for_update=ROW_LOCK, populate_existing=True)
            if job is None or job.state != JobState.QUEUED:
                return
            if job.attempts + 1 < job.max_attempts:
                postpone(session, job_id, reason, _BACKOFF[min(job.attempts, len(_BACKOFF) - 1)])
                return
            # The last attempt: end the job and put its resource in error with the reason.
            claimed = claim_specific(session, job_id, self.name)
            if claimed is None:
                return
            handler = self.handlers.get(claimed.operation)
            if handler is not None:
                handler.on_failure(StepContext(session, claimed, self.services), reason)
            move_job(session, claimed, JobEvent.FAIL, attempts=claimed.attempts + 1, message=reason[:4000])

    # --- housekeeping and the loop ---------------------------------------------------------

    def sweep(self) -> None:
        """Hosts whose heartbeats stopped, waiting jobs whose agents never answered, held jobs
        nothing released; and this worker's own heartbeat (plane/jobs/heartbeats.py). Then the
        snapshot policies that are due."""
        with self.session_factory() as session, session.begin():
            record_heartbeat(session, self.name)
            timings = self.services.gateway_now(session)
            gateway.sweep_hosts(session, timings)
            if self.services.power is not None and self.services.dispatcher is not None:
                submit_fencing(session, self.services.dispatcher, timings)
            check_zone_capacity(session, self.services.capacity_alert_threshold(session))
            gateway.expire_waiting_jobs(session)
            release_stranded(session)
            resume_waiting_deletes(session)
        self._last_sweep = time.monotonic()
        self.run_snapshot_policies()
        if self._last_sweep - self._last_usage_hours >= self.usage_hours_seconds:
            self.aggregate_usage_hours()

    def run_snapshot_policies(self, now: datetime | None = None) -> int:
        """Take the snapshots of the policies whose time has come (plane/jobs/snapshot_policies.py),
        in a transaction of its own so that the sweep's housekeeping never waits on them; how
        many runs this worker took."""
        if self.services.dispatcher is None:
            return 0
        with self.session_factory() as session, session.begin():
            return run_due_policies(session, self.services.dispatcher, now or utcnow())

    def aggregate_usage_hours(self) -> int:
        """Aggregate the hours of usage that ended since the last run (plane/usage_hours.py),
        each hour in a transaction of its own; how many hours were done. Another worker doing
        the same hour at the same moment makes this one's insert fail: that hour is done."""
        self._last_usage_hours = time.monotonic()
        with self.session_factory() as session:
            due = usage_hours.hours_due(session)
        for hour in due:
            try:
                with self.session_factory() as session, session.begin():
                    usage_hours.aggregate_hour(session, hour)
            except IntegrityError:
                log.info("usage hour %s: aggregated by another worker meanwhile", hour.isoformat())
                return due.index(hour)
        return len(due)

    def drain(self, limit: int = 100_000) -> int:
        """Run steps until none is runnable; how many ran."""
        ran = 0
        while ran < limit and self.run_once():
            ran += 1
        return ran

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        listener = PostgresListener.for_engine(self.session_factory.kw["bind"], JOBS_CHANNEL)
        seen = self.notifier.generation if self.notifier else 0
        try:
            while not stop.is_set():
                try:
                    self.drain(limit=1000)
                    if time.monotonic() - self._last_sweep >= self.sweep_seconds:
                        self.sweep()
                except Exception:  # noqa: BLE001 - a worker outlives database hiccups
                    log.exception("worker %s: the job loop failed; retrying", self.name)
                    stop.wait(1.0)
                    continue
                if listener is not None:
                    listener.wait(poll_seconds)
                elif self.notifier is not None:
                    seen = self.notifier.wait(seen, poll_seconds)
                else:
                    stop.wait(poll_seconds)
        finally:
            if listener is not None:
                listener.close()


class _GaveUp(Exception):
    def __init__(self, failure: StepFailed):
        super().__init__(failure.message)
        self.failure = failure


def claim_specific(session: Session, job_id: int, worker: str) -> Job | None:
    """Lock and claim one given job, if it is still queued."""
    job = session.get(Job, job_id, with_for_update=ROW_LOCK, populate_existing=True)
    if job is None or job.state != JobState.QUEUED:
        return None
    claim_in_memory(session, job, worker)
    return job


def _deadline(handler: JobHandler) -> datetime:
    return utcnow() + timedelta(seconds=handler.wait_seconds)


__all__ = ["ManagementServices", "PostgresListener", "Worker", "claim_specific"]
