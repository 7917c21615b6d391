"""What an operator tunes and what asks for their attention: global settings and alerts.

A global setting row holds a value an administrator changed at run time (CloudStack's Global
Settings); a setting with no row has its default, the ini file's value. The names, types and
ranges are declared by the plane (plane/tunables.py), not here: the table only keeps text.

An alert is a fact an operator should act on -- a host that stopped answering, a fencing that
failed, a zone nearly full, a template that could not be downloaded -- kept until someone
clears it. At most one uncleared alert per kind and resource (the unique index), so a sweep
that sees the same zone full every few seconds records it once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.infrastructure import BigId
from occistack.model.meta import Base, utcnow


class GlobalSetting(Base):
    __tablename__ = "global_settings"

    #: the declared name, like "placement.capacity_threshold".
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the value as text (its declared type reads it back).
    value: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: who changed it: "admin:<name>", "cli:<login>".
    updated_by: Mapped[str] = mapped_column(String(128), default="system")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("uq_alerts_kind_resource", "kind", "resource_type", "resource_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: "host.down", "host.fence_failed", "zone.capacity", "template.download_failed".
    kind: Mapped[str] = mapped_column(String(32))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(80))
    zone_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
