"""Records of usage: one resource's use in one hour, a page of them, an aggregation done, and
the accounting records (APEL) made for EGI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from occistack.plane.admin.records import related


@dataclass(frozen=True, slots=True)
class UsageHourRecord:
    """One resource's use of one type in one clock hour (UTC)."""

    id: int
    hour: datetime
    #: vm_running, vm_allocated, volume, public_ip or template.
    usage_type: str
    resource_id: str
    project_id: int | None
    zone_id: int | None
    #: a VM's service offering; None for custom sizes and other types.
    offering: str | None
    #: a VM's or template's OS template, a public address.
    description: str | None
    cores: int | None
    memory_gib: float | None
    size_gib: float | None
    #: the part of the hour in use (0 to 1).
    hours: float
    #: GiB-hours of volumes and templates.
    gib_hours: float | None
    project: str | None = related()


@dataclass(frozen=True, slots=True)
class UsagePage:
    """Rows of a listing, oldest hour first, and where the next page starts (None: no more)."""

    rows: tuple[UsageHourRecord, ...]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class UsageAggregated:
    """What an aggregation run did: the hours it (re)made and the rows it wrote."""

    hours: int
    rows: int
    first_hour: datetime | None
    last_hour: datetime | None


@dataclass(frozen=True, slots=True)
class AccountingPublished:
    """What ``accounting publish`` wrote: how many records, in how many messages, where."""

    records: int
    messages: int
    directory: str
    names: tuple[str, ...]
