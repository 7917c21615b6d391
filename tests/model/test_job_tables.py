"""The moves of jobs and of the commands their steps send to host agents."""

from __future__ import annotations

import pytest

from occistack.model.states import (
    COMMAND_TRANSITIONS,
    JOB_TRANSITIONS,
    CommandEvent,
    CommandState,
    IllegalTransition,
    JobEvent,
    JobState,
)

J, JE = JobState, JobEvent


def test_a_job_runs_its_steps_until_it_ends():
    held = J.HELD
    queued = JOB_TRANSITIONS.next_state(held, JE.RELEASE)
    running = JOB_TRANSITIONS.next_state(queued, JE.CLAIM)
    waiting = JOB_TRANSITIONS.next_state(running, JE.WAIT)
    assert (queued, running, waiting) == (J.QUEUED, J.RUNNING, J.WAITING)
    assert JOB_TRANSITIONS.next_state(waiting, JE.ANSWERED) == J.QUEUED
    assert JOB_TRANSITIONS.next_state(running, JE.RETRY) == J.QUEUED
    assert JOB_TRANSITIONS.next_state(running, JE.COMPLETE) == J.DONE
    assert JOB_TRANSITIONS.next_state(running, JE.FAIL) == J.FAILED
    assert JOB_TRANSITIONS.next_state(waiting, JE.FAIL) == J.FAILED, "the sweeper fails what is never answered"


def test_a_delete_cancels_only_what_has_not_started():
    assert [state for state in JobState if JOB_TRANSITIONS.allows(state, JE.CANCEL)] == [
        J.HELD, J.QUEUED, J.WAITING]


@pytest.mark.parametrize("state, event", [
    (J.HELD, JE.CLAIM), (J.QUEUED, JE.COMPLETE), (J.WAITING, JE.CLAIM), (J.RUNNING, JE.CANCEL),
    (J.DONE, JE.RETRY), (J.FAILED, JE.RELEASE), (J.CANCELLED, JE.CLAIM),
])
def test_a_job_refuses(state, event):
    with pytest.raises(IllegalTransition, match=f"cannot {event.value} the job while it is {state.value}"):
        JOB_TRANSITIONS.next_state(state, event)


C, CE = CommandState, CommandEvent


def test_a_command_is_delivered_then_answered():
    delivered = COMMAND_TRANSITIONS.next_state(C.PENDING, CE.DELIVER)
    assert delivered == C.DELIVERED
    assert COMMAND_TRANSITIONS.next_state(delivered, CE.DELIVER) == C.DELIVERED, "redelivered when overdue"
    assert COMMAND_TRANSITIONS.next_state(delivered, CE.SUCCEEDED) == C.DONE
    assert COMMAND_TRANSITIONS.next_state(delivered, CE.FAILED) == C.FAILED
    assert COMMAND_TRANSITIONS.next_state(delivered, CE.TIMED_OUT) == C.FAILED


def test_only_a_command_no_agent_has_fetched_is_withdrawn():
    assert COMMAND_TRANSITIONS.next_state(C.PENDING, CE.WITHDRAWN) == C.FAILED
    with pytest.raises(IllegalTransition, match="cannot withdrawn the agent command while it is delivered"):
        COMMAND_TRANSITIONS.next_state(C.DELIVERED, CE.WITHDRAWN)


@pytest.mark.parametrize("answered", [C.DONE, C.FAILED])
def test_an_answered_command_never_changes_again(answered):
    # A late or repeated answer, or a sweeper that comes after the answer, changes nothing.
    assert not any(COMMAND_TRANSITIONS.allows(answered, event) for event in CommandEvent)
