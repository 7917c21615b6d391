"""Read-only sessions: they see committed rows and never wait for, or block, the writer."""

from __future__ import annotations

import threading

from sqlalchemy import select, update

from occistack.model import Domain
from occistack.model.session import read_only_session


def test_a_read_only_session_reads_while_a_writer_holds_the_database(engine, session_factory):
    writing, read_done = threading.Event(), threading.Event()
    seen: list[str] = []

    def reader():
        writing.wait(5)
        with read_only_session(engine) as session:
            seen.append(session.scalar(select(Domain.name).where(Domain.id == 1)))
        read_done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    with session_factory() as session, session.begin():
        session.execute(update(Domain).where(Domain.id == 1).values(name="RENAMED"))
        writing.set()
        # On SQLite this transaction holds the one writer lock; the reader must finish
        # anyway, and it sees the last committed name, not this uncommitted one.
        assert read_done.wait(5), "the read-only session waited for the writer"
    thread.join()
    assert seen == ["ROOT"]
    with session_factory() as session, session.begin():
        session.execute(update(Domain).where(Domain.id == 1).values(name="ROOT"))


def test_what_a_read_only_session_writes_is_thrown_away(engine, session_factory):
    with read_only_session(engine) as session:
        session.execute(update(Domain).where(Domain.id == 1).values(name="NEVER"))
    with session_factory() as session:
        assert session.scalar(select(Domain.name).where(Domain.id == 1)) == "ROOT"
