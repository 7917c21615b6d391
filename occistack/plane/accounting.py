"""EGI accounting: APEL's cloud usage records (``APEL-cloud-message: v0.4``), made from the
usage intervals and the computes' owners, and put where APEL's ``ssmsend`` takes them -- a
``dirq`` QueueSimple directory.

A cloud record describes one VM as of the moment it is made: when it started (and ended),
how long it ran (WallDuration) and how long it was allocated without running (SuspendDuration),
its size and its owner. APEL keeps the latest record of each VMUUID, so a VM is published again
in every window it was alive in, with its totals up to the window's end.

What occistack does not measure is ``NULL``: CPU time (a guest's CPU seconds are not collected),
network traffic and type, benchmarks, storage records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence

from dirq.QueueSimple import QueueSimple

HEADER = "APEL-cloud-message: v0.4"
SEPARATOR = "%%"
NULL = "NULL"
#: The fields of a v0.4 cloud record, in the order they are written.
FIELDS = ("RecordCreateTime", "VMUUID", "SiteName", "CloudComputeService", "MachineName", "LocalUserId",
          "LocalGroupId", "GlobalUserName", "FQAN", "Status", "StartTime", "EndTime", "SuspendDuration",
          "WallDuration", "CpuDuration", "CpuCount", "NetworkType", "NetworkInbound", "NetworkOutbound",
          "PublicIPCount", "Memory", "Disk", "BenchmarkType", "Benchmark", "StorageRecordId", "ImageId", "CloudType")
#: APEL's advice: no more than this many records in one message.
RECORDS_PER_MESSAGE = 1000


@dataclass(frozen=True, slots=True)
class CloudRecord:
    """One VM's APEL cloud record; None is written ``NULL``. Times are naive UTC."""

    record_create_time: datetime
    vm_uuid: str
    site_name: str
    cloud_compute_service: str | None
    machine_name: str | None
    local_user_id: str | None
    local_group_id: str | None
    global_user_name: str | None
    fqan: str | None
    #: started, stopped or completed.
    status: str
    start_time: datetime
    end_time: datetime | None
    suspend_duration: int
    wall_duration: int
    cpu_duration: int | None
    cpu_count: int | None
    network_type: str | None
    network_inbound: int | None
    network_outbound: int | None
    public_ip_count: int
    #: MB.
    memory: int | None
    #: GB.
    disk: int | None
    benchmark_type: str | None
    benchmark: float | None
    storage_record_id: str | None
    image_id: str | None
    cloud_type: str


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp())


def _value(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, datetime):
        return str(_epoch(value))
    if isinstance(value, float):
        return f"{value:g}"
    # One line per field: a name with a line break in it would start a field of its own.
    text = " ".join(str(value).split())
    return text or NULL


def record_lines(record: CloudRecord) -> list[str]:
    values = [getattr(record, name) for name in CloudRecord.__slots__]
    return [f"{field}: {_value(value)}" for field, value in zip(FIELDS, values, strict=True)]


def message(records: Sequence[CloudRecord]) -> str:
    """One message: the header, then the records with ``%%`` between them."""
    lines = [HEADER]
    for index, record in enumerate(records):
        if index:
            lines.append(SEPARATOR)
        lines.extend(record_lines(record))
    return "\n".join(lines) + "\n"


def messages(records: Sequence[CloudRecord], per_message: int = RECORDS_PER_MESSAGE) -> list[str]:
    return [message(records[first:first + per_message]) for first in range(0, len(records), per_message)]


def enqueue(directory: str, texts: Iterable[str]) -> list[str]:
    """Add each message to the dirq QueueSimple at ``directory`` (made if missing), where
    ``ssmsend`` (its ``[messaging] path``) picks them up; the names dirq gave them."""
    queue = QueueSimple(directory)
    return [queue.add(text) for text in texts]
