"""One SQLAlchemy session per request, joined to the request's transaction (pyramid_tm).

Views and use cases never commit: pyramid_tm commits when the view returns and aborts when it
raises, so a failure leaves nothing half-written.

When PostgreSQL ends the transaction for a deadlock or a serialization failure, the whole
request runs again (pyramid_retry; ``retry.attempts``, default 3, after a short random pause):
nothing of the failed attempt was kept, and the client sees only the answer of the attempt that
went through (model/contention.py). The request body is kept for the new attempt.
"""

from __future__ import annotations

from pyramid_retry import IBeforeRetry
from sqlalchemy import event

from occistack.model import make_engine
from occistack.model.contention import CONFLICT_ATTEMPTS, conflict_pause
from occistack.model.session import CATALOG_CHANGED, get_tm_session, make_session_factory


def includeme(config) -> None:
    settings = config.get_settings()
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("retry.attempts", str(CONFLICT_ATTEMPTS))
    settings.setdefault("retry.activate_hook", f"{__name__}.attempts_for")
    config.include("pyramid_retry")
    config.include("pyramid_tm")
    config.add_subscriber(_pause_before_retry, IBeforeRetry)
    engine = settings.get("occistack.engine") or make_engine(settings)
    session_factory = make_session_factory(engine)
    config.registry["occistack.engine"] = engine
    config.registry["occistack.session_factory"] = session_factory

    registry = config.registry

    @event.listens_for(session_factory, "after_commit")
    def _catalog_committed(session):
        if session.in_nested_transaction():
            return  # a savepoint ended, not the transaction
        # This process changed what is published as categories: refresh at the next request.
        if session.info.pop(CATALOG_CHANGED, False):
            catalog = registry.get("occistack.catalog")
            if catalog is not None:
                catalog.invalidate()

    @event.listens_for(session_factory, "after_rollback")
    def _catalog_rolled_back(session):
        if session.in_nested_transaction():
            return  # a savepoint ended, not the transaction
        session.info.pop(CATALOG_CHANGED, None)

    def dbsession(request):
        return get_tm_session(session_factory, request.tm, request)

    config.add_request_method(dbsession, "dbsession", reify=True)


#: Methods that lock no rows (reads run in READ COMMITTED): one attempt, and no copy of a body.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def attempts_for(request) -> int | None:
    """pyramid_retry's hook: reads are run once; everything else ``retry.attempts`` times --
    except a body of unknown length (chunked). Retrying means copying the body before any tween
    runs, and such a body is read only up to ``occistack.max_request_body_bytes`` by the
    protocol tween (protocol.py): copied here, a client could make the server store any amount."""
    if request.method in _READS:
        return 1
    if request.environ.get("CONTENT_LENGTH") in (None, "") and "HTTP_TRANSFER_ENCODING" in request.environ:
        return 1
    return None


def _pause_before_retry(event) -> None:
    conflict_pause(event.environ.get("retry.attempt", 0) + 1)
