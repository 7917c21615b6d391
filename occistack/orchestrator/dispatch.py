"""The seam between the use cases and whatever carries their operations out.

A use case validates, writes rows, moves the resource into its transitional state ("starting",
"creating") and submits an :class:`Operation`. What happens next is the dispatcher's business:

* :class:`ImmediateDispatcher` (this issue) runs the operation at once on the drivers, inside
  the request, and applies the outcome -- so a client sees ``inactive`` → ``active`` straight away;
* issue 4 replaces it with a durable job queue and host agents, behind the same ``submit``.

Either way the outcome goes through the transition tables, and a failure leaves the resource in
``error`` with the backend's message as its state message, never silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from sqlalchemy.orm import Session

from ..drivers import DriverError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Operation:
    """One thing to do to one resource, e.g. ``Operation("deploy_vm", vm.id)``."""

    name: str
    entity_id: str
    arguments: dict[str, Any] = field(default_factory=dict)


class Dispatcher(Protocol):
    def submit(self, session: Session, operation: Operation) -> None: ...


#: name → handler(session, drivers, operation) -> None; handlers raise DriverError on failure.
Handler = Callable[[Session, Any, Operation], None]
#: name → on_failure(session, operation, message) -> None, called after a DriverError.
FailureHandler = Callable[[Session, Operation, str], None]


class ImmediateDispatcher:
    """Runs each operation synchronously on in-process drivers (the fake ones in this issue)."""

    def __init__(self, drivers: Any, handlers: dict[str, tuple[Handler, FailureHandler]]):
        self.drivers = drivers
        self.handlers = handlers

    def submit(self, session: Session, operation: Operation) -> None:
        try:
            run, on_failure = self.handlers[operation.name]
        except KeyError:
            raise LookupError(f"no handler for operation {operation.name!r}") from None
        session.flush()
        try:
            run(session, self.drivers, operation)
        except DriverError as error:
            log.warning("operation %s on %s failed: %s", operation.name, operation.entity_id, error)
            on_failure(session, operation, str(error))
