"""What the plane's tests share: a session whose transaction is rolled back after the test."""

from __future__ import annotations

import pytest
import transaction

from occistack.model.session import get_tm_session


@pytest.fixture
def session(session_factory):
    """A session whose transaction (its own manager's) is aborted after the test, so the
    database is left as the test found it. (conftest's ``tm_session`` asks its manager for
    ``isInTransaction()``, which transaction's TransactionManager does not have, and so never
    aborts; the open SQLite transaction then locks the database.)"""
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    the_session = get_tm_session(session_factory, manager)
    try:
        yield the_session
    finally:
        try:
            manager.abort()
        except transaction.interfaces.NoTransaction:
            pass
        the_session.close()
