"""The management plane: use cases that validate, write rows and queue jobs; placement; the job
queue, its workers and handlers; the agent gateway. Framework-free: no HTTP, no rendering."""

from occistack.plane.caller import Caller
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, ErrorKind, InvalidRequest, NotFound, NotPermitted, PlaneError

__all__ = [
    "Caller",
    "Conflict",
    "Dispatcher",
    "ErrorKind",
    "InvalidRequest",
    "NotFound",
    "NotPermitted",
    "Operation",
    "PlaneError",
]
