"""The management plane: use cases that validate, write rows and queue jobs; placement; the job
queue, its workers and handlers; the agent gateway. Framework-free: no HTTP, no rendering."""

from .caller import Caller
from .dispatch import Dispatcher, Operation
from .errors import Conflict, InvalidRequest, NotFound, NotPermitted, UseCaseError

__all__ = [
    "Caller",
    "Conflict",
    "Dispatcher",
    "InvalidRequest",
    "NotFound",
    "NotPermitted",
    "Operation",
    "UseCaseError",
]
