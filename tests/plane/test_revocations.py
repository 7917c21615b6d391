"""plane/revocations.py: revoked credentials reach this process's subscribers at commit (never
on rollback), and on PostgreSQL another process's subscribers through NOTIFY."""

from __future__ import annotations

import threading

from sqlalchemy import text

from occistack.model import make_engine
from occistack.model.session import make_session_factory
from occistack.plane.revocations import EVERYONE, RevocationFeed, _payloads, keys_of, revoke_credentials


class Heard:
    def __init__(self):
        self.keys: set[str] = set()
        self.arrived = threading.Event()

    def __call__(self, keys: frozenset[str]) -> None:
        self.keys |= keys
        self.arrived.set()


def test_a_commit_hands_the_revoked_users_to_the_subscribers(session_factory):
    feed, heard = RevocationFeed(session_factory), Heard()
    feed.subscribe(heard)
    with session_factory() as session:
        revoke_credentials(session, [3, 5])
        revoke_credentials(session, [5])
        assert heard.keys == set()  # not before the commit
        session.commit()
    assert heard.keys == {"3", "5"}


def test_a_rollback_revokes_nothing(session_factory):
    feed, heard = RevocationFeed(session_factory), Heard()
    feed.subscribe(heard)
    with session_factory() as session:
        revoke_credentials(session, [7])
        session.rollback()
        session.execute(text("SELECT 1"))
        session.commit()
    assert heard.keys == set()


def test_no_users_named_means_everyone(session_factory):
    feed, heard = RevocationFeed(session_factory), Heard()
    feed.subscribe(heard)
    with session_factory() as session:
        revoke_credentials(session)
        session.commit()
    assert heard.keys == {EVERYONE}


def test_many_users_are_sent_in_payloads_postgresql_accepts():
    keys = [str(n) for n in range(100_000, 103_000)]
    payloads = list(_payloads(keys))
    assert len(payloads) > 1
    assert all(len(payload) < 8000 for payload in payloads)
    assert keys_of(payloads) == frozenset(keys)


def test_another_process_hears_the_revocation(db_url):
    if not db_url.startswith("postgresql"):
        return  # one process per SQLite database: its own commits are all it hears
    writer_engine, reader_engine = make_engine({"sqlalchemy.url": db_url}), make_engine({"sqlalchemy.url": db_url})
    writer = make_session_factory(writer_engine)
    listening, heard = RevocationFeed(make_session_factory(reader_engine)), Heard()
    listening.subscribe(heard)
    listening.start()
    try:
        # The listener first forgets everyone (it cannot know what it missed before it listened).
        assert heard.arrived.wait(5)
        heard.keys.clear()
        heard.arrived.clear()
        with writer() as session:
            revoke_credentials(session, [42])
            session.commit()
        assert heard.arrived.wait(5)
        assert heard.keys == {"42"}
    finally:
        listening.stop()
        writer_engine.dispose()
        reader_engine.dispose()


def test_a_listener_that_lost_its_connection_forgets_everyone_when_back(db_url):
    if not db_url.startswith("postgresql"):
        return
    engine = make_engine({"sqlalchemy.url": db_url})
    listening, heard = RevocationFeed(make_session_factory(engine), reconnect_seconds=0.1), Heard()
    listening.subscribe(heard)
    listening.start()
    try:
        assert heard.arrived.wait(5)
        heard.keys.clear()
        heard.arrived.clear()
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE query LIKE 'LISTEN occistack_credentials%' AND pid <> pg_backend_pid()"))
            connection.commit()
        assert heard.arrived.wait(10)
        assert heard.keys == {EVERYONE}
    finally:
        listening.stop()
        engine.dispose()
