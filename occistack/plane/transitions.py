"""Moving a resource between states: through its transition table, with a conditional UPDATE."""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from occistack.model.states import Event, StaleState, TransitionTable
from occistack.plane.errors import InvalidRequest


def apply_event(session: Session, row, table: TransitionTable, event: Event,
                message: str | None = None) -> StrEnum:
    """Move ``row`` (an ORM object with ``state`` and ``state_message``) by ``event``.

    Raises IllegalTransition when the table forbids it and StaleState when another transaction
    changed the state since this one read it. The ORM object is brought up to date without
    marking it dirty, so the change is written exactly once, by the UPDATE here.
    """
    current = row.state
    target = table.next_state(current, event)
    result = session.execute(_move_where(type(row).__table__, "id"), {
        "match": row.id, "current": str(current), "target": str(target), "message": message})
    if result.rowcount != 1:
        raise StaleState(f"{table.what} {row.id} is no longer {current}")
    set_committed_value(row, "state", target)
    set_committed_value(row, "state_message", message)
    return target


def apply_event_where(session: Session, table, column: str, value, machine: TransitionTable, current: StrEnum,
                      event: Event, message: str | None = None) -> int:
    """Move every row of ``table`` whose ``column`` is ``value`` and that is in ``current`` by
    ``event``, in one conditional UPDATE and without loading them (a deploy's links, all at
    once); how many moved. The transition table is consulted as for one row."""
    target = machine.next_state(current, event)
    result = session.execute(_move_where(table, column), {
        "match": value, "current": str(current), "target": str(target), "message": message})
    return result.rowcount


def action_operation(actions: dict[str, tuple[Event, dict[str, str], str]], action: str,
                     method: str | None) -> tuple[Event, str]:
    """The transition event and backend operation of an OCCI action done with ``method`` (the
    action's default when None), from a table of action -> (event, {method: operation},
    default method); InvalidRequest naming the accepted methods for any other."""
    event, operations, default_method = actions[action]
    chosen = method if method is not None else default_method
    if chosen not in operations:
        raise InvalidRequest(f"method {chosen!r} is not accepted for {action}; accepted: "
                             + ", ".join(m for m in operations if m))
    return event, operations[chosen]


@cache
def _move_where(table, column: str):
    """``UPDATE <table> SET state, state_message WHERE <column> = :match AND state = :current``,
    built once per table and column: building a statement costs more than running it."""
    return (update(table).where(table.c[column] == bindparam("match"), table.c.state == bindparam("current"))
            .values(state=bindparam("target"), state_message=bindparam("message"))
            .execution_options(synchronize_session=False))
