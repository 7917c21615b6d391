"""Waiting for PostgreSQL notifications: a commit in any process that queued work (jobs, agent
commands) wakes the waiters of every other process at once, rather than at their next poll."""

from __future__ import annotations

import select
import time


class PostgresListener:
    """LISTEN on one channel over a connection of its own (taken from the engine's pool and
    thrown away at close: it is left in autocommit mode)."""

    def __init__(self, pooled, channel: str):
        self._pooled = pooled
        self.connection = pooled.driver_connection
        self.channel = channel

    @classmethod
    def for_engine(cls, engine, channel: str) -> PostgresListener | None:
        if engine.dialect.name != "postgresql":
            return None
        pooled = engine.raw_connection()
        pooled.driver_connection.autocommit = True
        with pooled.driver_connection.cursor() as cursor:
            cursor.execute(f"LISTEN {channel}")
        return cls(pooled, channel)

    def wait(self, timeout: float, key: object = None) -> bool:
        """Block until a notification arrives (True) or ``timeout`` passes (False). With
        ``key``, only a notification whose payload is that key (or empty: for everyone)
        counts; the others are dropped and the wait goes on."""
        deadline = time.monotonic() + max(0.0, timeout)
        wanted = None if key is None else {"", str(key)}
        while True:
            remaining = deadline - time.monotonic()
            if select.select([self.connection], [], [], max(0.0, remaining)) == ([], [], []):
                return False
            self.connection.poll()
            payloads = {notification.payload for notification in self.connection.notifies}
            self.connection.notifies.clear()
            if wanted is None or payloads & wanted:
                return True
            if remaining <= 0:
                return False

    def receive(self, timeout: float, wake_fd: int | None = None) -> list[str]:
        """The payloads of the notifications that arrive within ``timeout`` (at once when some
        are waiting), or none. Readable ``wake_fd`` (the read end of a pipe its owner writes
        to when it stops) ends the wait early, with no payloads."""
        watched = [self.connection] if wake_fd is None else [self.connection, wake_fd]
        readable, _, _ = select.select(watched, [], [], max(0.0, timeout))
        if self.connection not in readable:
            return []
        self.connection.poll()
        payloads = [notification.payload for notification in self.connection.notifies]
        self.connection.notifies.clear()
        return payloads

    def close(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("UNLISTEN *")
        except Exception:  # noqa: BLE001 - the connection is discarded either way
            pass
        finally:
            self._pooled.invalidate()
