"""Records of what OCCI users choose from: service offerings, and templates and ISOs with each
zone's copy of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, SecondaryStorage, ServiceOffering, TemplateCopy, Zone
from occistack.plane.admin.records import from_row, names_by_id, related
from occistack.plane.admin.template_shares import shares_of


@dataclass(frozen=True, slots=True)
class OfferingRecord:
    id: int
    #: the term of its OCCI resource_tpl mixin.
    term: str
    title: str | None
    cores: int
    memory_gib: float
    disk_gib: float | None
    speed_ghz: float | None
    architecture: str | None
    #: comma-separated.
    host_tags: str
    storage_tags: str
    ha_enabled: bool
    hypervisor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TemplateCopyRecord:
    """A zone's copy of a template, as the faces show it: where it is and how its download goes."""

    #: the zone's name.
    zone: str
    zone_id: int
    #: model.template_states.TemplateCopyState.
    state: str
    #: the download's percentage.
    progress: int
    #: why it failed.
    state_message: str | None
    size_gib: float | None
    #: the name of the secondary storage it is downloaded into.
    secondary_storage: str | None
    secondary_path: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class TemplateRecord:
    id: int
    #: the term of its os_tpl mixin.
    term: str
    title: str | None
    description: str | None
    os_family: str | None
    os_name: str | None
    os_version: str | None
    architecture: str
    image_url: str | None
    checksum: str | None
    size_gib: float
    min_cores: int
    min_memory_gib: float
    #: published on its mixin.
    extra_attributes: dict[str, Any]
    #: the project of a private template; None for a public one.
    project_id: int | None
    #: template or iso.
    format: str
    saved_from: str | None
    #: model.template_states.TemplateState.
    state: str
    created_at: datetime
    #: each zone's copy, by zone id.
    copies: tuple[TemplateCopyRecord, ...] = related()
    #: the names of the other projects a private template is shared with.
    shared_with: tuple[str, ...] = related()


def offering_record(offering: ServiceOffering) -> OfferingRecord:
    return from_row(OfferingRecord, offering)


def template_copy_records(session: Session, copies: Iterable[TemplateCopy]) -> list[TemplateCopyRecord]:
    copies = list(copies)
    zones = names_by_id(session, Zone.name, (copy.zone_id for copy in copies))
    stores = names_by_id(session, SecondaryStorage.name, (copy.secondary_storage_id for copy in copies))
    return [TemplateCopyRecord(zone=zones[copy.zone_id], zone_id=copy.zone_id, state=copy.state,
                               progress=copy.progress, state_message=copy.state_message, size_gib=copy.size_gib,
                               secondary_storage=stores.get(copy.secondary_storage_id),
                               secondary_path=copy.secondary_path, updated_at=copy.updated_at)
            for copy in copies]


def template_records(session: Session, templates: Iterable[OsTemplate]) -> list[TemplateRecord]:
    templates = list(templates)
    copies = list(session.scalars(select(TemplateCopy).where(
        TemplateCopy.template_id.in_({template.id for template in templates}))
        .order_by(TemplateCopy.template_id, TemplateCopy.zone_id))) if templates else []
    copies_of: dict[int, list[TemplateCopyRecord]] = {}
    for copy, record in zip(copies, template_copy_records(session, copies)):
        copies_of.setdefault(copy.template_id, []).append(record)
    shares = shares_of(session, [template.id for template in templates if template.project_id is not None])
    return [from_row(TemplateRecord, template, copies=tuple(copies_of.get(template.id, ())),
                     shared_with=tuple(shares.get(template.id, ())))
            for template in templates]


def template_record(session: Session, template: OsTemplate) -> TemplateRecord:
    return template_records(session, [template])[0]
