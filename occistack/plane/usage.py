"""Usage records: intervals of use opened and closed as resources change state.

``vm_allocated`` runs from a VM's successful deploy to its destruction, ``vm_running`` from
each start to the following stop, suspend or destruction, ``volume`` from creation to
deletion (a resize closes one interval and opens another with the new size), ``public_ip``
from allocation to release, ``template`` from a template's copy being ready in a zone's
secondary storage to the template's deletion. ``plane/usage_hours.py`` turns them into hourly
rows, ``plane/accounting.py`` into APEL's cloud records for EGI.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from occistack.model import (
    ComputeOwner,
    FederatedUser,
    OsTemplate,
    ServiceOffering,
    TemplateCopy,
    UsageRecord,
    User,
    VirtualMachine,
    utcnow,
)

usage = UsageRecord.__table__


_INSERT = insert(UsageRecord.__table__)


def open_usage(session: Session, usage_type: str | tuple[str, ...], resource_id: str, project_id: int | None, *,
               zone_id: int | None = None, cores: int | None = None, memory_gib: float | None = None,
               size_gib: float | None = None, description: str | None = None,
               offering: str | None = None, compute_id: str | None = None, at: datetime | None = None) -> None:
    """Open intervals of one or more types for a resource (one INSERT for all of them)."""
    types = (usage_type,) if isinstance(usage_type, str) else usage_type
    row = {"resource_id": resource_id, "project_id": project_id, "zone_id": zone_id, "cores": cores,
           "memory_gib": memory_gib, "size_gib": size_gib, "ended_at": None,
           "description": description[:255] if description else None, "started_at": at or utcnow(),
           "offering": offering, "compute_id": compute_id}
    session.execute(_INSERT, [{**row, "usage_type": kind} for kind in types])


def close_usage(session: Session, usage_type: str | tuple[str, ...], resource_id: str,
                at: datetime | None = None) -> int:
    """Close the open intervals of a resource; how many were open."""
    types = (usage_type,) if isinstance(usage_type, str) else usage_type
    result = session.execute(update(usage).where(usage.c.resource_id == resource_id,
                                                 usage.c.usage_type.in_(types), usage.c.ended_at.is_(None))
                             .values(ended_at=at or utcnow()).execution_options(synchronize_session=False))
    return result.rowcount


def offering_term(session: Session, vm: VirtualMachine) -> str | None:
    """A VM's service offering as its usage names it; None for custom (CRTP) sizes."""
    if vm.offering_id is None:
        return None
    return session.scalar(select(ServiceOffering.term).where(ServiceOffering.id == vm.offering_id))


_OWNER = (select(User.id, User.name, FederatedUser.subject, FederatedUser.fqan)
          .outerjoin(FederatedUser, FederatedUser.user_id == User.id))


def record_compute_owner(session: Session, vm: VirtualMachine, user_id: int, disk_gib: float | None) -> None:
    """Keep who asked for ``vm`` -- their local name, and for a federated user the global name
    (an X.509 DN or an OIDC subject) and the FQAN of their latest login -- beside it, for
    accounting after it is gone. One INSERT … SELECT: no row is read into Python."""
    columns = _OWNER.where(User.id == user_id).add_columns(
        literal(vm.id), literal(vm.title or vm.hostname), literal(disk_gib), literal(utcnow()))
    session.execute(insert(ComputeOwner).from_select(
        ["user_id", "user_name", "global_user_name", "fqan", "vm_id", "machine_name", "disk_gib", "created_at"],
        columns))


def open_template_usage(session: Session, copy: TemplateCopy, template: OsTemplate) -> None:
    """A template's copy is ready in its zone's secondary storage: its GiB count from now (one
    interval per copy, named as the copy's jobs name it; closed when the template is deleted)."""
    resource_id = f"template-copy:{copy.id}"
    close_usage(session, "template", resource_id)  # a copy saved again replaces its image
    open_usage(session, "template", resource_id, template.project_id, zone_id=copy.zone_id,
               size_gib=copy.size_gib or template.size_gib, description=template.term)
