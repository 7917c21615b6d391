"""Waking whoever waits for work, when a transaction that queued work commits.

Two kinds of work are queued as rows: jobs (for workers) and agent commands (for the host
agents). A transaction that writes either says so here; when it commits, the waiters of this
process are woken through a :class:`Notifier`, and on PostgreSQL those of every other process
through ``NOTIFY`` (PostgreSQL delivers it at commit, and not at all on rollback). A command's
notification carries its host's id, so that an agent wakes for its own host's commands only,
not for every command of the cloud.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

JOBS_CHANNEL = "occistack_jobs"
COMMANDS_CHANNEL = "occistack_commands"
_WROTE_JOBS = "occistack.wrote_jobs"
_WROTE_COMMANDS = "occistack.wrote_commands"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class Notifier:
    """Wakes the threads of this process that wait for work: all of them, or those waiting
    for one key (a host's agent waits for its host's commands only)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0
        self._by_key: dict[object, int] = {}
        self._closed = False

    def notify(self, keys=()) -> None:
        with self._condition:
            self._generation += 1
            for key in keys:
                self._by_key[key] = self._by_key.get(key, 0) + 1
            self._condition.notify_all()

    def close(self) -> None:
        """Wake every waiter, now and from now on: the process is stopping."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def wait(self, seen: int, timeout: float, key=None) -> int:
        """Block until notified after generation ``seen`` (of ``key``, when given), until
        ``timeout``, or until closed; the generation then."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self.generation_of(key) == seen and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return self.generation_of(key)

    def generation_of(self, key=None) -> int:
        return self._generation if key is None else self._by_key.get(key, 0)

    @property
    def generation(self) -> int:
        return self._generation


def mark_jobs_written(session: Session) -> None:
    """Say that this transaction queued jobs: workers are woken when it commits."""
    if not session.info.get(_WROTE_JOBS):
        session.info[_WROTE_JOBS] = True
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_NOTIFY, {"channel": JOBS_CHANNEL, "payload": ""})


def mark_commands_written(session: Session, host_id: int) -> None:
    """Say that this transaction queued commands for a host: its long-polling agent is woken
    when it commits (in this process by the command notifier, in others by NOTIFY with the
    host's id)."""
    hosts = session.info.get(_WROTE_COMMANDS)
    if hosts is None:
        hosts = session.info[_WROTE_COMMANDS] = set()
    if host_id not in hosts:
        hosts.add(host_id)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_NOTIFY, {"channel": COMMANDS_CHANNEL, "payload": str(host_id)})


def wake_every_agent(engine) -> None:
    """Wake every agent's long poll (on PostgreSQL, those of every process): a notification
    for no host in particular. Sent when a server stops, so that its long polls end now."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(_NOTIFY, {"channel": COMMANDS_CHANNEL, "payload": ""})
    except SQLAlchemyError as error:  # stopping goes on: the polls then end at their timeout
        log.warning("could not wake the agents' long polls: %s", error)


def wake_workers_after_commit(session_factory: sessionmaker, notifier: Notifier) -> None:
    """Poke ``notifier`` whenever a session of ``session_factory`` commits queued jobs."""
    call_after_commit(session_factory, _WROTE_JOBS, lambda wrote: notifier.notify())


def wake_agents_after_commit(session_factory: sessionmaker, notifier: Notifier) -> None:
    """Poke ``notifier`` for the hosts whose commands a session of ``session_factory`` queued."""
    call_after_commit(session_factory, _WROTE_COMMANDS, notifier.notify)


def call_after_commit(session_factory: sessionmaker, key: str, wake) -> None:
    """Call ``wake`` with what a transaction of ``session_factory`` left in ``session.info[key]``,
    once it has committed; a rollback drops it."""
    @event.listens_for(session_factory, "after_commit")
    def _wake(session):
        if session.in_nested_transaction():
            return  # a savepoint ended, not the transaction
        wrote = session.info.pop(key, None)
        if wrote:
            wake(wrote)

    @event.listens_for(session_factory, "after_rollback")
    def _forget(session):
        if session.in_nested_transaction():
            return  # a savepoint ended, not the transaction
        session.info.pop(key, None)
