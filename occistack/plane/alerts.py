"""Alerts: what asks for an operator's attention, kept until someone clears it.

Raised where the plane sees it happen -- the worker's sweep moving a silent host to Alert
(``host.down``), a fencing that failed (``host.fence_failed``), a zone's allocated capacity
passing ``alerts.capacity_threshold`` (``zone.capacity``), a template copy whose download
failed (``template.download_failed``) -- in the transaction that saw it, so an alert exists
exactly when what it reports was committed. One uncleared alert per kind and resource: raising
it again while it stands changes nothing (the sweep sees a full zone every few seconds).
Clearing it (``occistack alerts clear``, ``DELETE /admin/alerts/{id}``) lets it be raised again.
"""

from __future__ import annotations

import logging

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from occistack.model import Alert, Host, StoragePool, Zone, utcnow
from occistack.model.states import ResourceState, StoragePoolState

log = logging.getLogger(__name__)

HOST_DOWN = "host.down"
FENCE_FAILED = "host.fence_failed"
ZONE_CAPACITY = "zone.capacity"
TEMPLATE_DOWNLOAD_FAILED = "template.download_failed"
#: Every kind of alert, as the faces filter by them.
ALERT_KINDS = (HOST_DOWN, FENCE_FAILED, ZONE_CAPACITY, TEMPLATE_DOWNLOAD_FAILED)


def raise_alert(session: Session, kind: str, resource_type: str, resource_id: int | str, message: str,
                zone_id: int | None = None) -> bool:
    """Record the alert unless one of this kind stands for this resource; True when recorded.
    One statement that yields to a concurrent one (ON CONFLICT DO NOTHING), so two workers
    sweeping at once neither fail nor record it twice."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(Alert).values(kind=kind, resource_type=resource_type, resource_id=str(resource_id),
                                     zone_id=zone_id, message=message[:4000], created_at=utcnow())
    result = session.execute(statement.on_conflict_do_nothing(
        index_elements=[Alert.kind, Alert.resource_type, Alert.resource_id]))
    if result.rowcount:
        log.warning("alert %s on %s %s: %s", kind, resource_type, resource_id, message)
    return bool(result.rowcount)


def check_zone_capacity(session: Session, threshold: float) -> list[int]:
    """Raise a zone.capacity alert for each zone whose allocated CPU, memory or primary
    storage is above ``threshold`` (a fraction) of what placement may use there -- enabled
    hosts with their overcommit, primary storage that is up with its overprovisioning, as the
    capacity report counts them. The ids of the zones alerted now. Two aggregate queries."""
    enabled = Host.resource_state == ResourceState.ENABLED.value

    def total(value, condition):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    over: dict[int, list[str]] = {}
    for zone_id, cpu_used, cpu_total, memory_used, memory_total in session.execute(
            select(Host.zone_id, total(Host.cpu_used_mhz, enabled),
                   total(Host.cpu_cores * Host.cpu_mhz * Host.cpu_overcommit, enabled),
                   total(Host.memory_used_mib, enabled), total(Host.memory_mib * Host.memory_overcommit, enabled))
            .group_by(Host.zone_id)):
        for what, used, room in (("CPU", cpu_used, cpu_total), ("memory", memory_used, memory_total)):
            if room and used / room > threshold:
                over.setdefault(zone_id, []).append(f"{what} {used / room:.0%} allocated")
    pool_up = StoragePool.state == StoragePoolState.UP.value
    for zone_id, used, room in session.execute(
            select(StoragePool.zone_id, total(StoragePool.used_gib, pool_up),
                   total(StoragePool.capacity_gib * StoragePool.overprovisioning, pool_up))
            .group_by(StoragePool.zone_id)):
        if room and used / room > threshold:
            over.setdefault(zone_id, []).append(f"primary storage {used / room:.0%} allocated")
    alerted = []
    for zone_id, parts in over.items():
        name = session.scalar(select(Zone.name).where(Zone.id == zone_id)) or str(zone_id)
        if raise_alert(session, ZONE_CAPACITY, "zone", zone_id,
                       f"zone {name!r} is above the {threshold:.0%} capacity alert threshold: {', '.join(parts)}",
                       zone_id=zone_id):
            alerted.append(zone_id)
    return alerted
