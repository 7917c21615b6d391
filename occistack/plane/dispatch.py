"""The seam between the use cases and whatever carries their operations out.

A use case validates, writes rows, moves the resource into its transitional state ("starting",
"creating"), and submits an :class:`Operation` to a :class:`Dispatcher`. The dispatcher of the
management plane (:class:`~.jobs.JobDispatcher`) writes it as a durable job in the same
transaction; a worker carries it out on the host agents after commit, and the outcome goes
through the transition tables -- a failure leaves the resource in ``error`` with a state
message, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from occistack.hostagent.protocol import HostCommand


#: The resource of a host's fencing job (HA): jobs of one resource run one at a time, so two
#: sweeps cannot fence one host twice at once.
FENCING_ENTITY = "host-{}"
#: The resource of a bare-metal node's BMC checks: its fencing jobs' one, so that a check and
#: a fencing of one host never run at once.
NODE_ENTITY = FENCING_ENTITY


@dataclass(frozen=True, slots=True)
class Operation:
    """One thing to do to one resource, e.g. ``Operation("deploy_vm", vm.id)``."""

    name: str
    entity_id: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FirstCommand:
    """An agent command (one of hostagent.protocol's) of an operation's first step, written with it
    by ``submit_waiting``."""

    host_id: int
    command: HostCommand


class Dispatcher(Protocol):
    def submit(self, session: Session, operation: Operation, caller=None): ...

    def submit_waiting(self, session: Session, operation: Operation, commands: list[FirstCommand], caller=None):
        """Submit with the first step's agent commands written at once (see jobs.py)."""


class OnBehalfOf:
    """A dispatcher whose operations carry ``caller`` unless the use case names another: the
    jobs a user's request starts are that user's, so the events their handlers write name the
    user (see events.record_event), not "system". Faces wrap their dispatcher in one per
    request; the use cases need not pass the caller to every submit."""

    def __init__(self, dispatcher: Dispatcher, caller) -> None:
        self.dispatcher, self.caller = dispatcher, caller

    def submit(self, session: Session, operation: Operation, caller=None, *args, **options):
        return self.dispatcher.submit(session, operation, caller or self.caller, *args, **options)

    def submit_waiting(self, session: Session, operation: Operation, commands: list[FirstCommand], caller=None,
                       *args, **options):
        return self.dispatcher.submit_waiting(session, operation, commands, caller or self.caller, *args, **options)

    def __getattr__(self, name: str):
        return getattr(self.dispatcher, name)
