"""The moves of templates (and ISOs) and of their copies in the zones' secondary storage."""

from __future__ import annotations

import pytest

from occistack.model.states import IllegalTransition
from occistack.model.template_states import (
    TEMPLATE_COPY_TRANSITIONS,
    TEMPLATE_TRANSITIONS,
    TemplateCopyEvent,
    TemplateCopyState,
    TemplateEvent,
    TemplateState,
)

T, TE = TemplateState, TemplateEvent
FOLLOWING_COPIES = (T.DOWNLOADING, T.READY, T.ERROR)


@pytest.mark.parametrize("state", FOLLOWING_COPIES)
@pytest.mark.parametrize("event, target", [
    (TE.COPY_READY, T.READY), (TE.COPY_COMING, T.DOWNLOADING), (TE.COPIES_FAILED, T.ERROR)])
def test_a_registered_template_follows_its_copies(state, event, target):
    assert TEMPLATE_TRANSITIONS.next_state(state, event) == target


def test_a_template_being_saved_waits_for_the_save():
    assert TEMPLATE_TRANSITIONS.next_state(T.PENDING, TE.SAVED) == T.READY
    assert TEMPLATE_TRANSITIONS.next_state(T.PENDING, TE.SAVE_FAILED) == T.ERROR
    for event in (TE.COPY_READY, TE.COPY_COMING, TE.COPIES_FAILED):
        with pytest.raises(IllegalTransition, match=f"cannot {event.value} the template while it is pending; "
                                                    "possible now: saved, save_failed"):
            TEMPLATE_TRANSITIONS.next_state(T.PENDING, event)


@pytest.mark.parametrize("state", FOLLOWING_COPIES)
def test_a_save_ends_only_a_template_being_saved(state):
    assert not TEMPLATE_TRANSITIONS.allows(state, TE.SAVED)
    assert not TEMPLATE_TRANSITIONS.allows(state, TE.SAVE_FAILED)


def test_nothing_makes_a_template_pending_again():
    assert T.PENDING not in TEMPLATE_TRANSITIONS.transitions.values()


C, CE = TemplateCopyState, TemplateCopyEvent


def test_a_copy_is_downloaded():
    downloading = TEMPLATE_COPY_TRANSITIONS.next_state(C.PENDING, CE.STARTED)
    assert downloading == C.DOWNLOADING
    assert TEMPLATE_COPY_TRANSITIONS.next_state(downloading, CE.STARTED) == C.DOWNLOADING, (
        "a download step run again after its worker died")
    assert TEMPLATE_COPY_TRANSITIONS.next_state(downloading, CE.SUCCEEDED) == C.READY
    assert TEMPLATE_COPY_TRANSITIONS.next_state(C.PENDING, CE.SUCCEEDED) == C.READY, "saved from a compute"


def test_a_failed_copy_is_retried():
    assert TEMPLATE_COPY_TRANSITIONS.next_state(C.DOWNLOADING, CE.FAILED) == C.ERROR
    assert TEMPLATE_COPY_TRANSITIONS.next_state(C.PENDING, CE.FAILED) == C.ERROR
    assert TEMPLATE_COPY_TRANSITIONS.next_state(C.ERROR, CE.RETRY) == C.PENDING


@pytest.mark.parametrize("state, event", [
    (C.READY, CE.RETRY), (C.READY, CE.FAILED), (C.READY, CE.STARTED), (C.PENDING, CE.RETRY),
    (C.DOWNLOADING, CE.RETRY), (C.ERROR, CE.STARTED), (C.ERROR, CE.SUCCEEDED),
])
def test_a_copy_refuses(state, event):
    with pytest.raises(IllegalTransition, match=f"cannot {event.value} the template copy while it is {state.value}"):
        TEMPLATE_COPY_TRANSITIONS.next_state(state, event)
