"""The management plane: use cases that validate, write rows and submit operations, and the
dispatcher that carries operations out. Framework-free: no HTTP, no rendering."""

from .caller import Caller
from .dispatch import Dispatcher, ImmediateDispatcher, Operation
from .errors import Conflict, InvalidRequest, NotFound, NotPermitted, UseCaseError
from .operations import HANDLERS


def immediate_dispatcher(drivers) -> ImmediateDispatcher:
    """Operations run at once on ``drivers`` (an object with .compute, .storage, .network)."""
    return ImmediateDispatcher(drivers, HANDLERS)


__all__ = [
    "Caller",
    "Conflict",
    "Dispatcher",
    "ImmediateDispatcher",
    "InvalidRequest",
    "NotFound",
    "NotPermitted",
    "Operation",
    "UseCaseError",
    "immediate_dispatcher",
]
