"""Job handlers, by operation name: what a worker does for each kind of job."""

from .bare_metal import HANDLERS as _BARE_METAL
from .base import JobHandler, Outcome, StepContext, StepFailed
from .compute import HANDLERS as _COMPUTE
from .hosts import HANDLERS as _HOSTS
from .network import HANDLERS as _NETWORK
from .storage import HANDLERS as _STORAGE
from .templates import HANDLERS as _TEMPLATES

HANDLERS: dict[str, JobHandler] = {**_COMPUTE, **_STORAGE, **_NETWORK, **_TEMPLATES, **_HOSTS, **_BARE_METAL}

__all__ = ["HANDLERS", "JobHandler", "Outcome", "StepContext", "StepFailed"]
