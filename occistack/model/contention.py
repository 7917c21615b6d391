"""Concurrent transactions: how rows are locked, and what to do when PostgreSQL gives up on one.

Row locks
---------
A transaction that must serialise the writers of a row it will change or rely on (a host whose
capacity it reserves, a project whose quota it checks, a job it advances) locks it with
``ROW_LOCK``: ``SELECT … FOR NO KEY UPDATE`` on PostgreSQL, the lock an ordinary ``UPDATE``
takes. It does not use ``FOR UPDATE``: that lock also waits for every transaction that merely
*inserted a row referring to it* (the foreign-key check holds ``FOR KEY SHARE`` on the parent
until commit), which is how a destroy's ``SELECT … FROM hosts … FOR UPDATE`` and a create's
``UPDATE hosts SET cpu_used_mhz`` deadlocked: the create had inserted its VM on that host.
No key of these rows ever changes while something refers to them, so the weaker lock is enough.

Locks are taken in one order, parents before children:

    domains, from the top, and accounts (limits over many projects)  →  projects (quota)  →
    affinity groups  →  hosts  →  storage pools  →  virtual machines,
    volumes, NICs, addresses  →  jobs  →  agent commands

and a use case that reserves capacity does so last (placement_service.PlacementService.plan_vm
says why). SQLite has one writer at a time and no row locks; ``ROW_LOCK`` is ignored there.

Conflicts
---------
Whatever the order, PostgreSQL may still end a transaction with a serialization failure or a
deadlock (SQLSTATE class 40): nothing it did is kept, and running it again is correct. The
request transaction is run again by pyramid_retry (``retry.attempts``, api/database.py),
worker steps and agent messages by :func:`run_retrying`. A conflict that outlasts the attempts
is "the database is busy", never "not reachable": :func:`describe_database_error` says which.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

try:  # psycopg2's class of SQLSTATE 40 (serialization_failure, deadlock_detected, …)
    from psycopg2.extensions import TransactionRollbackError
except ImportError:  # pragma: no cover - psycopg2 is a dependency
    TransactionRollbackError = ()

log = logging.getLogger(__name__)

T = TypeVar("T")

#: ``with_for_update=`` of ``Session.get`` (and ``**ROW_LOCK`` for ``Select.with_for_update``).
ROW_LOCK = {"key_share": True}
#: How often a transaction PostgreSQL ended for a conflict is run in all (the first run included).
CONFLICT_ATTEMPTS = 3


def is_transient_conflict(error: BaseException) -> bool:
    """A serialization failure or deadlock (SQLSTATE 40001, 40P01, …): retrying is correct."""
    if not isinstance(error, DBAPIError):
        return False
    if isinstance(error.orig, TransactionRollbackError):
        return True
    code = getattr(error.orig, "pgcode", None) or getattr(error.orig, "sqlstate", None)
    return isinstance(code, str) and code.startswith("40")


def is_busy(error: BaseException) -> bool:
    """The database answered but would not do this now: a conflict with other transactions, a
    lock or statement timeout, or SQLite's lock held by another writer for too long."""
    if is_transient_conflict(error):
        return True
    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "pgcode", None)
    # 55P03 lock_not_available, 57014 query_canceled (statement_timeout, lock_timeout).
    if code in ("55P03", "57014"):
        return True
    return "database is locked" in str(error.orig) or "database table is locked" in str(error.orig)


def describe_database_error(error: OperationalError) -> tuple[str, int]:
    """What a client is told about a database error its request met, and after how many
    seconds it may try again."""
    if is_busy(error):
        return ("the database was busy with concurrent changes and this request could not be completed "
                f"after {CONFLICT_ATTEMPTS} attempts; nothing was changed — try again"), 1
    return "the database is not reachable right now; nothing was changed — try again shortly", 5


def run_retrying(work: Callable[[], T], what: str, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """``work()``, run again (after a short random pause) when the database ended its
    transaction for a conflict; ``work`` must open and end its own transaction."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if not is_transient_conflict(error):
                raise
            if attempt == attempts:
                error.occistack_attempts_spent = True  # no one around it should try again
                raise
            log.info("%s: %s; trying again (attempt %d of %d)", what, error.orig.__class__.__name__,
                     attempt + 1, attempts)
            conflict_pause(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def should_run_again(error: BaseException) -> bool:
    """Whether a request that met ``error`` may be run again whole (pyramid_retry): a conflict
    that no inner :func:`run_retrying` has already tried again."""
    return is_transient_conflict(error) and not getattr(error, "occistack_attempts_spent", False)


def conflict_pause(attempt: int) -> None:
    """A short random pause, longer with each attempt, so that the transactions that collided
    do not collide again in step."""
    time.sleep(random.uniform(0.005, 0.05) * attempt)
