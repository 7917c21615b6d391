"""What happened and what was used: the event log and usage records.

Events answer "who did what to which resource, when, and how did it end" (CloudStack's
events); usage records are intervals of use (a VM running or allocated, a volume's GiB, a
public address) from which accounting records -- APEL's cloud usage records for EGI -- are
made later. An open interval has no ``ended_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.infrastructure import BigId
from occistack.model.meta import Base, utcnow

#: Event states, as CloudStack names them.
EVENT_STATES = ("scheduled", "started", "completed", "failed")
USAGE_TYPES = ("vm_running", "vm_allocated", "volume", "public_ip", "template")


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
    #: vm_running, vm_allocated, volume, public_ip or template (a copy in secondary storage).
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
    #: a VM's service offering (its term); NULL for custom sizes and for other types.
    offering: Mapped[str | None] = mapped_column(String(64))
    #: the compute a public address is attached to: APEL counts a VM's public addresses.
    compute_id: Mapped[str | None] = mapped_column(String(80))


class UsageHour(Base):
    """One resource's use of one type in one clock hour (UTC), as CloudStack's usage server
    writes it: made from the intervals by ``plane/usage_hours.py``. An hour is made again whole
    (its rows deleted and written anew), so running it twice never counts twice."""

    __tablename__ = "usage_hours"
    __table_args__ = (
        UniqueConstraint("hour", "usage_type", "resource_id"),
        Index("ix_usage_hours_project_hour", "project_id", "hour"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: the start of the hour, naive UTC, on the hour.
    hour: Mapped[datetime] = mapped_column(DateTime, index=True)
    usage_type: Mapped[str] = mapped_column(String(16))
    resource_id: Mapped[str] = mapped_column(String(80))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    zone_id: Mapped[int | None] = mapped_column(Integer)
    offering: Mapped[str | None] = mapped_column(String(64))
    #: the OS template of a VM or template row, the address of a public_ip row.
    description: Mapped[str | None] = mapped_column(String(255))
    cores: Mapped[int | None] = mapped_column(Integer)
    memory_gib: Mapped[float | None] = mapped_column(Float)
    #: the largest size the resource had in the hour (volumes, templates).
    size_gib: Mapped[float | None] = mapped_column(Float)
    #: the part of the hour the resource was in use: 0 < hours <= 1.
    hours: Mapped[float] = mapped_column(Float)
    #: GiB-hours of volumes and templates (size × time); NULL for the other types.
    gib_hours: Mapped[float | None] = mapped_column(Float)


class UsageHourRun(Base):
    """An hour that has been aggregated, and when: the worker goes on from the latest one."""

    __tablename__ = "usage_hour_runs"

    hour: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    aggregated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)


class ComputeOwner(Base):
    """Who asked for a compute, as accounting needs it after the compute is gone: APEL's
    LocalUserId, GlobalUserName (an X.509 DN or an OIDC subject) and FQAN, kept when the
    compute is created. No foreign key to the compute: the record outlives it."""

    __tablename__ = "compute_owners"

    vm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(String(64))
    global_user_name: Mapped[str | None] = mapped_column(String(512))
    fqan: Mapped[str | None] = mapped_column(String(512))
    machine_name: Mapped[str | None] = mapped_column(String(255))
    #: GiB of the root disk (APEL's Disk).
    disk_gib: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
