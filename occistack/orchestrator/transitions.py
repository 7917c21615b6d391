"""Moving a resource between states: through its transition table, with a conditional UPDATE."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..model.states import Event, StaleState, TransitionTable


def apply_event(session: Session, row, table: TransitionTable, event: Event,
                message: str | None = None) -> StrEnum:
    """Move ``row`` (an ORM object with ``state`` and ``state_message``) by ``event``.

    Raises IllegalTransition when the table forbids it and StaleState when another transaction
    changed the state since this one read it. The ORM object is brought up to date without
    marking it dirty, so the change is written exactly once, by the UPDATE here.
    """
    current = row.state
    target = table.next_state(current, event)
    mapper_table = type(row).__table__
    result = session.execute(
        update(mapper_table)
        .where(mapper_table.c.id == row.id, mapper_table.c.state == str(current))
        .values(state=str(target), state_message=message)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleState(f"{table.what} {row.id} is no longer {current}")
    set_committed_value(row, "state", target)
    set_committed_value(row, "state_message", message)
    return target


def apply_event_where(session: Session, table, condition, machine: TransitionTable, current: StrEnum, event: Event,
                      message: str | None = None) -> int:
    """Move every row of ``table`` matching ``condition`` that is in ``current`` by ``event``,
    in one conditional UPDATE and without loading them (a deploy's links, all at once); how
    many moved. The transition table is consulted as for one row."""
    target = machine.next_state(current, event)
    result = session.execute(
        update(table).where(condition, table.c.state == str(current))
        .values(state=str(target), state_message=message).execution_options(synchronize_session=False))
    return result.rowcount
