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

from occistack.model import AgentCommand, Job
from occistack.plane.agents import gateway


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
    #: the management plane's services the handlers need (placement, settings).
    services: Any
    answers: list[AgentCommand] = field(default_factory=list)
    sent: list[AgentCommand] = field(default_factory=list)

    @property
    def step(self) -> int:
        return self.job.step

    @property
    def arguments(self) -> dict[str, Any]:
        return self.job.arguments or {}

    def send(self, host_id: int, name: str, payload: dict[str, Any]) -> AgentCommand:
        command = gateway.send(self.session, self.job, host_id, name, payload)
        self.sent.append(command)
        return command

    def answer(self, name: str) -> AgentCommand:
        """The answered command of the previous step with this name."""
        for command in self.answers:
            if command.name == name:
                return command
        raise StepFailed(f"internal error: step {self.step} expected an answer to {name}")

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


def previous_answers(session: Session, job: Job) -> list[AgentCommand]:
    if job.step == 0:
        return []
    return list(session.scalars(_PREVIOUS_ANSWERS, {"job": job.id, "step": job.step - 1}))


#: Built once: building a statement costs more than running it.
_PREVIOUS_ANSWERS = (select(AgentCommand).where(AgentCommand.job_id == bindparam("job"),
                                                AgentCommand.step == bindparam("step"))
                     .order_by(AgentCommand.id))
