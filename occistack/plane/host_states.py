"""A host's resource state -- enabled, disabled, maintenance -- and the one way it moves.

Shared by the administrator's use cases (admin/hosts.py), which move it on request, and the job
handlers that see the last virtual machine leave a host preparing for maintenance and complete
that maintenance (:func:`finish_maintenance_when_empty`). The state changes only through
``RESOURCE_STATE_TRANSITIONS``, on a row the caller has locked (model/contention.py's
``ROW_LOCK``) and re-read; the change is an ORM update, so placement's topology snapshot sees it.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from occistack.model import Host, VirtualMachine
from occistack.model.contention import ROW_LOCK
from occistack.model.states import RESOURCE_STATE_TRANSITIONS, HostEvent, IllegalTransition, ResourceState
from occistack.plane.errors import Conflict
from occistack.plane.events import record_event
from occistack.plane.transitions import apply_event

#: event → (what it does, in a refusal; the administrator's command for it, if there is one).
_ADMIN_EVENTS = {
    HostEvent.ENABLE: ("be enabled", "enable"),
    HostEvent.DISABLE: ("be disabled", "disable"),
    HostEvent.PREPARE_MAINTENANCE: ("go into maintenance", "maintenance"),
    HostEvent.MAINTENANCE_READY: ("finish preparing for maintenance", None),
    HostEvent.CANCEL_MAINTENANCE: ("leave maintenance", "cancel-maintenance"),
}

#: How a host's resource state reads in a sentence ("host 'h1' is in maintenance").
RESOURCE_STATE_WORDS = {
    ResourceState.ENABLED: "enabled", ResourceState.DISABLED: "disabled",
    ResourceState.PREPARE_FOR_MAINTENANCE: "preparing for maintenance", ResourceState.MAINTENANCE: "in maintenance",
}


def virtual_machines_on(session: Session, host: Host) -> int:
    return session.scalar(select(func.count()).select_from(VirtualMachine).where(VirtualMachine.host_id == host.id)) or 0


def move_resource_state(session: Session, host: Host, event: HostEvent) -> ResourceState:
    """Move the (locked) host by ``event``; Conflict saying what the host is and what it can
    do now when the table refuses."""
    current = ResourceState(host.resource_state)
    try:
        target = RESOURCE_STATE_TRANSITIONS.next_state(current, event)
    except IllegalTransition as refused:
        possible = [_ADMIN_EVENTS[HostEvent(e)][1] for e in refused.allowed if _ADMIN_EVENTS[HostEvent(e)][1]]
        raise Conflict(f"host {host.name!r} is {RESOURCE_STATE_WORDS[current]}: it cannot "
                       f"{_ADMIN_EVENTS[event][0]} now; possible: {', '.join(possible) or 'nothing'}") from None
    apply_event(session, host, RESOURCE_STATE_TRANSITIONS, event, column="resource_state")
    return target


def finish_maintenance_when_empty(session: Session, host_id: int | None) -> bool:
    """Complete a host's maintenance once the last virtual machine has left it (called by the
    job that removed one); True when it did."""
    if host_id is None:
        return False
    host = session.get(Host, host_id, with_for_update=ROW_LOCK, populate_existing=True)
    if host is None or host.resource_state != ResourceState.PREPARE_FOR_MAINTENANCE:
        return False
    if virtual_machines_on(session, host):
        return False
    target = move_resource_state(session, host, HostEvent.MAINTENANCE_READY)
    # The system's change, as admin/common.py's record_change(SYSTEM, ...) writes it.
    record_event(session, "host.maintenance", "completed", "host", host.id, actor="system",
                 description=f"host {host.name!r} is now {RESOURCE_STATE_WORDS[target]}")
    return True
