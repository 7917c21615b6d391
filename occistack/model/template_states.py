"""The states of templates (and ISOs) and of their copies in the zones' secondary storage, and
the transition tables that are the only way between them (the tables' machinery is in
model/states.py; plane/transitions.py writes each move as a conditional UPDATE).

A template's own state follows its copies: the events that move it say what its copies are
now (one is ready, none is ready but one is still coming, all failed), and the plane works them
out from the copies (plane/template_copies.py's ``refresh_template_state``). A template
saved from a compute is ``pending`` until that save ends, whatever its copies say meanwhile.
"""

from __future__ import annotations

from enum import StrEnum

from occistack.model.states import PlainTable


class TemplateState(StrEnum):
    #: being saved from a compute; only the save's end moves it.
    PENDING = "pending"
    #: no copy is ready yet and some copy is still being downloaded (or waits to be).
    DOWNLOADING = "downloading"
    #: some zone has a ready copy: the template is published as an os_tpl there.
    READY = "ready"
    #: every copy failed, or the save failed; ``description`` says why.
    ERROR = "error"


class TemplateEvent(StrEnum):
    SAVED = "saved"
    SAVE_FAILED = "save_failed"
    #: what the copies are now, as refresh_template_state finds them.
    COPY_READY = "copy_ready"
    COPY_COMING = "copy_coming"
    COPIES_FAILED = "copies_failed"


T, TE = TemplateState, TemplateEvent
#: The copies' events are legal in every state but ``pending`` -- a copy retried or added later
#: can bring a failed template back, and one removed can take a ready template back to
#: downloading; the state a template is in already counts as a move to itself.
_FOLLOWING_COPIES = (T.DOWNLOADING, T.READY, T.ERROR)
TEMPLATE_TRANSITIONS = PlainTable("template", {
    (T.PENDING, TE.SAVED): T.READY,
    (T.PENDING, TE.SAVE_FAILED): T.ERROR,
    **{(state, TE.COPY_READY): T.READY for state in _FOLLOWING_COPIES},
    **{(state, TE.COPY_COMING): T.DOWNLOADING for state in _FOLLOWING_COPIES},
    **{(state, TE.COPIES_FAILED): T.ERROR for state in _FOLLOWING_COPIES},
})


class TemplateCopyState(StrEnum):
    #: registered or copied, its download job not started yet.
    PENDING = "pending"
    #: an agent of the zone is fetching it; ``progress`` says how far.
    DOWNLOADING = "downloading"
    READY = "ready"
    #: the download failed; ``state_message`` says why; ``template retry`` starts it again.
    ERROR = "error"


class TemplateCopyEvent(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRY = "retry"


TC, TCE = TemplateCopyState, TemplateCopyEvent
#: A ready copy stays ready until it is removed with its template or its zone.
TEMPLATE_COPY_TRANSITIONS = PlainTable("template copy", {
    (TC.PENDING, TCE.STARTED): TC.DOWNLOADING,
    (TC.DOWNLOADING, TCE.STARTED): TC.DOWNLOADING,  # a job step run again after a worker died
    (TC.PENDING, TCE.SUCCEEDED): TC.READY,
    (TC.DOWNLOADING, TCE.SUCCEEDED): TC.READY,
    (TC.PENDING, TCE.FAILED): TC.ERROR,
    (TC.DOWNLOADING, TCE.FAILED): TC.ERROR,
    (TC.ERROR, TCE.RETRY): TC.PENDING,
})
