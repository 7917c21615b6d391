"""Moving a row between states: through its transition table, with a conditional UPDATE.

Every stateful row moves this way. Jobs add one thing -- the columns a step's end sets in the
same statement -- and so build their own UPDATE from JOB_TRANSITIONS (plane/jobs/queue.py's
move_job). Rows moved in sets without being loaded (the commands an agent fetches or answers,
those a delete takes back) move by :func:`set_move`, a statement built from the table.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from occistack.model.session import bump_generations_of
from occistack.model.states import Event, StaleState, StateTable
from occistack.plane.errors import InvalidRequest


def apply_event(session: Session, row, table: StateTable, event: StrEnum, message: str | None = None, *,
                column: str = "state") -> StrEnum:
    """Move ``row`` (an ORM object) by ``event`` through ``table``, its state being in
    ``column``: the one way a stateful row changes state (computes, volumes, networks, links,
    templates and their copies, storage pools, hosts' status and resource state, commands an
    agent never answered).

    Where the state is in ``state`` and the row has a ``state_message``, the message goes with
    it (None clears the one the last move left). Raises IllegalTransition when the table forbids
    the move and StaleState when another transaction changed the state since this one read it.
    The ORM object is brought up to date without marking it dirty, so the change is written
    exactly once, by the UPDATE here; a move that changes the state bumps the generations that
    an ORM flush would have (categories for templates, placement's topology for pools and hosts).
    """
    current = getattr(row, column)
    target = table.next_state(current, event)
    if inspect(row).pending:
        session.flush()  # the UPDATE needs the row written
    mapped = type(row).__table__
    with_message = _carries_message(mapped, column)
    if message is not None and not with_message:
        raise ValueError(f"the {table.what}'s {column} has no message column to say {message!r} in")
    result = session.execute(_move_where(mapped, "id", column, with_message), {
        "match": row.id, "current": str(current), "target": str(target), "message": message})
    if result.rowcount != 1:
        raise StaleState(f"{table.what} {row.id} is no longer {current}")
    set_committed_value(row, column, target)
    if with_message:
        set_committed_value(row, "state_message", message)
    if target != current:
        bump_generations_of(session, type(row))
    return target


def apply_event_where(session: Session, table, column: str, value, machine: StateTable, current: StrEnum,
                      event: StrEnum, message: str | None = None) -> int:
    """Move every row of ``table`` whose ``column`` is ``value`` and that is in ``current`` by
    ``event``, in one conditional UPDATE and without loading them (a deploy's links, all at
    once); how many moved. The transition table is consulted as for one row."""
    target = machine.next_state(current, event)
    result = session.execute(_move_where(table, column, "state", True), {
        "match": value, "current": str(current), "target": str(target), "message": message})
    return result.rowcount


def event_moves(machine: StateTable, event: StrEnum) -> tuple[tuple[StrEnum, ...], StrEnum]:
    """The states ``event`` moves a row out of, in the table's order, and the one state it moves
    them to. ValueError when it leads different states to different ones: one statement could
    not say where each row goes."""
    sources = tuple(state for state, name in machine.transitions if name == event)
    targets = {machine.transitions[(state, event)] for state in sources}
    if len(targets) != 1:
        raise ValueError(f"{event} moves the {machine.what}'s states to {sorted(map(str, targets)) or 'nowhere'}; "
                         "a set of rows moves to one state")
    return sources, targets.pop()


def set_move(table, machine: StateTable, event: StrEnum, *where, **values):
    """``UPDATE <table> SET state = <where event leads>, <values> WHERE state IN (<the states
    event leaves>) AND <where>``: ``event`` moving every row ``where`` selects that the table lets
    it move, in one statement and without loading them (``values`` are other columns to set with
    it). Its caller builds it once -- building a statement costs more than running it -- and
    counts or returns the rows it moved."""
    sources, target = event_moves(machine, event)
    return (update(table).where(table.c.state.in_([str(state) for state in sources]), *where)
            .values(state=str(target), **values).execution_options(synchronize_session=False))


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
def _carries_message(table, column: str) -> bool:
    # ``state_message`` explains ``state``; a host's two other state columns (status, resource
    # state) must not clear what it says.
    return column == "state" and "state_message" in table.c


@cache
def _move_where(table, match: str, column: str, with_message: bool):
    """``UPDATE <table> SET <column> [, state_message] WHERE <match> = :match AND <column> =
    :current``, built once per table and columns: building a statement costs more than running
    it."""
    values = {column: bindparam("target")}
    if with_message:
        values["state_message"] = bindparam("message")
    return (update(table).where(table.c[match] == bindparam("match"), table.c[column] == bindparam("current"))
            .values(**values).execution_options(synchronize_session=False))
