"""What OCCI users choose from, as the faces ask for it: service offerings (resource_tpl), and
templates and ISOs registered by URL, downloaded by jobs into each zone's secondary storage,
copied to another zone (copyTemplate) and downloaded again after a failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from occistack.plane.admin import offerings, template_shares, templates
from occistack.plane.admin.cases.common import UNCHANGED, Unchanged, actor_of, admin_dispatcher, changes_of
from occistack.plane.admin.common import Ref
from occistack.plane.admin.lookup import find_offering
from occistack.plane.admin.records.catalog import (
    OfferingRecord,
    TemplateCopyRecord,
    TemplateRecord,
    offering_record,
    template_copy_records,
    template_record,
    template_records,
)
from occistack.plane.context import PlaneContext


@dataclass(frozen=True)
class NewOffering:
    #: the term of its OCCI resource_tpl mixin.
    term: str
    cores: int
    memory_gib: float
    title: str | None = None
    disk_gib: float | None = None
    speed_ghz: float | None = None
    architecture: str | None = None
    host_tags: str | list[str] | None = None
    storage_tags: str | list[str] | None = None
    ha_enabled: bool = False
    #: KVM, or BareMetal: each compute then gets a whole node with at least these cores and memory.
    hypervisor: str = "KVM"


@dataclass(frozen=True)
class OfferingChanges:
    """What may change of an offering (offerings.update_offering says why the rest may not)."""

    title: str | None | Unchanged = UNCHANGED
    host_tags: str | list[str] | None | Unchanged = UNCHANGED
    storage_tags: str | list[str] | None | Unchanged = UNCHANGED
    ha_enabled: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewTemplate:
    """A template (or, with ``format="iso"``, an ISO) to download into the secondary storage
    of ``zone``, or of each of ``zones``."""

    term: str
    url: str
    #: <algorithm>:<hex> (md5, sha1, sha256, sha512), or a bare hex digest.
    checksum: str
    zone: Ref | None = None
    zones: Sequence[Ref] | None = None
    title: str | None = None
    format: str = "template"
    os_family: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    architecture: str = "x64"
    #: the image's size until the download reports it.
    size_gib: float | None = None
    min_cores: int = 1
    min_memory_gib: float = 0.125
    #: published on the template's mixin.
    extra_attributes: Mapping[str, Any] | None = None
    #: a private template (``public=False``) belongs to ``project`` and is published only there.
    public: bool = True
    project: Ref | None = None


@dataclass(frozen=True)
class TemplateChanges:
    """What may change of a template or ISO (templates.update_template says why the rest may not)."""

    title: str | None | Unchanged = UNCHANGED
    os_family: str | None | Unchanged = UNCHANGED
    os_name: str | None | Unchanged = UNCHANGED
    os_version: str | None | Unchanged = UNCHANGED
    min_cores: int | Unchanged = UNCHANGED
    min_memory_gib: float | Unchanged = UNCHANGED
    #: replaces the old ones; None: none.
    extra_attributes: Mapping[str, Any] | None | Unchanged = UNCHANGED


# --- offerings --------------------------------------------------------------------------------------

def add_offering(ctx: PlaneContext, new: NewOffering) -> OfferingRecord:
    return offering_record(offerings.create_offering(
        ctx.session, term=new.term, cores=new.cores, memory_gib=new.memory_gib, title=new.title,
        disk_gib=new.disk_gib, speed_ghz=new.speed_ghz, architecture=new.architecture, host_tags=new.host_tags,
        storage_tags=new.storage_tags, ha_enabled=new.ha_enabled, hypervisor=new.hypervisor, actor=actor_of(ctx)))


def list_offerings(ctx: PlaneContext) -> list[OfferingRecord]:
    return [offering_record(offering) for offering in offerings.list_offerings(ctx.session)]


def show_offering(ctx: PlaneContext, offering: Ref) -> OfferingRecord:
    return offering_record(find_offering(ctx.session, offering))


def update_offering(ctx: PlaneContext, offering: Ref, changes: OfferingChanges) -> OfferingRecord:
    """The catalog published to OCCI clients shows the change at the next request."""
    return offering_record(offerings.update_offering(ctx.session, offering, **changes_of("offering", changes),
                                                     actor=actor_of(ctx)))


def remove_offering(ctx: PlaneContext, offering: Ref) -> None:
    offerings.remove_offering(ctx.session, offering, actor=actor_of(ctx))


# --- templates and ISOs -----------------------------------------------------------------------------

def register_template(ctx: PlaneContext, new: NewTemplate) -> TemplateRecord:
    """The template, ``downloading``, with one pending copy per zone; the downloads are jobs,
    which a worker runs once this transaction commits."""
    return template_record(ctx.session, templates.register_template(
        ctx.session, term=new.term, url=new.url, checksum=new.checksum, zone=new.zone, zones=new.zones,
        title=new.title, format=new.format, os_family=new.os_family, os_name=new.os_name,
        os_version=new.os_version, architecture=new.architecture, size_gib=new.size_gib, min_cores=new.min_cores,
        min_memory_gib=new.min_memory_gib, extra_attributes=new.extra_attributes, public=new.public,
        project=new.project, actor=actor_of(ctx), dispatcher=admin_dispatcher(ctx)))


def list_templates(ctx: PlaneContext, format: str | None = None) -> list[TemplateRecord]:
    """The templates and ISOs, or only those of one ``format``."""
    return template_records(ctx.session, templates.list_templates(ctx.session, format=format))


def show_template(ctx: PlaneContext, template: Ref, *, format: str | None = None) -> TemplateRecord:
    """By id or term; with ``format``, only among the templates (or the ISOs)."""
    return template_record(ctx.session, templates.find_template(ctx.session, template, format=format))


def update_template(ctx: PlaneContext, template: Ref, changes: TemplateChanges, *,
                    format: str | None = None) -> TemplateRecord:
    """The catalog published to OCCI clients shows the change at the next request."""
    changed = changes_of("template", changes)
    found = templates.find_template(ctx.session, template, format=format)
    return template_record(ctx.session, templates.update_template(ctx.session, found, **changed,
                                                                  actor=actor_of(ctx)))


def copy_template(ctx: PlaneContext, template: Ref, zone: Ref, *, format: str | None = None) -> TemplateRecord:
    """copyTemplate: a copy in another zone, downloaded there by a job; the template, with every
    zone's copy (the new one pending)."""
    found = templates.find_template(ctx.session, template, format=format)
    templates.copy_template(ctx.session, found, zone, actor=actor_of(ctx), dispatcher=admin_dispatcher(ctx))
    return template_record(ctx.session, found)


def retry_template(ctx: PlaneContext, template: Ref, zone: Ref | None = None, *,
                   format: str | None = None) -> list[TemplateCopyRecord]:
    """Download again the copies in error (only ``zone``'s, when named); the copies retried."""
    found = templates.find_template(ctx.session, template, format=format)
    return template_copy_records(ctx.session, templates.retry_template(ctx.session, found, zone, actor=actor_of(ctx),
                                                                       dispatcher=admin_dispatcher(ctx)))


def share_template(ctx: PlaneContext, template: Ref, project: Ref) -> TemplateRecord:
    """updateTemplatePermissions: the private template joins ``project``'s os_tpl mixins (its
    users may make computes from it); the template, with every project it is shared with.
    Conflict for a public template or a share already made; InvalidRequest for the owner."""
    found = templates.find_template(ctx.session, template)
    template_shares.share_template(ctx.session, found, project, actor=actor_of(ctx))
    return template_record(ctx.session, found)


def unshare_template(ctx: PlaneContext, template: Ref, project: Ref) -> TemplateRecord:
    """The template leaves ``project``'s catalog at its next request; computes already made
    from it keep running."""
    found = templates.find_template(ctx.session, template)
    template_shares.unshare_template(ctx.session, found, project, actor=actor_of(ctx))
    return template_record(ctx.session, found)


def delete_template(ctx: PlaneContext, template: Ref, *, format: str | None = None) -> None:
    """The row goes now; each zone's image leaves secondary storage by a job."""
    templates.delete_template(ctx.session, template, format=format, actor=actor_of(ctx),
                              dispatcher=admin_dispatcher(ctx))
