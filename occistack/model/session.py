"""Session factories, with the bookkeeping every session needs.

Whenever a flush touches something published as OCCI categories (templates, offerings, zones,
user mixins), the catalog generation is bumped in the same transaction, and the session notes it
in ``session.info`` so the process that made the change can refresh its own registry at commit.
"""

from __future__ import annotations

import zope.sqlalchemy
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .catalog import CatalogGeneration, OsTemplate, ServiceOffering, Zone
from .resources import UserMixin

_CATALOG_CLASSES = (OsTemplate, ServiceOffering, Zone, UserMixin)
CATALOG_CHANGED = "occistack.catalog_changed"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _bump_generation_on_catalog_change)
    return factory


def _bump_generation_on_catalog_change(session: Session, _context, _instances) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if not any(isinstance(instance, _CATALOG_CLASSES) for instance in touched):
        return
    table = CatalogGeneration.__table__
    session.connection().execute(update(table).where(table.c.id == 1).values(generation=table.c.generation + 1))
    session.info[CATALOG_CHANGED] = True


def get_tm_session(session_factory: sessionmaker[Session], transaction_manager, request=None) -> Session:
    """A session whose commit and rollback belong to ``transaction_manager`` (pyramid_tm's in the
    server, ``transaction.manager`` in the command line)."""
    session = session_factory(info={"request": request})
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    # zope.sqlalchemy commits only sessions it saw change through the ORM; the use cases also
    # write with Core statements (conditional state updates, bulk deletes), so say so.
    event.listen(session, "do_orm_execute", _mark_writes)
    return session


def _mark_writes(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        zope.sqlalchemy.mark_changed(state.session)
