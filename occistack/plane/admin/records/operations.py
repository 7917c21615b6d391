"""Records of the global settings and of the alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from occistack.model import Alert, GlobalSetting
from occistack.plane.admin.records import from_row
from occistack.plane.tunables import Tunable


@dataclass(frozen=True, slots=True)
class SettingRecord:
    """One global setting: its value now, its default and what it accepts."""

    name: str
    value: float | int
    #: the ini file's value (``ini_key``), else the built-in default.
    default: float | int
    #: True when an administrator changed it at run time (``config reset`` undoes that).
    changed: bool
    #: "number" or "integer".
    type: str
    minimum: float
    maximum: float
    unit: str
    ini_key: str
    description: str
    updated_at: datetime | None
    updated_by: str | None


def setting_record(tunable: Tunable, default: float | int, row: GlobalSetting | None) -> SettingRecord:
    value = tunable.parse(row.value, tunable.name) if row is not None else default
    return SettingRecord(name=tunable.name, value=value, default=default, changed=row is not None, type=tunable.type,
                         minimum=tunable.minimum, maximum=tunable.maximum, unit=tunable.unit,
                         ini_key=tunable.ini_key, description=tunable.description,
                         updated_at=row.updated_at if row is not None else None,
                         updated_by=row.updated_by if row is not None else None)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert standing until it is cleared."""

    id: int
    #: host.down, host.fence_failed, zone.capacity or template.download_failed.
    kind: str
    resource_type: str
    resource_id: str
    zone_id: int | None
    message: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AlertsCleared:
    """How many alerts a clear of every alert removed."""

    count: int


def alert_record(alert: Alert) -> AlertRecord:
    return from_row(AlertRecord, alert)
