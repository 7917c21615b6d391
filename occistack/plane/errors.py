"""What the plane answers when it cannot do what was asked: one tree of errors, each of a kind.

A face never looks at the class of a refusal, only at its :class:`ErrorKind`, and answers the
status its table gives that kind (``occistack/api/error_statuses.py`` for the HTTP faces); the
message is written for the user who caused it and says what was wrong and what is accepted.

The kinds:

- ``invalid``: the request itself is wrong (a malformed value, an unknown name in it); sent
  again unchanged it fails again.
- ``not_found``: what the request names does not exist, or the caller may not see it.
- ``conflict``: the request clashes with what exists (a name in use, a volume already attached,
  a row that changed meanwhile, a resource being deleted); it may succeed later.
- ``wrong_state``: the resource's current state does not allow this action or step (starting
  an active compute); its transition table names what is possible now.
- ``forbidden``: the caller may see the thing but not do this to it.
- ``quota``: the project would hold more than its quota allows.
- ``capacity``: the cloud has no room for it (no host, no pool, no address).
- ``unavailable``: a service the request needs does not answer now; try again later.

The model's own refusals (``IllegalTransition``, ``StaleState``, ``AttributeValueError``,
``CategoryConflict``) are not plane classes -- the model does not import the plane -- but have a
kind here all the same (:data:`MODEL_ERROR_KINDS`), so faces treat them alike.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from occistack.model.occi import AttributeValueError, CategoryConflict
from occistack.model.states import IllegalTransition, StaleState


class ErrorKind(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    WRONG_STATE = "wrong_state"
    FORBIDDEN = "forbidden"
    QUOTA = "quota"
    CAPACITY = "capacity"
    UNAVAILABLE = "unavailable"


class PlaneError(Exception):
    """Base of every refusal a user can cause; each concrete class names its kind."""

    kind: ClassVar[ErrorKind]


class InvalidRequest(PlaneError):
    kind = ErrorKind.INVALID


class UnknownTemplate(InvalidRequest):
    """A create names an OS template the caller cannot see: a malformed request (400), which a
    face that chose the template itself (a site default) may answer differently."""


class NotFound(PlaneError):
    kind = ErrorKind.NOT_FOUND


class Conflict(PlaneError):
    """The request clashes with the current state (a name in use, a volume already attached)."""

    kind = ErrorKind.CONFLICT


class WrongState(PlaneError):
    """The resource's current state does not allow the action: what ``IllegalTransition`` says
    from a transition table, said by a face or use case that checks before moving the row."""

    kind = ErrorKind.WRONG_STATE


class NotPermitted(PlaneError):
    kind = ErrorKind.FORBIDDEN


class QuotaExceeded(PlaneError):
    """The project's quota of a resource would be passed."""

    kind = ErrorKind.QUOTA


class NoCapacity(PlaneError):
    """Nothing fits. ``reason`` is the whole message, written for the user who asked (it is
    shown as the face's error); ``causes`` are its counted parts, most structural first."""

    kind = ErrorKind.CAPACITY

    def __init__(self, reason: str, causes: tuple[str, ...] = ()):
        super().__init__(reason)
        self.reason = reason
        self.causes = causes


class Unavailable(PlaneError):
    """A service the request needs (an identity provider, a database) does not answer now;
    ``retry_after_seconds`` is how long a client should wait before trying again."""

    kind = ErrorKind.UNAVAILABLE

    def __init__(self, message: str, retry_after_seconds: int | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


#: The model's refusals, by kind: an illegal transition is the resource's current state refusing
#: the event; a stale state is another request having moved the row first.
MODEL_ERROR_KINDS: dict[type[Exception], ErrorKind] = {
    IllegalTransition: ErrorKind.WRONG_STATE,
    StaleState: ErrorKind.CONFLICT,
    AttributeValueError: ErrorKind.INVALID,
    CategoryConflict: ErrorKind.CONFLICT,
}

#: Every exception a face answers as a refusal rather than as its own failure.
REFUSALS: tuple[type[Exception], ...] = (PlaneError, *MODEL_ERROR_KINDS)


def kind_of(error: BaseException) -> ErrorKind | None:
    """The kind of a plane or model refusal; None for anything else (a bug: a 500)."""
    if isinstance(error, PlaneError):
        return error.kind
    return next((kind for cls, kind in MODEL_ERROR_KINDS.items() if isinstance(error, cls)), None)


def describe(error: BaseException) -> str:
    """The message a face shows for a refusal."""
    if isinstance(error, StaleState):
        return f"{error}; it changed while this request ran — try again"
    return str(error)
