"""Job workers' heartbeats: each worker says it is alive once per sweep.

An empty queue shows no progress, so progress alone cannot tell a healthy idle cloud from one
whose workers all died; the heartbeat can. Rows of workers gone for a day are removed by the
next heartbeat of any worker, so the table holds the workers of the last day only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from occistack.model import JobWorker, utcnow

#: A worker not seen for this long is forgotten.
FORGET_AFTER = timedelta(days=1)


def record_heartbeat(session: Session, worker: str, now: datetime | None = None) -> None:
    """Mark ``worker`` as seen now (in the caller's transaction)."""
    now = now or utcnow()
    updated = session.execute(update(JobWorker).where(JobWorker.name == worker).values(last_seen_at=now)
                              .execution_options(synchronize_session=False))
    if updated.rowcount == 0:
        session.execute(insert(JobWorker).values(name=worker, started_at=now, last_seen_at=now))
    session.execute(delete(JobWorker).where(JobWorker.last_seen_at < now - FORGET_AFTER)
                    .execution_options(synchronize_session=False))


def workers_seen_since(session: Session, since: datetime) -> tuple[int, datetime | None]:
    """How many workers were seen at or after ``since``, and when any worker was last seen."""
    seen, last = session.execute(select(
        func.count().filter(JobWorker.last_seen_at >= since), func.max(JobWorker.last_seen_at))).one()
    return int(seen or 0), last
