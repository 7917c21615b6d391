"""Durable work: jobs (one state change of one resource) and the agent commands they send.

A use case writes a job in the request's transaction; nothing external happens before commit.
A worker claims it (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), runs its next step and,
when the step needs a host, writes agent commands in that same transaction and leaves the job
``waiting``. The agent fetches the commands, answers, and the last answer requeues the job for
its next step. Jobs of one resource run one at a time, in the order they were written: a unique
index allows one active (queued or waiting) job per resource, later ones wait ``held`` until
the one before ends and releases the next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.infrastructure import BigId
from occistack.model.meta import Base, utcnow
from occistack.model.states import CommandState, JobState


ACTIVE_CONDITION = "state IN ('queued', 'waiting')"
#: the states of a job that is not over: its resource has work under way.
UNFINISHED = (JobState.HELD, JobState.QUEUED, JobState.RUNNING, JobState.WAITING)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The indexes hold unfinished jobs only, so they stay small however long the history.
        # The claim: queued jobs, oldest first.
        Index("ix_jobs_queued", "id", postgresql_where=text("state = 'queued'"),
              sqlite_where=text("state = 'queued'")),
        # At most one active job per resource: what makes "one at a time" hold across
        # processes (the running state is never written, see plane/jobs/queue.py).
        Index("uq_jobs_active_entity", "entity_id", unique=True, postgresql_where=text(ACTIVE_CONDITION),
              sqlite_where=text(ACTIVE_CONDITION)),
        # The next job to release when a resource's active job ends.
        Index("ix_jobs_held_entity", "entity_id", "id", postgresql_where=text("state = 'held'"),
              sqlite_where=text("state = 'held'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: the handler's name, e.g. "deploy_vm".
    operation: Mapped[str] = mapped_column(String(64))
    #: the resource it changes (an entity id, or "host:<id>" for host-level work).
    entity_id: Mapped[str] = mapped_column(String(80))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(String(16), default=JobState.QUEUED)
    #: which step runs next; a handler's own bookkeeping between steps lives in ``progress``.
    step: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: when a waiting job gives up on its agent.
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class AgentCommand(Base):
    """One thing a host agent must do, with its answer once it has been done."""

    __tablename__ = "agent_commands"
    __table_args__ = (
        # What an agent fetches: its host's pending commands, in order.
        Index("ix_agent_commands_host_state", "host_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    #: the job step that sent it: answers to an older step (a late duplicate) are ignored.
    step: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[CommandState] = mapped_column(String(16), default=CommandState.PENDING)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)


class JobWorker(Base):
    """A job worker that has run lately: each one writes its heartbeat here every sweep, so a
    health check (and an administrator) can tell whether any worker is alive even while the
    queue is empty and no job shows progress."""

    __tablename__ = "job_workers"

    #: host:pid:thread, as the worker names itself in ``jobs.claimed_by``.
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
