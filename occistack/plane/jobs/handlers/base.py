"""What a job handler is: steps that read rows, send agent commands and apply outcomes.

A handler's ``run`` is called once per step, in the worker's transaction. Step 0 usually sends
commands to a host (``ctx.send``) and returns WAIT; when the agent has answered, the job is
requeued and ``run`` is called again with ``ctx.answers`` holding the answered commands of the
step before. ``run`` returns DONE when the operation is over, or raises :class:`StepFailed`,
after which the handler's ``on_failure`` moves the resource to ``error`` with the message as
its state message -- in the same transaction, so a failed job never leaves its resource in a
transitional state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from occistack.hostagent.protocol import HostAnswer, HostCommand, ProtocolError, decode_command, decode_result
from occistack.model import AgentCommand, Job
from occistack.plane.agents import gateway
from occistack.plane.jobs.services import ManagementServices


class Outcome(Enum):
    DONE = "done"
    WAIT = "wait"


class StepFailed(Exception):
    """The operation cannot succeed; the message says why, for the resource's state message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class StepContext:
    session: Session
    job: Job
    #: the management plane's services the handlers need (placement, HA's fencing, settings).
    services: ManagementServices
    answers: list[AgentCommand] = field(default_factory=list)
    sent: list[AgentCommand] = field(default_factory=list)

    @property
    def step(self) -> int:
        return self.job.step

    @property
    def arguments(self) -> dict[str, Any]:
        return self.job.arguments or {}

    def send(self, host_id: int, command: HostCommand) -> AgentCommand:
        """Queue ``command`` (one of hostagent.protocol's) for the host, in this step; a field
        of the wrong type (a value the rows hold that no agent accepts) fails the step."""
        try:
            row = gateway.send(self.session, self.job, host_id, command)
        except ProtocolError as error:
            raise StepFailed(f"internal error: the {type(command).__name__} command is malformed: {error}") from None
        self.sent.append(row)
        return row

    def answer(self, command_type: type) -> AgentCommand:
        """The answered command of the previous step of this class (DeployGuest, ...)."""
        for command in self.answers:
            if command.name == command_type.wire_name:
                return command
        raise StepFailed(f"internal error: step {self.step} expected an answer to {command_type.wire_name}")

    def result(self, command_type: type) -> HostAnswer:
        """The typed answer (protocol's GuestState, SnapshotSaved, ...) to the previous step's
        command of this class, which succeeded; StepFailed when the agent's answer is not one
        that command is given."""
        return typed_result(self.answer(command_type), command_type)

    def failures(self) -> list[AgentCommand]:
        return [command for command in self.answers if command.error is not None]

    def progress(self, **changes: Any) -> dict[str, Any]:
        """Read (and, with arguments, update) the handler's bookkeeping kept on the job."""
        if changes:
            self.job.progress = {**(self.job.progress or {}), **changes}
        return self.job.progress or {}


@dataclass(frozen=True, slots=True)
class JobHandler:
    run: Callable[[StepContext], Outcome]
    #: moves the resource to error; called with the reason after StepFailed or exhausted retries.
    on_failure: Callable[[StepContext, str], None]
    #: how long a step may wait for its agents before its commands are failed.
    wait_seconds: float = 120.0
    #: ``(session, job arguments, percent)``: an agent's report of how far a long command of
    #: this job has come (a download), for operations that show it.
    on_progress: Callable[[Session, dict, int], None] | None = None


def typed_result(command: AgentCommand, command_type: type) -> HostAnswer:
    """The typed answer an agent gave to ``command`` (a row of class ``command_type``)."""
    try:
        return decode_result(command_type, command.result)
    except ProtocolError as error:
        raise StepFailed(f"the agent's answer to {command.name} is not understood: {error}") from None


def sent_command(command: AgentCommand) -> HostCommand:
    """The typed command a row holds (as it was sent)."""
    return decode_command(command.name, command.payload or {})


def previous_answers(session: Session, job: Job) -> list[AgentCommand]:
    if job.step == 0:
        return []
    return list(session.scalars(_PREVIOUS_ANSWERS, {"job": job.id, "step": job.step - 1}))


#: Built once: building a statement costs more than running it.
_PREVIOUS_ANSWERS = (select(AgentCommand).where(AgentCommand.job_id == bindparam("job"),
                                                AgentCommand.step == bindparam("step"))
                     .order_by(AgentCommand.id))
