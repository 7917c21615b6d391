"""Recurring snapshot policies: take a snapshot of a volume (or of a compute's root disk) every
hour, day, week or month at a set UTC time, and keep only the newest ``retention`` of them.

The workers' sweep (plane/jobs/snapshot_policies.py) takes a policy whose ``next_run_at`` has
come and moves ``next_run_at`` on in the same transaction, with a conditional UPDATE on its old
value, so two workers never both take the same run. A policy goes with what it is of (ON DELETE
CASCADE); the snapshots it made stay (their ``policy_id`` becomes NULL when the policy goes).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.meta import Base, utcnow


class PolicyInterval(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class SnapshotPolicy(Base):
    __tablename__ = "snapshot_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: one of model.snapshots.SNAPSHOT_SOURCES; exactly one of volume_id and vm_id is set.
    source: Mapped[str] = mapped_column(String(16))
    volume_id: Mapped[str | None] = mapped_column(ForeignKey("volumes.id", ondelete="CASCADE"), index=True)
    vm_id: Mapped[str | None] = mapped_column(ForeignKey("virtual_machines.id", ondelete="CASCADE"), index=True)
    #: a PolicyInterval.
    interval: Mapped[str] = mapped_column(String(16))
    #: when in the interval it runs, in UTC: the minute (every interval), the hour (daily, weekly,
    #: monthly), the day (weekly: 0 = Monday .. 6 = Sunday; monthly: 1 .. 28).
    minute: Mapped[int] = mapped_column(Integer, default=0)
    hour: Mapped[int] = mapped_column(Integer, default=0)
    day: Mapped[int] = mapped_column(Integer, default=0)
    #: how many of the snapshots it made are kept; older ones are deleted.
    retention: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: why the last run took no snapshot (what it is of was busy, say); NULL when it did.
    last_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
