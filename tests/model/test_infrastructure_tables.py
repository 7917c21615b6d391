"""The moves of the infrastructure: a host's connection status and its resource state (what the
administrator allows it), and a primary storage pool's state."""

from __future__ import annotations

import pytest

from occistack.model.states import (
    HOST_STATUS_TRANSITIONS,
    RESOURCE_STATE_TRANSITIONS,
    STORAGE_POOL_TRANSITIONS,
    HostEvent,
    HostStatus,
    IllegalTransition,
    ResourceState,
    StoragePoolEvent,
    StoragePoolState,
)

H, HE = HostStatus, HostEvent


def test_missed_heartbeats_take_a_host_down_step_by_step():
    assert HOST_STATUS_TRANSITIONS.next_state(H.CONNECTING, HE.REGISTERED) == H.UP
    assert HOST_STATUS_TRANSITIONS.next_state(H.UP, HE.HEARTBEATS_MISSED) == H.DISCONNECTED
    assert HOST_STATUS_TRANSITIONS.next_state(H.DISCONNECTED, HE.HEARTBEATS_MISSED) == H.ALERT
    assert HOST_STATUS_TRANSITIONS.next_state(H.ALERT, HE.FENCED) == H.DOWN
    # Down only once fenced: missing more heartbeats never gets it there.
    assert not HOST_STATUS_TRANSITIONS.allows(H.ALERT, HE.HEARTBEATS_MISSED)
    assert not HOST_STATUS_TRANSITIONS.allows(H.UP, HE.FENCED)


@pytest.mark.parametrize("status", list(HostStatus))
def test_an_agent_registering_brings_its_host_up_from_anywhere(status):
    assert HOST_STATUS_TRANSITIONS.next_state(status, HE.REGISTERED) == H.UP


def test_a_heartbeat_brings_back_a_host_not_yet_fenced():
    assert [status for status in HostStatus if HOST_STATUS_TRANSITIONS.allows(status, HE.HEARTBEAT)] == [
        H.UP, H.DISCONNECTED, H.ALERT]
    with pytest.raises(IllegalTransition, match="cannot heartbeat the host while it is down; possible now: "
                                                "registered, bmc_answered, bmc_failed"):
        HOST_STATUS_TRANSITIONS.next_state(H.DOWN, HE.HEARTBEAT)


def test_a_bare_metal_node_is_up_while_its_bmc_answers():
    assert all(HOST_STATUS_TRANSITIONS.next_state(status, HE.BMC_ANSWERED) == H.UP for status in HostStatus)
    assert HOST_STATUS_TRANSITIONS.next_state(H.UP, HE.BMC_FAILED) == H.DISCONNECTED
    # a silent BMC moves nothing that is not up
    assert all(HOST_STATUS_TRANSITIONS.next_state(status, HE.BMC_FAILED) == status
               for status in HostStatus if status != H.UP)


R = ResourceState


@pytest.mark.parametrize("state, event, target", [
    (R.ENABLED, HE.DISABLE, R.DISABLED), (R.DISABLED, HE.ENABLE, R.ENABLED),
    (R.ENABLED, HE.PREPARE_MAINTENANCE, R.PREPARE_FOR_MAINTENANCE),
    (R.DISABLED, HE.PREPARE_MAINTENANCE, R.PREPARE_FOR_MAINTENANCE),
    (R.PREPARE_FOR_MAINTENANCE, HE.MAINTENANCE_READY, R.MAINTENANCE),
    (R.PREPARE_FOR_MAINTENANCE, HE.CANCEL_MAINTENANCE, R.ENABLED), (R.MAINTENANCE, HE.CANCEL_MAINTENANCE, R.ENABLED),
])
def test_an_administrator_moves_a_host(state, event, target):
    assert RESOURCE_STATE_TRANSITIONS.next_state(state, event) == target


@pytest.mark.parametrize("state, event", [
    (R.MAINTENANCE, HE.ENABLE), (R.MAINTENANCE, HE.DISABLE), (R.PREPARE_FOR_MAINTENANCE, HE.DISABLE),
    (R.ENABLED, HE.MAINTENANCE_READY), (R.ENABLED, HE.CANCEL_MAINTENANCE), (R.MAINTENANCE, HE.PREPARE_MAINTENANCE),
    (R.ENABLED, HE.HEARTBEAT),
])
def test_an_administrator_cannot_move_a_host(state, event):
    assert not RESOURCE_STATE_TRANSITIONS.allows(state, event)


def test_only_its_last_virtual_machine_leaving_completes_a_maintenance():
    ready = [(state, event) for (state, event) in RESOURCE_STATE_TRANSITIONS.transitions
             if RESOURCE_STATE_TRANSITIONS.transitions[(state, event)] == R.MAINTENANCE]
    assert ready == [(R.PREPARE_FOR_MAINTENANCE, HE.MAINTENANCE_READY)]


P, PE = StoragePoolState, StoragePoolEvent


@pytest.mark.parametrize("state, event, target", [
    (P.DISABLED, PE.ENABLE, P.UP), (P.UP, PE.DISABLE, P.DISABLED),
    (P.UP, PE.MAINTENANCE, P.MAINTENANCE), (P.DISABLED, PE.MAINTENANCE, P.MAINTENANCE),
    (P.MAINTENANCE, PE.CANCEL_MAINTENANCE, P.UP),
    # asking for the state a pool is in already is legal, and moves nothing
    (P.UP, PE.ENABLE, P.UP), (P.DISABLED, PE.DISABLE, P.DISABLED), (P.MAINTENANCE, PE.MAINTENANCE, P.MAINTENANCE),
])
def test_an_administrator_moves_a_pool(state, event, target):
    assert STORAGE_POOL_TRANSITIONS.next_state(state, event) == target


@pytest.mark.parametrize("state, event, possible", [
    (P.MAINTENANCE, PE.ENABLE, ["cancel-maintenance"]),
    (P.MAINTENANCE, PE.DISABLE, ["cancel-maintenance"]),
    (P.UP, PE.CANCEL_MAINTENANCE, ["disable", "maintenance"]),
    (P.DISABLED, PE.CANCEL_MAINTENANCE, ["enable", "maintenance"]),
])
def test_an_administrator_cannot_move_a_pool(state, event, possible):
    with pytest.raises(IllegalTransition, match=f"cannot {event.value} the primary storage pool while it is "
                                                f"{state.value}"):
        STORAGE_POOL_TRANSITIONS.next_state(state, event)
    assert STORAGE_POOL_TRANSITIONS.events_allowed(state, moving_only=True) == possible


def test_a_pools_changes_are_named_as_the_admin_api_names_them():
    from occistack.plane.admin import POOL_STATE_CHANGES

    assert POOL_STATE_CHANGES == ("enable", "disable", "maintenance", "cancel-maintenance")
    assert {event for _, event in STORAGE_POOL_TRANSITIONS.transitions} == set(StoragePoolEvent)
