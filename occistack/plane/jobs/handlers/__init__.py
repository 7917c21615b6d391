"""Job handlers, by operation name: what a worker does for each kind of job."""

from sqlalchemy.orm import Session

from occistack.model import Job
from occistack.plane.jobs.handlers.bare_metal import HANDLERS as _BARE_METAL
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.handlers.compute import HANDLERS as _COMPUTE
from occistack.plane.jobs.handlers.hosts import HANDLERS as _HOSTS
from occistack.plane.jobs.handlers.migration import HANDLERS as _MIGRATION
from occistack.plane.jobs.handlers.network import HANDLERS as _NETWORK
from occistack.plane.jobs.handlers.snapshots import HANDLERS as _SNAPSHOTS
from occistack.plane.jobs.handlers.storage import HANDLERS as _STORAGE
from occistack.plane.jobs.handlers.templates import HANDLERS as _TEMPLATES

HANDLERS: dict[str, JobHandler] = {**_COMPUTE, **_STORAGE, **_NETWORK, **_TEMPLATES, **_HOSTS, **_BARE_METAL,
                                **_SNAPSHOTS, **_MIGRATION}


def report_progress(session: Session, job: Job, percent: int) -> None:
    """An agent's report of how far a command of ``job`` has come, handed to the handler of its
    operation (a download's percentage lands on its template copy). The agent gateway, below
    the jobs, is given this function by whoever assembles it (plane/runtime.py)."""
    handler = HANDLERS.get(job.operation)
    if handler is not None and handler.on_progress is not None:
        handler.on_progress(session, dict(job.arguments or {}), percent)


__all__ = ["HANDLERS", "JobHandler", "Outcome", "StepContext", "StepFailed", "report_progress"]
