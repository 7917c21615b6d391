"""A template's copies in the zones' secondary storage (CloudStack's template_store_ref): each
zone that holds a template has one copy, downloaded there by a host of that zone, with its own
state, progress and reason.

A template is registered for one or several zones (one copy each), copied to another zone later
(``copy_template``), and a failed copy is downloaded again with ``retry_template`` -- those use
cases are the administrator's (admin/templates.py). Here are the rules they share with the
create use case and the job handlers that download, save and remove copies: a compute boots only
from a ready copy in its own zone (``template_copy_in_zone``); a copy moves through
TEMPLATE_COPY_TRANSITIONS (``move_copy``); the template's own ``state`` is derived from its
copies (``refresh_template_state``): ready as soon as one zone has it ready -- it is then
published as an os_tpl, with the zones it is available in; a store's used GiB change by one
UPDATE (``charge_secondary_storage``).
"""

from __future__ import annotations

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, SecondaryStorage, TemplateCopy, Zone
from occistack.model.contention import ROW_LOCK
from occistack.model.template_states import (
    TEMPLATE_COPY_TRANSITIONS,
    TEMPLATE_TRANSITIONS,
    TemplateCopyEvent,
    TemplateCopyState,
    TemplateEvent,
    TemplateState,
)
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict
from occistack.plane.transitions import apply_event

READY = TemplateCopyState.READY


def copies_of(session: Session, template_id: int) -> list[TemplateCopy]:
    return list(session.scalars(select(TemplateCopy).where(TemplateCopy.template_id == template_id)
                                .order_by(TemplateCopy.zone_id)))


def ready_zone_names(session: Session, template_id: int) -> list[str]:
    """The zones a template can be deployed in, by name."""
    return list(session.scalars(select(Zone.name).join(TemplateCopy, TemplateCopy.zone_id == Zone.id)
                                .where(TemplateCopy.template_id == template_id, TemplateCopy.state == str(READY))
                                .order_by(Zone.name)))


def ready_copies(session: Session, template: OsTemplate) -> list[TemplateCopy]:
    """The template's ready copies, one per zone, by zone: what a create chooses its copy from.
    One statement, built once: it runs in every create."""
    return list(session.scalars(_READY_COPIES, {"template": template.id}))


def template_copy_in_zone(session: Session, template: OsTemplate, zone_id: int | None,
                          copies: list[TemplateCopy] | None = None) -> TemplateCopy:
    """The ready copy a compute of zone ``zone_id`` boots from (among ``copies``, when the caller
    read them already); Conflict naming the template, the zone and the zones that have it, when
    that zone has none. Called by deploy with the zone the compute ends up in (``zone_id`` None,
    a zone not decided yet: any ready copy)."""
    if copies is None:
        copies = ready_copies(session, template)
    found = next((copy for copy in copies if zone_id is None or copy.zone_id == zone_id), None)
    if found is not None:
        return found
    zone = session.get(Zone, zone_id) if zone_id is not None else None
    holding = ready_zone_names(session, template.id)
    where = f"in zone {zone.name!r}" if zone is not None else "in any zone"
    elsewhere = (f"it is available in zone{'s' if len(holding) > 1 else ''} {', '.join(holding)}"
                 if holding else "no zone has it ready yet")
    raise Conflict(f"OS template {template.term!r} is not available {where}: {elsewhere}; create the compute "
                   "in one of those zones, or ask the site to copy the template to this one")


_READY_COPIES = select(TemplateCopy).where(
    TemplateCopy.template_id == bindparam("template"), TemplateCopy.state == str(READY)).order_by(TemplateCopy.zone_id)


def secondary_path_of(template: OsTemplate) -> str:
    """Where a template (or ISO) lives in a zone's secondary storage. The path names the id, so
    two templates of one term (one deleted) never share a file."""
    if template.format == "iso":
        return f"iso/{template.id}/{template.term}.iso"
    return f"template/tmpl/{template.id}/{template.term}.qcow2"


def first_secondary_storage(session: Session, zone_id: int) -> SecondaryStorage | None:
    return session.scalar(select(SecondaryStorage).where(SecondaryStorage.zone_id == zone_id,
                                                         SecondaryStorage.enabled.is_(True))
                          .order_by(SecondaryStorage.id).limit(1))


def copy_entity(copy: TemplateCopy) -> str:
    """The job resource of one copy: its download and its removal run one after the other."""
    return f"template-copy:{copy.id}"


def store_for(session: Session, zone: Zone, noun: str) -> SecondaryStorage:
    """The zone's first enabled secondary storage; Conflict saying how to add one."""
    store = first_secondary_storage(session, zone.id)
    if store is None:
        raise Conflict(f"zone {zone.name!r} has no enabled secondary storage to download the {noun} into; "
                       "add one with `occistack secondary-storage add` (or enable one)")
    return store


def add_copy(session: Session, template: OsTemplate, zone: Zone, dispatcher: Dispatcher) -> TemplateCopy:
    """A pending copy of ``template`` in ``zone``'s first enabled secondary storage, and the job
    that downloads it there."""
    store = store_for(session, zone, "ISO" if template.format == "iso" else "template")
    copy = TemplateCopy(template_id=template.id, zone_id=zone.id, secondary_storage_id=store.id,
                        secondary_path=secondary_path_of(template), state=str(TemplateCopyState.PENDING), progress=0)
    session.add(copy)
    session.flush()
    queue_download(session, copy, dispatcher)
    return copy


def queue_download(session: Session, copy: TemplateCopy, dispatcher: Dispatcher) -> None:
    dispatcher.submit(session, Operation("download_template", copy_entity(copy),
                                         {"template_id": copy.template_id, "copy_id": copy.id}))


def move_copy(session: Session, copy: TemplateCopy, event: TemplateCopyEvent, message: str | None = None) -> None:
    """Through TEMPLATE_COPY_TRANSITIONS with a conditional UPDATE (IllegalTransition names the
    events allowed); ``message`` is the copy's new ``state_message`` (None clears it)."""
    apply_event(session, copy, TEMPLATE_COPY_TRANSITIONS, event, message)


def move_template(session: Session, template: OsTemplate, event: TemplateEvent) -> None:
    """Through TEMPLATE_TRANSITIONS with a conditional UPDATE; the reason of an error is the
    template's ``description``, which the caller sets."""
    apply_event(session, template, TEMPLATE_TRANSITIONS, event)


def refresh_template_state(session: Session, template: OsTemplate) -> None:
    """The template's state from its copies: ready when one is, else downloading while some
    copy is still coming, else error (with the first copy's reason). A template being saved
    (``pending``) keeps its state until the save ends.

    The template's row is locked first: two copies that end at once (each its own job) then
    work the state out one after the other, the second from both copies as they ended -- not
    each from its own, which left a template whose copies had all failed ``downloading``."""
    if template.state == TemplateState.PENDING:
        return
    session.flush()
    session.get(OsTemplate, template.id, with_for_update=ROW_LOCK, populate_existing=True)
    copies = session.scalars(select(TemplateCopy).where(TemplateCopy.template_id == template.id)
                             .order_by(TemplateCopy.zone_id).execution_options(populate_existing=True))
    states = {copy.state: copy for copy in copies}
    if READY in states:
        move_template(session, template, TemplateEvent.COPY_READY)
        template.description = None
    elif TemplateCopyState.PENDING in states or TemplateCopyState.DOWNLOADING in states:
        move_template(session, template, TemplateEvent.COPY_COMING)
    elif TemplateCopyState.ERROR in states:
        move_template(session, template, TemplateEvent.COPIES_FAILED)
        template.description = states[TemplateCopyState.ERROR].state_message


def set_progress(session: Session, copy_id: int, percent: int) -> None:
    """A download's progress, as its agent reports it: one Core UPDATE of a copy still
    downloading (it moves no catalog generation: nothing published changes)."""
    table = TemplateCopy.__table__
    session.execute(update(table).where(table.c.id == copy_id,
                                        table.c.state == str(TemplateCopyState.DOWNLOADING))
                    .values(progress=max(0, min(100, int(percent))))
                    .execution_options(synchronize_session=False))


def charge_secondary_storage(session: Session, store_id: int, gib: float) -> None:
    """Add ``gib`` (or, negative, give it back) to a store's used GiB in one UPDATE, so two
    downloads finishing at once both count; never below zero."""
    table = SecondaryStorage.__table__
    used = table.c.used_gib + gib
    session.execute(update(table).where(table.c.id == store_id)
                    .values(used_gib=case((used < 0, 0.0), else_=used)).execution_options(synchronize_session=False))
