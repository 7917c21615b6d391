"""What keeps concurrent creates from queueing behind each other on PostgreSQL: a public address
another transaction is taking is skipped, not waited for; an agent's long poll wakes for its
own host's commands only."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from occistack.model import Zone
from occistack.plane import addresses
from occistack.plane import wakeups
from occistack.plane.listener import PostgresListener

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def demo_ranges(session):
    zone = session.scalar(select(Zone).where(Zone.name == "zone1"))
    return addresses.public_ranges(session, zone.id)


def test_an_address_another_transaction_is_taking_is_skipped_without_waiting(session_factory, demo_data):
    with session_factory() as first, first.begin():
        taken = addresses._free_untaken(first, demo_ranges(first))
        with session_factory() as second, second.begin():
            started = time.monotonic()
            other = addresses._free_untaken(second, demo_ranges(second))
            assert time.monotonic() - started < 1.0
            assert other == taken + 1
            with session_factory() as third, third.begin():
                # The second marked only the one it took, not the candidates after it.
                assert addresses._free_untaken(third, demo_ranges(third)) == taken + 2
        first.rollback()  # gives up the address without ever writing it
    with session_factory() as again, again.begin():
        assert addresses._free_untaken(again, demo_ranges(again)) == taken


def test_a_long_poll_wakes_only_for_its_own_host_s_commands(session_factory):
    listener = PostgresListener.for_engine(session_factory.kw["bind"], wakeups.COMMANDS_CHANNEL)
    try:
        with session_factory() as session, session.begin():
            wakeups.mark_commands_written(session, 2)
        assert listener.wait(0.3, key=1) is False  # host 2's command does not wake host 1's agent
        with session_factory() as session, session.begin():
            wakeups.mark_commands_written(session, 2)
            wakeups.mark_commands_written(session, 1)
        assert listener.wait(2.0, key=1) is True
        with session_factory() as session, session.begin():
            wakeups.mark_commands_written(session, 3)
        assert listener.wait(2.0) is True  # without a key, any notification wakes
    finally:
        listener.close()


def test_a_notification_is_sent_once_per_host_and_transaction(session_factory):
    listener = PostgresListener.for_engine(session_factory.kw["bind"], wakeups.COMMANDS_CHANNEL)
    try:
        with session_factory() as session, session.begin():
            for host in (4, 4, 5, 4):
                wakeups.mark_commands_written(session, host)
        time.sleep(0.2)
        listener.connection.poll()
        assert sorted(n.payload for n in listener.connection.notifies) == ["4", "5"]
    finally:
        listener.close()
