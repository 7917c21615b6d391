"""Credentials that stop proving anything, in every process at once.

A server remembers recently verified credentials (a password, a token, a certificate chain)
with the identity they proved, so that most requests cost no database read
(federation/local.py, ``CredentialCache``). When a transaction disables or removes a user,
changes their password or role, or disables their account, that memory is wrong from the
moment the transaction commits -- in the process that made the change, in the other server
processes, and when the change came from the ``occistack`` command line.

The use case says so with :func:`revoke_credentials`. At commit, this process's subscribers
hear it through the session's after-commit hook, and on PostgreSQL every other process's
through ``NOTIFY`` (delivered at commit, never on rollback), which :class:`RevocationFeed`
listens for in a thread of each server. A process that loses its listening connection may
have missed a notification, so it tells its subscribers to forget everyone when it is back.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from occistack.plane.listener import PostgresListener
from occistack.plane.wakeups import call_after_commit

log = logging.getLogger(__name__)

CREDENTIALS_CHANNEL = "occistack_credentials"
#: Revokes everyone's remembered credentials (an account disabled as a whole, a lost connection).
EVERYONE = "*"
_REVOKED = "occistack.revoked_credentials"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
# NOTIFY payloads must stay under 8000 bytes; user ids are sent in comma-separated chunks.
_LONGEST_PAYLOAD = 7000

#: What subscribers are handed: user ids as text, or EVERYONE.
Forget = Callable[[frozenset[str]], None]


def revoke_credentials(session: Session, user_ids: Iterable[int] | None = None) -> None:
    """Say that this transaction takes away what the credentials of ``user_ids`` (or, with None,
    of every user) proved until now; remembered identities are dropped when it commits."""
    wanted = {EVERYONE} if user_ids is None else {str(user_id) for user_id in user_ids}
    pending: set[str] = session.info.setdefault(_REVOKED, set())
    new = sorted(wanted - pending)
    if not new:
        return
    pending.update(new)
    # Begin the transaction now if nothing has yet, so that its rollback (which drops what is
    # pending) reaches the database and the after-rollback hook.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for payload in _payloads(new):
            session.execute(_NOTIFY, {"channel": CREDENTIALS_CHANNEL, "payload": payload})


def _payloads(keys: list[str]) -> Iterable[str]:
    chunk: list[str] = []
    length = 0
    for key in keys:
        if chunk and length + len(key) + 1 > _LONGEST_PAYLOAD:
            yield ",".join(chunk)
            chunk, length = [], 0
        chunk.append(key)
        length += len(key) + 1
    if chunk:
        yield ",".join(chunk)


def keys_of(payloads: Iterable[str]) -> frozenset[str]:
    return frozenset(key for payload in payloads for key in payload.split(",") if key)


class RevocationFeed:
    """Hands revoked credentials to this process's subscribers: those revoked by its own
    transactions at their commit, and (after :meth:`start`, on PostgreSQL) those of every
    other process as their notifications arrive."""

    def __init__(self, session_factory: sessionmaker, reconnect_seconds: float = 2.0):
        self.session_factory = session_factory
        self.reconnect_seconds = reconnect_seconds
        self._subscribers: list[Forget] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_read, self._wake_write = -1, -1
        call_after_commit(session_factory, _REVOKED, lambda keys: self.deliver(frozenset(keys)))

    def subscribe(self, forget: Forget) -> None:
        self._subscribers.append(forget)

    def deliver(self, keys: frozenset[str]) -> None:
        for forget in self._subscribers:
            try:
                forget(keys)
            except Exception:  # noqa: BLE001 - one subscriber's fault must not spare the others
                log.exception("a subscriber failed to forget revoked credentials")

    def start(self) -> None:
        """Listen for other processes' revocations, in a thread (PostgreSQL only: an SQLite
        database has one server process, whose own commits are heard without it)."""
        engine = self.session_factory.kw["bind"]
        if self._thread is not None or not self._subscribers or engine.dialect.name != "postgresql":
            return
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._listen, args=(engine,), daemon=True,
                                        name="occistack-revocations")
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        os.write(self._wake_write, b"x")
        self._thread.join(timeout=10)
        self._thread = None
        for fd in (self._wake_read, self._wake_write):
            os.close(fd)

    def _listen(self, engine) -> None:
        listener: PostgresListener | None = None
        while not self._stop.is_set():
            try:
                if listener is None:
                    listener = PostgresListener.for_engine(engine, CREDENTIALS_CHANNEL)
                    # Whatever was revoked while this process was not listening is unknown.
                    self.deliver(frozenset({EVERYONE}))
                keys = keys_of(listener.receive(60.0, wake_fd=self._wake_read))
                if keys:
                    self.deliver(keys)
            except Exception:  # noqa: BLE001 - the database went away: listen again when it is back
                log.warning("lost the connection that hears revoked credentials; listening again shortly",
                            exc_info=True)
                if listener is not None:
                    listener.close()
                    listener = None
                self._stop.wait(self.reconnect_seconds)
        if listener is not None:
            listener.close()
