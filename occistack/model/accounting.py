"""What happened and what was used: the event log and usage records.

Events answer "who did what to which resource, when, and how did it end" (CloudStack's
events); usage records are intervals of use (a VM running or allocated, a volume's GiB, a
public address) from which accounting records -- APEL's cloud usage records for EGI -- are
made later. An open interval has no ``ended_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.infrastructure import BigId
from occistack.model.meta import Base, utcnow

#: Event states, as CloudStack names them.
EVENT_STATES = ("scheduled", "started", "completed", "failed")
USAGE_TYPES = ("vm_running", "vm_allocated", "volume", "public_ip")


class EventRecord(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_project_created", "project_id", "created_at"),
        Index("ix_events_resource", "resource_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    #: e.g. "vm.deploy", "host.add", "zone.create".
    action: Mapped[str] = mapped_column(String(64))
    #: scheduled, started, completed or failed.
    state: Mapped[str] = mapped_column(String(16))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(80))
    #: who: a user name, "admin:<name>", "system".
    actor: Mapped[str] = mapped_column(String(128), default="system")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(BigId)
    description: Mapped[str | None] = mapped_column(Text)


class UsageRecord(Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_open", "resource_id", "usage_type", "ended_at"),
        Index("ix_usage_project_started", "project_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    #: vm_running, vm_allocated, volume or public_ip.
    usage_type: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(String(80))
    zone_id: Mapped[int | None] = mapped_column(Integer)
    #: cores, memory GiB, volume GiB or address count, as the record's type needs.
    cores: Mapped[int | None] = mapped_column(Integer)
    memory_gib: Mapped[float | None] = mapped_column(Float)
    size_gib: Mapped[float | None] = mapped_column(Float)
    #: the OS template or offering, for accounting (APEL's ImageId).
    description: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
