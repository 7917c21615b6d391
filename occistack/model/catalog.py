"""What users choose from: OS templates, service offerings and availability zones.

Each appears in OCCI as a mixin (os_tpl, resource_tpl, availability zone) generated from these
rows. Any change to them bumps the catalog generation (see ``catalog_generation``), which tells
every server process to rebuild its category registry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.meta import Base, utcnow
from occistack.model.template_states import TemplateCopyState, TemplateState


class Zone(Base):
    """An availability zone: pods, clusters, hosts and storage below it (model.infrastructure).

    ``basic`` networking gives every guest an address on one flat shared network; ``advanced``
    gives projects isolated guest networks on VLANs of the zone's physical network.
    """

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    network_type: Mapped[str] = mapped_column(String(16), default="advanced", server_default="advanced")
    #: the CIDR an isolated network gets when the client names none.
    guest_cidr: Mapped[str] = mapped_column(String(64), default="10.1.1.0/24", server_default="10.1.1.0/24")
    dns: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OsTemplate(Base):
    """A bootable image, published as an os_tpl mixin whose term is ``term``.

    ``project_id`` is set for private templates (those a project saved from its own compute);
    public ones have none. A private template may be shared with other projects (TemplateShare).
    """

    __tablename__ = "os_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    os_family: Mapped[str | None] = mapped_column(String(64))
    os_name: Mapped[str | None] = mapped_column(String(64))
    os_version: Mapped[str | None] = mapped_column(String(64))
    architecture: Mapped[str] = mapped_column(String(8), default="x64")
    image_url: Mapped[str | None] = mapped_column(String(1024))
    checksum: Mapped[str | None] = mapped_column(String(160))
    size_gib: Mapped[float] = mapped_column(Float, default=2.0)
    min_cores: Mapped[int] = mapped_column(Integer, default=1)
    min_memory_gib: Mapped[float] = mapped_column(Float, default=0.125)
    #: extra attributes published on the mixin, e.g. the EGI AppDB ones.
    extra_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    #: "template" or "iso".
    format: Mapped[str] = mapped_column(String(16), default="template", server_default="template")
    #: the compute this template was saved from, if any (kept as an id: the compute may go).
    saved_from: Mapped[str | None] = mapped_column(String(64))
    #: derived from its copies (see TemplateCopy): ``ready`` when some zone has it ready,
    #: ``downloading`` while none is ready and some copy is still coming, ``error`` when every
    #: copy failed; a template being saved from a compute is ``pending`` until it is saved
    #: (model.template_states.TemplateState; TEMPLATE_TRANSITIONS moves it).
    state: Mapped[str] = mapped_column(String(16), default=str(TemplateState.READY))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TemplateShare(Base):
    """A private template shared with another project (CloudStack's updateTemplatePermissions):
    that project's users see it as an os_tpl mixin and make computes from it; it stays its
    owner's. A share names a project, never a public template (which every project has) nor
    the owner itself."""

    __tablename__ = "template_shares"
    __table_args__ = (UniqueConstraint("template_id", "project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("os_templates.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TemplateCopy(Base):
    """A template's image in one zone's secondary storage (CloudStack's template_store_ref):
    registered for several zones, or copied to another one, each copy is downloaded by a host
    of its zone and has its own state and progress. A compute boots only from a ready copy in
    its own zone. A saved template whose zone has no secondary storage has a copy with no
    store: its image stays on the host that saved it."""

    __tablename__ = "template_zones"
    __table_args__ = (UniqueConstraint("template_id", "zone_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("os_templates.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    secondary_storage_id: Mapped[int | None] = mapped_column(
        ForeignKey("secondary_storage.id", ondelete="SET NULL"), index=True)
    secondary_path: Mapped[str | None] = mapped_column(String(1024))
    #: see model.template_states.TemplateCopyState (TEMPLATE_COPY_TRANSITIONS moves it).
    state: Mapped[str] = mapped_column(String(16), default=str(TemplateCopyState.PENDING))
    #: percent downloaded (0-100), as the agent reports it.
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state_message: Mapped[str | None] = mapped_column(Text)
    size_gib: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ServiceOffering(Base):
    """A site-defined size, published as a resource_tpl mixin (beside the standard CRTP ones)."""

    __tablename__ = "service_offerings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    cores: Mapped[int] = mapped_column(Integer)
    memory_gib: Mapped[float] = mapped_column(Float)
    disk_gib: Mapped[float | None] = mapped_column(Float)
    speed_ghz: Mapped[float | None] = mapped_column(Float)
    architecture: Mapped[str | None] = mapped_column(String(8))
    #: comma-separated: a VM of this offering goes only on hosts (pools) carrying all of them.
    host_tags: Mapped[str] = mapped_column(String(255), default="", server_default="")
    storage_tags: Mapped[str] = mapped_column(String(255), default="", server_default="")
    #: restart this offering's VMs elsewhere when their host fails (issue 5's HA).
    ha_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: "KVM" (a virtual machine on a shared host) or "BareMetal" (a whole node of a bare-metal
    #: cluster, switched on through its BMC): the clusters its computes are placed in.
    hypervisor: Mapped[str] = mapped_column(String(16), default="KVM", server_default="KVM")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CatalogGeneration(Base):
    """One row counting changes to everything that is published as categories (templates,
    offerings, zones, user mixins), so a server can tell cheaply whether its registry is stale."""

    __tablename__ = "catalog_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
