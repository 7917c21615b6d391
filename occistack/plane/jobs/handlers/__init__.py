"""Job handlers, by operation name: what a worker does for each kind of job."""

from occistack.plane.jobs.handlers.bare_metal import HANDLERS as _BARE_METAL
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.handlers.compute import HANDLERS as _COMPUTE
from occistack.plane.jobs.handlers.hosts import HANDLERS as _HOSTS
from occistack.plane.jobs.handlers.network import HANDLERS as _NETWORK
from occistack.plane.jobs.handlers.storage import HANDLERS as _STORAGE
from occistack.plane.jobs.handlers.templates import HANDLERS as _TEMPLATES

HANDLERS: dict[str, JobHandler] = {**_COMPUTE, **_STORAGE, **_NETWORK, **_TEMPLATES, **_HOSTS, **_BARE_METAL}

__all__ = ["HANDLERS", "JobHandler", "Outcome", "StepContext", "StepFailed"]
