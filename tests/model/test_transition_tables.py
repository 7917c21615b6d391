"""What holds for every transition table (tests/model/transition_tables.py lists them): the
states and events it names are its enums' members, every state is reachable from where rows
start, only the intended states are dead ends, a teardown ends only by failing, and an illegal
move is refused naming the resource, its state and what is possible instead.

Each table's own moves are tested in test_<subject>_tables.py beside this file.
"""

from __future__ import annotations

import pytest

from occistack.model import states as s
from occistack.model import snapshots as snap
from occistack.model import template_states as t
from occistack.model.occi.infrastructure import _COMPUTE_STATES, _LINK_STATES
from occistack.model.states import IllegalTransition, PlainTable, TransitionTable

from .transition_tables import TABLES, TableSpec, leaving, reachable, sources, targets

by_name = pytest.mark.parametrize("spec", TABLES, ids=str)


@by_name
def test_every_state_named_is_a_member_of_its_enum(spec: TableSpec):
    named = sources(spec) | targets(spec) | spec.initial | spec.terminal | spec.teardown | set(spec.unreachable)
    strays = [state for state in named if not isinstance(state, spec.states)]
    assert not strays, f"{spec}: {strays} are not {spec.states.__name__} members"


@by_name
def test_every_event_named_is_a_member_of_its_enum(spec: TableSpec):
    strays = [event for _, event in spec.table.transitions if not isinstance(event, spec.events)]
    assert not strays, f"{spec}: {strays} are not {spec.events.__name__} members"


@by_name
def test_every_state_is_reachable_from_where_rows_start(spec: TableSpec):
    unreached = set(spec.states) - reachable(spec)
    assert unreached == set(spec.unreachable), (
        f"{spec}: {sorted(unreached)} cannot be reached from {sorted(spec.initial)}")


@by_name
def test_only_the_intended_states_are_dead_ends(spec: TableSpec):
    dead_ends = {state for state in spec.states if not leaving(spec, state)} - set(spec.unreachable)
    assert dead_ends == set(spec.terminal), f"{spec}: nothing leaves {sorted(dead_ends)}"


@by_name
def test_a_terminal_state_refuses_every_event(spec: TableSpec):
    for state in spec.terminal:
        for event in spec.events:
            assert not spec.table.allows(state, event), f"{spec}: {event} leaves terminal {state}"


@by_name
def test_a_teardown_ends_only_by_failing(spec: TableSpec):
    for state in spec.teardown:
        assert leaving(spec, state) == {s.Event.FAILED: spec.states.ERROR}, (
            f"{spec}: {state} is left by {leaving(spec, state)}")


@by_name
def test_an_illegal_move_names_the_resource_its_state_and_what_is_possible(spec: TableSpec):
    state, event = _an_illegal_move(spec)
    with pytest.raises(IllegalTransition) as refused:
        spec.table.next_state(state, event)
    message = str(refused.value)
    assert spec.table.what in message and event.value in message
    shown_state = spec.table.occi_state(state) if isinstance(spec.table, TransitionTable) else state.value
    assert f"while it is {shown_state}" in message
    assert refused.value.allowed == [e.value for e in spec.table.events_allowed(state)]
    assert "possible now: " + (", ".join(refused.value.allowed) or "none") in message


def _an_illegal_move(spec: TableSpec):
    """The first (state, event) pair of the enums that the table does not have."""
    for state in spec.states:
        for event in spec.events:
            if not spec.table.allows(state, event):
                return state, event
    raise AssertionError(f"{spec} allows every event in every state")


# --- what only the tables with OCCI renderings have ---------------------------------------------

OCCI_STATES = {"compute": _COMPUTE_STATES, "storage": ("online", "offline", "error"),
               "network": ("active", "inactive", "error"), "link": _LINK_STATES}
RENDERED = [spec for spec in TABLES if isinstance(spec.table, TransitionTable)]


@pytest.mark.parametrize("spec", RENDERED, ids=str)
def test_every_state_has_an_occi_name_of_its_kind(spec: TableSpec):
    assert set(spec.table.occi_names) == set(spec.states)
    assert set(spec.table.occi_names.values()) <= set(OCCI_STATES[spec.name])


@pytest.mark.parametrize("spec", RENDERED, ids=str)
def test_the_actions_offered_are_events_the_table_moves_by(spec: TableSpec):
    for event in spec.table.user_events:
        assert any(e == event for _, e in spec.table.transitions), f"{spec}: {event} moves nothing"
    for state in spec.states:
        assert all(spec.table.allows(state, e) for e in spec.table.events_allowed(state))


def test_every_table_is_listed():
    """A table added to the model without a line in transition_tables.py is not tested."""
    declared = {id(value) for module in (s, t, snap) for value in vars(module).values()
                if isinstance(value, (TransitionTable, PlainTable))}
    assert declared == {id(spec.table) for spec in TABLES}
