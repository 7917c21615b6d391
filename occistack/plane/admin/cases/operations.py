"""Global settings and alerts, as the faces ask for them (``/admin/settings``,
``/admin/alerts``, ``occistack config`` and ``occistack alerts``).

A setting is changed or reset in the caller's transaction, with an event; once committed, this
process's plane re-reads it at its next use (plane/tunables.py's SETTINGS_CHANGED) and the
others within their refresh period. The use cases read the rows themselves, not the cached
values, so what they show is what is committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from occistack.model import Alert, GlobalSetting, utcnow
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import record_change
from occistack.plane.admin.records.operations import (
    AlertRecord,
    AlertsCleared,
    SettingRecord,
    alert_record,
    setting_record,
)
from occistack.plane.alerts import ALERT_KINDS
from occistack.plane.context import PlaneContext
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.tunables import SETTINGS_CHANGED, TUNABLES, Tunable, tunable_named


# --- settings ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingChange:
    name: str
    #: text or a number, read as the setting's type.
    value: object


def list_settings(ctx: PlaneContext) -> list[SettingRecord]:
    """Every global setting, in the order they are declared."""
    rows = {row.name: row for row in ctx.session.scalars(select(GlobalSetting))}
    return [_record(ctx, tunable, rows.get(tunable.name)) for tunable in TUNABLES]


def show_setting(ctx: PlaneContext, name: str) -> SettingRecord:
    tunable = _tunable(name)
    return _record(ctx, tunable, ctx.session.get(GlobalSetting, tunable.name))


def change_setting(ctx: PlaneContext, change: SettingChange) -> SettingRecord:
    """Give a setting a new value, in force in every process of the cloud; InvalidRequest
    saying what the setting accepts."""
    tunable = _tunable(change.name)
    try:
        value = tunable.parse(change.value, tunable.name)
    except ValueError as wrong:
        raise InvalidRequest(str(wrong)) from None
    actor = actor_of(ctx)
    row = ctx.session.get(GlobalSetting, tunable.name)
    before = row.value if row is not None else f"{ctx.services.tunables.defaults[tunable.name]:g} (default)"
    if row is None:
        row = GlobalSetting(name=tunable.name)
        ctx.session.add(row)
    row.value = f"{value:g}" if isinstance(value, float) else str(value)
    row.updated_at, row.updated_by = utcnow(), actor.label
    ctx.session.flush()
    ctx.session.info[SETTINGS_CHANGED] = True
    record_change(ctx.session, actor, "setting.update", "setting", tunable.name,
                  f"{tunable.name} = {row.value} (was {before})")
    return _record(ctx, tunable, row)


def reset_setting(ctx: PlaneContext, name: str) -> SettingRecord:
    """Back to its default (the ini file's value)."""
    tunable = _tunable(name)
    row = ctx.session.get(GlobalSetting, tunable.name)
    if row is not None:
        ctx.session.delete(row)
        ctx.session.flush()
        ctx.session.info[SETTINGS_CHANGED] = True
        record_change(ctx.session, actor_of(ctx), "setting.reset", "setting", tunable.name,
                      f"{tunable.name} back to its default {ctx.services.tunables.defaults[tunable.name]:g} "
                      f"(was {row.value})")
    return _record(ctx, tunable, None)


def _tunable(name: str) -> Tunable:
    try:
        return tunable_named(str(name))
    except KeyError as unknown:
        raise NotFound(unknown.args[0]) from None


def _record(ctx: PlaneContext, tunable: Tunable, row: GlobalSetting | None) -> SettingRecord:
    default = ctx.services.tunables.defaults[tunable.name]
    try:
        return setting_record(tunable, default, row)
    except ValueError:  # a row the declaration no longer accepts: the plane uses the default
        return setting_record(tunable, default, None)


# --- alerts --------------------------------------------------------------------------------------

def list_alerts(ctx: PlaneContext, kind: str | None = None) -> list[AlertRecord]:
    """The alerts standing, newest first; only those of ``kind`` when given."""
    query = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc())
    if kind is not None:
        if kind not in ALERT_KINDS:
            raise InvalidRequest(f"no alert kind {kind!r}; the kinds are: {', '.join(ALERT_KINDS)}")
        query = query.where(Alert.kind == kind)
    return [alert_record(alert) for alert in ctx.session.scalars(query)]


def clear_alert(ctx: PlaneContext, alert_id: int) -> AlertRecord:
    """Clear one alert (it may be raised again); NotFound when no such alert stands."""
    alert = ctx.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}; `occistack alerts list` (GET /admin/alerts) lists those standing")
    record = alert_record(alert)
    ctx.session.delete(alert)
    record_change(ctx.session, actor_of(ctx), "alert.clear", "alert", alert_id, f"{alert.kind}: {alert.message}")
    return record


def clear_all_alerts(ctx: PlaneContext) -> AlertsCleared:
    """Clear every alert standing; how many."""
    cleared = ctx.session.execute(delete(Alert)).rowcount or 0
    if cleared:
        record_change(ctx.session, actor_of(ctx), "alert.clear", "alert", None, f"{cleared} alert(s) cleared")
    return AlertsCleared(cleared)
