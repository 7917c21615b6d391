"""Records of the event log (the capacity report is a record already: admin.capacity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from occistack.model import EventRecord
from occistack.plane.admin.records import from_row


@dataclass(frozen=True, slots=True)
class EventLogRecord:
    """One event: what happened to which resource, and who did it."""

    id: int
    created_at: datetime
    #: like "zone.create" or "vm.deploy".
    action: str
    #: scheduled, started, completed or failed.
    state: str
    resource_type: str
    resource_id: str | None
    #: a user name, "admin:<name>", "cli:<login>" or "system".
    actor: str
    user_id: int | None
    project_id: int | None
    job_id: int | None
    description: str | None


def event_record(event: EventRecord) -> EventLogRecord:
    return from_row(EventLogRecord, event)
