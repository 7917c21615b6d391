"""Session factories, with the bookkeeping every session needs.

Whenever a flush touches something published as OCCI categories (templates, offerings, zones,
user mixins), the catalog generation is bumped in the same transaction, and the session notes it
in ``session.info`` so the process that made the change can refresh its own registry at commit.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from typing import Iterator

from zope.sqlalchemy.datamanager import STATUS_ACTIVE, join_transaction, mark_changed
from sqlalchemy import event, inspect, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from occistack.model.catalog import CatalogGeneration, OsTemplate, ServiceOffering, TemplateCopy, TemplateShare, Zone
from occistack.model.infrastructure import Cluster, Host, InventoryGeneration, PhysicalNetwork, Pod, StoragePool, VlanRange
from occistack.model.meta import READ_ONLY
from occistack.model.resources import AffinityGroup, UserMixin

#: A template copy's state changes (with a conditional UPDATE, plane/transitions.py) move the
#: generation: /-/ lists each os_tpl's zones; its download progress, also written with Core
#: UPDATEs, does not. A share (or its removal) changes what its project's catalog offers.
_CATALOG_CLASSES = (OsTemplate, TemplateCopy, TemplateShare, ServiceOffering, Zone, UserMixin, AffinityGroup)
CATALOG_CHANGED = "occistack.catalog_changed"
#: What the topology snapshot of placement is built from. Capacity columns change with every
#: placement and are not part of it: the snapshot corrects them host by host.
_INVENTORY_CLASSES = (Zone, Pod, Cluster, Host, StoragePool, PhysicalNetwork, VlanRange)
_CAPACITY_COLUMNS = {"cpu_used_mhz", "memory_used_mib", "used_gib", "last_heartbeat", "agent_version",
                     "hypervisor_version", "state_message"}
INVENTORY_CHANGED = "occistack.inventory_changed"


_TRANSACTION_MANAGER = "occistack.transaction_manager"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _bump_generation_on_catalog_change)
    _join_transaction_managers(factory)
    event.listen(factory, "after_commit", _forget_transaction_caches)
    event.listen(factory, "after_rollback", _forget_transaction_caches)
    return factory


#: ``session.info`` keys under this prefix hold what one transaction read and may reuse (a
#: project's quotas, a zone's public ranges); they go when it ends.
TRANSACTION_CACHE = "occistack.cache."


def _forget_transaction_caches(session: Session) -> None:
    # These events fire for savepoints too (SQLAlchemy 2): only the transaction's end counts.
    if session.in_nested_transaction():
        return
    for key in [key for key in session.info if isinstance(key, str) and key.startswith(TRANSACTION_CACHE)]:
        del session.info[key]


def _join_transaction_managers(factory: sessionmaker[Session]) -> None:
    """zope.sqlalchemy's ``register`` for sessions that each name their own transaction manager.

    ``zope.sqlalchemy.register(session)`` adds seven event listeners to every new session, and
    adding a listener costs SQLAlchemy tens of microseconds: more than all the rest of a cached
    ``GET /-/``. The same listeners are registered here once, on the factory, and find the
    session's manager (pyramid_tm's per-request one, or the command line's) in ``session.info``.
    """

    def manager(session):
        return session.info.get(_TRANSACTION_MANAGER)

    def join(session, *_args):
        transaction_manager = manager(session)
        if transaction_manager is not None:
            join_transaction(session, STATUS_ACTIVE, transaction_manager, False)

    def changed(session):
        transaction_manager = manager(session)
        if transaction_manager is not None:
            mark_changed(session, transaction_manager, False)

    @event.listens_for(factory, "before_commit")
    def _commit_through_the_manager(session):
        transaction_manager = manager(session)
        # What zope.sqlalchemy checks: a managed session commits only through its manager
        # (the status string is transaction's Status.COMMITTING).
        if (transaction_manager is not None and not session.in_nested_transaction()
                and transaction_manager.get().status != "Committing"):
            raise RuntimeError("commit this session through its transaction manager, not session.commit()")

    @event.listens_for(factory, "do_orm_execute")
    def _mark_writes(state) -> None:
        # zope.sqlalchemy commits only sessions it saw change; the use cases also write with
        # Core statements (conditional state updates, bulk deletes), so every DML marks it.
        if state.is_insert or state.is_update or state.is_delete:
            changed(state.session)

    event.listen(factory, "after_begin", join)
    event.listen(factory, "after_attach", join)
    event.listen(factory, "after_flush", lambda session, _context: changed(session))
    event.listen(factory, "after_bulk_update", lambda context: changed(context.session))
    event.listen(factory, "after_bulk_delete", lambda context: changed(context.session))


@contextmanager
def read_only_session(engine: Engine) -> Iterator[Session]:
    """A session for reads only, outside any request's transaction and its manager.

    On SQLite it reads a snapshot without queueing for the one writer, so a slow check on what
    it read (a password hash, say) holds nobody up; elsewhere it is an ordinary short session.
    Whatever it leaves unflushed or uncommitted is thrown away.
    """
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        with Session(bind=connection, expire_on_commit=False) as session:
            yield session
            session.rollback()


def _bump_generation_on_catalog_change(session: Session, _context, _instances) -> None:
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(instance, _CATALOG_CLASSES) for instance in touched):
        table = CatalogGeneration.__table__
        session.connection().execute(update(table).where(table.c.id == 1).values(generation=table.c.generation + 1))
        session.info[CATALOG_CHANGED] = True
    if any(isinstance(instance, _INVENTORY_CLASSES) and _changes_inventory(session, instance) for instance in touched):
        table = InventoryGeneration.__table__
        session.connection().execute(update(table).where(table.c.id == 1).values(generation=table.c.generation + 1))
        session.info[INVENTORY_CHANGED] = True


def _changes_inventory(session: Session, instance) -> bool:
    """New and deleted rows always do; an update does unless it only moved capacity or health."""
    if instance in session.new or instance in session.deleted:
        return True
    state = inspect(instance)
    changed = {attribute.key for attribute in state.attrs if attribute.history.has_changes()}
    return bool(changed - _CAPACITY_COLUMNS)


def get_tm_session(session_factory: sessionmaker[Session], transaction_manager, request=None) -> Session:
    """A session whose commit and rollback belong to ``transaction_manager`` (pyramid_tm's in the
    server, ``transaction.manager`` in the command line)."""
    return session_factory(info={"request": request, _TRANSACTION_MANAGER: transaction_manager})


def bump_inventory_generation(session: Session) -> None:
    """For changes written with Core statements (a host's status moved by its heartbeats),
    which the flush hook above does not see."""
    table = InventoryGeneration.__table__
    session.execute(update(table).where(table.c.id == 1).values(generation=table.c.generation + 1))
    session.info[INVENTORY_CHANGED] = True


def bump_catalog_generation(session: Session) -> None:
    """The same for what is published as categories (a template becoming ready)."""
    table = CatalogGeneration.__table__
    session.execute(update(table).where(table.c.id == 1).values(generation=table.c.generation + 1))
    session.info[CATALOG_CHANGED] = True


def bump_generations_of(session: Session, mapped_class: type) -> None:
    """A row of ``mapped_class`` was changed with a Core statement (a state moved by a
    conditional UPDATE): bump the generations the flush hook would have bumped for it."""
    catalog, inventory = _generations_fed_by(mapped_class)
    if catalog:
        bump_catalog_generation(session)
    if inventory:
        bump_inventory_generation(session)


@cache
def _generations_fed_by(mapped_class: type) -> tuple[bool, bool]:
    # Asked on every state move (a compute's too, which feeds neither): decided once per class.
    return issubclass(mapped_class, _CATALOG_CLASSES), issubclass(mapped_class, _INVENTORY_CLASSES)
