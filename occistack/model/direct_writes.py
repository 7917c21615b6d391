"""Writing a new entity with Core INSERTs at once, instead of through the unit of work.

A create writes each of its new rows exactly once and never changes them again in the same
transaction, which is the case the unit of work serves worst: sorting, cascading and the
bookkeeping of a flush cost more than the INSERTs themselves (a compute create spent a third
of its time in flushes). :func:`insert_now` writes the object's tables, base table first, with
the values set on it (column defaults fill the rest, as a flush would), and then attaches it
to the session as a persistent object, as if it had been loaded: later reads in the
transaction find it in the identity map, and later changes to it are flushed as UPDATEs.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached


def insert_now(session: Session, obj, *, skip_if_taken: bool = False) -> bool:
    """INSERT the new ``obj`` (not yet in any session) and add it to ``session`` as persistent.

    With ``skip_if_taken``, the last table's INSERT does nothing when a unique key of that
    table is already taken (ON CONFLICT DO NOTHING): False is returned, the rows of the base
    tables stay written, and ``obj`` stays out of the session -- the caller changes what
    collided and calls :func:`insert_rest` to try again.
    """
    return _insert_tables(session, obj, _tables_of(inspect(obj).mapper), skip_if_taken)


def insert_rest(session: Session, obj, *, skip_if_taken: bool = True) -> bool:
    """Try the last table's INSERT again, after :func:`insert_now` with ``skip_if_taken``
    found a unique key taken."""
    return _insert_tables(session, obj, _tables_of(inspect(obj).mapper)[-1:], skip_if_taken)


def _insert_tables(session: Session, obj, tables, skip_if_taken: bool) -> bool:
    state = inspect(obj)
    mapper = state.mapper
    for position, table in enumerate(tables):
        values = _values_for(mapper, table, state.dict)
        if skip_if_taken and position == len(tables) - 1:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            statement = dialect.insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
            if session.execute(statement, values).first() is None:
                return False
        else:
            session.execute(_plain_insert(table), values)
    make_transient_to_detached(obj)
    session.add(obj)
    return True


def _values_for(mapper: Mapper, table, attributes: dict) -> dict:
    values = {}
    for column in table.columns:
        if column is mapper.polymorphic_on:
            values[column.key] = mapper.polymorphic_identity
            continue
        key = mapper.get_property_by_column(column).key
        if key in attributes:
            values[column.key] = attributes[key]
    return values


@cache
def _tables_of(mapper: Mapper) -> tuple:
    """The mapper's tables, base table first (joined-table inheritance)."""
    return tuple(m.local_table for m in reversed(list(mapper.iterate_to_root())))


@cache
def _plain_insert(table):
    return insert(table)
