"""EGI accounting as the administrator runs it: the APEL cloud records of every compute alive in
a window, and their publication into the directory APEL's ``ssmsend`` sends from. What goes
into each field is said in ``plane/accounting.py`` and docs/usage-and-accounting.md."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from occistack.model import ComputeOwner, Project, UsageRecord, utcnow
from occistack.plane import accounting
from occistack.plane.accounting import CloudRecord
from occistack.plane.usage_hours import check_window
from occistack.plane.admin.records.usage import AccountingPublished
from occistack.plane.context import PlaneContext
from occistack.plane.errors import InvalidRequest, Unavailable


@dataclass(frozen=True)
class AccountingRequest:
    """Computes allocated at any time in [start, end), each with its totals up to ``end`` (or
    to its end, when it ended before); the site's names come from the ini file's settings."""

    start: datetime
    end: datetime
    site_name: str
    cloud_compute_service: str | None = None
    cloud_type: str = "occistack"
    #: the dirq directory ssmsend reads (publish only).
    directory: str | None = None


def cloud_records(ctx: PlaneContext, request: AccountingRequest) -> list[CloudRecord]:
    """One APEL cloud record per compute alive in the window, oldest first."""
    start, end = check_window(request.start, request.end)
    if not request.site_name or not request.site_name.strip():
        raise InvalidRequest("no site name: set occistack.accounting.site_name in the ini file (the site's name "
                             "in GOCDB)")
    session, now = ctx.session, utcnow()
    end = min(end, now)
    alive = (select(UsageRecord.resource_id)
             .where(UsageRecord.usage_type == "vm_allocated", UsageRecord.started_at < end,
                    or_(UsageRecord.ended_at.is_(None), UsageRecord.ended_at > start))
             .distinct().scalar_subquery())
    intervals = defaultdict(list)
    for row in session.execute(select(UsageRecord).where(
            UsageRecord.resource_id.in_(alive), UsageRecord.usage_type.in_(("vm_allocated", "vm_running")),
            UsageRecord.started_at < end).order_by(UsageRecord.started_at, UsageRecord.id)).scalars():
        intervals[row.resource_id].append(row)
    addresses = dict(session.execute(
        select(UsageRecord.compute_id, func.count(func.distinct(UsageRecord.resource_id)))
        .where(UsageRecord.compute_id.in_(alive), UsageRecord.usage_type == "public_ip",
               UsageRecord.started_at < end, or_(UsageRecord.ended_at.is_(None), UsageRecord.ended_at > start))
        .group_by(UsageRecord.compute_id)).all())
    owners = {owner.vm_id: owner for owner in session.scalars(select(ComputeOwner).where(ComputeOwner.vm_id.in_(alive)))}
    project_ids = {row.project_id for rows in intervals.values() for row in rows if row.project_id is not None}
    projects = dict(session.execute(select(Project.id, Project.name).where(Project.id.in_(project_ids))).all()) \
        if project_ids else {}
    records = [_record(vm_id, rows, owners.get(vm_id), projects, addresses.get(vm_id, 0), end, now, request)
               for vm_id, rows in intervals.items()]
    return sorted(records, key=lambda record: (record.start_time, record.vm_uuid))


def _seconds(rows: list[UsageRecord], until: datetime) -> int:
    return int(sum(max((min(row.ended_at or until, until) - row.started_at).total_seconds(), 0) for row in rows))


def _record(vm_id: str, rows: list[UsageRecord], owner: ComputeOwner | None, projects: dict[int, str],
            public_ips: int, end: datetime, now: datetime, request: AccountingRequest) -> CloudRecord:
    allocated = [row for row in rows if row.usage_type == "vm_allocated"]
    running = [row for row in rows if row.usage_type == "vm_running"]
    first = allocated[0] if allocated else rows[0]
    ended = None if any(row.ended_at is None or row.ended_at > end for row in allocated) else \
        max(row.ended_at for row in allocated) if allocated else None
    until = ended or end
    wall = _seconds(running, until)
    latest = rows[-1]
    if ended is not None:
        status = "completed"
    elif any(row.ended_at is None or row.ended_at >= end for row in running):
        status = "started"
    else:
        status = "stopped"
    return CloudRecord(
        record_create_time=now, vm_uuid=vm_id, site_name=request.site_name.strip(),
        cloud_compute_service=request.cloud_compute_service or None,
        machine_name=owner.machine_name if owner else None, local_user_id=owner.user_name if owner else None,
        local_group_id=projects.get(first.project_id), global_user_name=owner.global_user_name if owner else None,
        fqan=owner.fqan if owner else None, status=status, start_time=first.started_at, end_time=ended,
        suspend_duration=max(_seconds(allocated, until) - wall, 0), wall_duration=wall, cpu_duration=None,
        cpu_count=latest.cores, network_type=None, network_inbound=None, network_outbound=None,
        public_ip_count=public_ips,
        memory=round(latest.memory_gib * 1024) if latest.memory_gib is not None else None,
        disk=round(owner.disk_gib) if owner and owner.disk_gib is not None else None,
        benchmark_type=None, benchmark=None, storage_record_id=None, image_id=first.description,
        cloud_type=request.cloud_type)


def publish_accounting(ctx: PlaneContext, request: AccountingRequest) -> AccountingPublished:
    """Write the window's records as APEL messages into ``request.directory`` (a dirq
    QueueSimple, made if missing) for ssmsend to send."""
    if not request.directory:
        raise InvalidRequest("no outgoing directory: set occistack.accounting.outgoing in the ini file (the "
                             "directory ssmsend's [messaging] path names)")
    records = cloud_records(ctx, request)
    texts = accounting.messages(records)
    try:
        names = accounting.enqueue(request.directory, texts)
    except OSError as error:
        raise Unavailable(f"cannot write to the outgoing directory {request.directory}: {error.strerror or error}") \
            from None
    return AccountingPublished(len(records), len(texts), request.directory, tuple(names))
