"""The declarative base, the constraint naming convention and engine construction.

A naming convention makes constraint names deterministic, so alembic migrations are the same on
SQLite and PostgreSQL and can drop what they created.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine, engine_from_config
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def make_engine(settings: Mapping[str, Any], prefix: str = "sqlalchemy.") -> Engine:
    """An engine from ini settings; SQLite gets foreign keys enforced and a write lock taken at
    BEGIN, so that concurrent requests of the embedded server serialise instead of failing."""
    engine = engine_from_config(dict(settings), prefix=prefix, future=True)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


#: Execution option of connections that only read (see ``session.read_only_session``).
READ_ONLY = "occistack_read_only"


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every SQLite test
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take control.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # What SQLite recommends with WAL: no fsync per commit (a crash of the process loses
        # nothing; a power cut may lose the last commits, never the database's consistency).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    # SQLite has one writer at a time. Threads of this process queue for it on a Python lock
    # rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms: a thread
    # waiting there notices the lock free long after it was released (it cost the embedded
    # default more than half its throughput). Other processes still meet the busy timeout.
    writer = threading.RLock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised by every SQLite test
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # no transaction at all
        if options.get(READ_ONLY):
            # A deferred BEGIN reads one snapshot beside the writer (WAL) and never waits for it.
            connection.exec_driver_sql("BEGIN")
            return
        writer.acquire()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        connection.info["occistack.holds_writer"] = True

    def _release(connection):
        if connection.info.pop("occistack.holds_writer", False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
