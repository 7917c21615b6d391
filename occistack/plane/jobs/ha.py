"""High availability's trigger: the sweep submits a fencing job for each host in Alert.

The job (``fence_host``, handlers/hosts.py) does the fencing and the restarts. A host is
submitted again only after ``fence_retry_seconds``, so an unreachable BMC is retried at a calm
pace, and never while a fencing job of the host is still unfinished.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from occistack.model import Host, Job, utcnow
from occistack.model.jobs import UNFINISHED
from occistack.model.states import HostStatus
from occistack.plane.dispatch import FENCING_ENTITY, Operation
from occistack.plane.agents.gateway import GatewaySettings

_UNFINISHED = [str(state) for state in UNFINISHED]


def submit_fencing(session: Session, dispatcher, settings: GatewaySettings, now: datetime | None = None) -> list[int]:
    """Submit the fencing of every host in Alert that is due; the host ids submitted."""
    now = now or utcnow()
    retry_before = now - timedelta(seconds=settings.fence_retry_seconds)
    due = session.scalars(select(Host).where(
        Host.status == str(HostStatus.ALERT),
        or_(Host.fence_attempted_at.is_(None), Host.fence_attempted_at < retry_before))
        .with_for_update(skip_locked=True, key_share=True)).all()
    submitted = []
    for host in due:
        job_entity = FENCING_ENTITY.format(host.id)
        if session.scalar(select(exists().where(Job.entity_id == job_entity, Job.state.in_(_UNFINISHED)))):
            continue
        host.fence_attempted_at = now
        dispatcher.submit(session, Operation("fence_host", job_entity, {"host_id": host.id}))
        submitted.append(host.id)
    return submitted
