"""The moves of the tenants' resources: computes, volumes, networks and their links."""

from __future__ import annotations

import pytest

from occistack.model.states import (
    LINK_TRANSITIONS,
    NETWORK_TRANSITIONS,
    VM_TRANSITIONS,
    VOLUME_TRANSITIONS,
    Event,
    IllegalTransition,
    LinkState,
    NetworkState,
    VmState,
    VolumeState,
)

V, E = VmState, Event


@pytest.mark.parametrize("state, event, target", [
    # the user's actions
    (V.STOPPED, E.START, V.STARTING), (V.SUSPENDED, E.START, V.STARTING), (V.ERROR, E.START, V.STARTING),
    (V.RUNNING, E.STOP, V.STOPPING), (V.ERROR, E.STOP, V.STOPPING),
    (V.RUNNING, E.RESTART, V.REBOOTING), (V.RUNNING, E.SUSPEND, V.SUSPENDING),
    # each operation's end
    (V.STARTING, E.SUCCEEDED, V.RUNNING), (V.STOPPING, E.SUCCEEDED, V.STOPPED),
    (V.REBOOTING, E.SUCCEEDED, V.RUNNING), (V.SUSPENDING, E.SUCCEEDED, V.SUSPENDED),
    (V.STARTING, E.FAILED, V.ERROR), (V.DESTROYING, E.FAILED, V.ERROR),
    # what a host's report shows happened without us
    (V.RUNNING, E.FOUND_STOPPED, V.STOPPED), (V.STOPPED, E.FOUND_RUNNING, V.RUNNING),
    (V.RUNNING, E.FOUND_SUSPENDED, V.SUSPENDED), (V.SUSPENDED, E.FOUND_ABSENT, V.ERROR),
    # HA deploys again what ran on a fenced host
    (V.RUNNING, E.HA_RESTART, V.STARTING), (V.SUSPENDED, E.HA_RESTART, V.STARTING),
])
def test_a_compute_moves(state, event, target):
    assert VM_TRANSITIONS.next_state(state, event) == target


@pytest.mark.parametrize("state, event", [
    (V.RUNNING, E.START), (V.STOPPED, E.STOP), (V.STOPPED, E.RESTART), (V.SUSPENDED, E.SUSPEND),
    (V.STARTING, E.STOP), (V.DESTROYING, E.START), (V.DESTROYING, E.DESTROY), (V.DESTROYING, E.SUCCEEDED),
    (V.STOPPED, E.HA_RESTART), (V.ERROR, E.FOUND_RUNNING), (V.RUNNING, E.ONLINE),
])
def test_a_compute_refuses(state, event):
    with pytest.raises(IllegalTransition, match=f"cannot {event.value} the compute while it is "):
        VM_TRANSITIONS.next_state(state, event)


def test_a_compute_is_deleted_in_every_state_but_while_it_is_deleted():
    # issue 12: a delete waits for the step under way, so it is accepted whatever that left.
    assert [state for state in VmState if not VM_TRANSITIONS.allows(state, Event.DESTROY)] == [V.DESTROYING]


def test_a_compute_offers_the_actions_its_state_allows():
    assert VM_TRANSITIONS.events_allowed(V.RUNNING) == [E.STOP, E.RESTART, E.SUSPEND]
    assert VM_TRANSITIONS.events_allowed(V.STOPPED) == [E.START]
    assert VM_TRANSITIONS.events_allowed(V.ERROR) == [E.START, E.STOP]
    assert VM_TRANSITIONS.events_allowed(V.STARTING) == []
    with pytest.raises(IllegalTransition, match="while it is inactive; possible now: start$"):
        VM_TRANSITIONS.next_state(V.STOPPED, E.STOP)


@pytest.mark.parametrize("table, states, up, down", [
    (VOLUME_TRANSITIONS, VolumeState, Event.ONLINE, Event.OFFLINE),
    (NETWORK_TRANSITIONS, NetworkState, Event.UP, Event.DOWN),
])
def test_a_volume_or_network_goes_down_and_up(table, states, up, down):
    on, off = (states.ONLINE, states.OFFLINE) if states is VolumeState else (states.ACTIVE, states.INACTIVE)
    assert table.next_state(states.CREATING, Event.SUCCEEDED) == on
    assert table.next_state(states.CREATING, Event.FAILED) == states.ERROR
    assert table.next_state(on, down) == off
    assert table.next_state(off, up) == on
    assert table.next_state(states.ERROR, up) == on, "bringing it up again is how an error is cleared"
    for refused in ((on, up), (off, down), (states.CREATING, up), (states.DESTROYING, up), (states.ERROR, down)):
        assert not table.allows(*refused), refused
    assert [state for state in states if not table.allows(state, Event.DESTROY)] == [states.DESTROYING]
    assert table.events_allowed(on) == [down] and table.events_allowed(off) == [up]


def test_a_link_attaches_and_detaches():
    L = LinkState
    assert LINK_TRANSITIONS.next_state(L.ATTACHING, Event.SUCCEEDED) == L.ACTIVE
    assert LINK_TRANSITIONS.next_state(L.ATTACHING, Event.FAILED) == L.ERROR
    for state in (L.ATTACHING, L.ACTIVE, L.INACTIVE, L.ERROR):
        assert LINK_TRANSITIONS.next_state(state, Event.DETACH) == L.DETACHING
    for refused in ((L.ACTIVE, Event.ATTACH), (L.DETACHING, Event.DETACH), (L.ACTIVE, Event.SUCCEEDED),
                    (L.ACTIVE, Event.STOP)):
        assert not LINK_TRANSITIONS.allows(*refused), refused
    assert LINK_TRANSITIONS.events_allowed(L.ACTIVE) == [], "a link offers the user no action"
