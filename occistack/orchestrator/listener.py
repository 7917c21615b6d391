"""Waiting for PostgreSQL notifications: a commit in any process that queued work (jobs, agent
commands) wakes the waiters of every other process at once, rather than at their next poll."""

from __future__ import annotations

import select


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

    def wait(self, timeout: float) -> bool:
        """Block until a notification arrives (True) or ``timeout`` passes (False)."""
        if select.select([self.connection], [], [], max(0.0, timeout)) == ([], [], []):
            return False
        self.connection.poll()
        self.connection.notifies.clear()
        return True

    def close(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("UNLISTEN *")
        except Exception:  # noqa: BLE001 - the connection is discarded either way
            pass
        finally:
            self._pooled.invalidate()
