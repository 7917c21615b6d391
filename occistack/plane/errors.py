"""What a use case answers when it cannot do what was asked.

The HTTP layer maps each class to a status (NotFound 404, Conflict 409, InvalidRequest 400,
NotPermitted 403); the message is written for the user who caused it.
"""


class UseCaseError(Exception):
    """Base of every refusal a user can cause."""


class NotFound(UseCaseError):
    pass


class Conflict(UseCaseError):
    """The request clashes with the current state (a name in use, a volume already attached)."""


class InvalidRequest(UseCaseError):
    pass


class UnknownTemplate(InvalidRequest):
    """A create names an OS template the caller cannot see: a malformed request (400), which a
    face that chose the template itself (a site default) may answer differently."""


class NotPermitted(UseCaseError):
    pass
