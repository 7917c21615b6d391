"""The category registry each request sees, cached per process.

Three layers: the standard OCCI categories (built once), the site's mixins generated from the
database (public OS templates, service offerings, zones, and the parent of affinity groups), and
the caller's own layer (their project's private templates, those shared with it, its affinity
groups, their user mixins). Only OS templates that are ready and of the "template" format are published: an ISO is
no disk to make a compute from, so it is never an os_tpl. The lower two are rebuilt only when the
catalog generation in the database moves; it is read at most every ``revalidate_seconds``, and
at once after this process commits a change. Rendered query-interface documents are cached
alongside, since ``GET /-/`` is the most frequent request of every OCCI client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from occistack.model import (AffinityGroup, CatalogGeneration, OsTemplate, ServiceOffering, TemplateCopy,
                             TemplateShare, UserMixin, Zone)
from occistack.model.occi import Mixin, Registry, split_identifier, standard_registry
from occistack.model.template_states import TemplateCopyState, TemplateState
from occistack.model.occi.templates import (
    AFFINITY_GROUP,
    SiteSchemes,
    affinity_group_mixin,
    availability_zone_mixin,
    default_network_mixin,
    os_tpl_mixin,
    resource_tpl_mixin,
)
from occistack.plane.tenant.bare_metal import BOOT_DEVICE_NAMES, DEFAULT_BOOT_DEVICE, is_bare_metal
from occistack.plane.tenant.tags import UserMixinRequest
from occistack.api.settings import get_settings

log = logging.getLogger(__name__)

_RENDERED_LIMIT = 2048
_CALLER_LIMIT = 4096


class CatalogCache:
    def __init__(self, schemes: SiteSchemes, revalidate_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.schemes = schemes
        self.revalidate_seconds = revalidate_seconds
        self._clock = clock
        self._standard = standard_registry()
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._checked_at = float("-inf")
        self._site: Registry | None = None
        self._callers: OrderedDict[tuple[int, int], Registry] = OrderedDict()
        self._rendered: OrderedDict[Any, Any] = OrderedDict()

    @property
    def standard(self) -> Registry:
        return self._standard

    def invalidate(self) -> None:
        """Re-read the generation at the next request (this process just changed the catalog)."""
        with self._lock:
            self._checked_at = float("-inf")

    # The registries take a callable that opens the database session, not the session: a
    # request that finds everything cached opens none.

    def registry_for(self, session: Callable[[], Session], user_id: int, project_id: int) -> Registry:
        self._revalidate(session)
        key = (user_id, project_id)
        with self._lock:
            registry = self._callers.get(key)
            if registry is not None:
                self._callers.move_to_end(key)
                return registry
            site = self._site
        registry = site.extended(self._caller_layer(session(), user_id, project_id, site))
        with self._lock:
            self._callers[key] = registry
            while len(self._callers) > _CALLER_LIMIT:
                self._callers.popitem(last=False)
        return registry

    def site_registry(self, session: Callable[[], Session]) -> Registry:
        self._revalidate(session)
        return self._site  # type: ignore[return-value]

    def fresh_rendering(self, key: Any) -> Any | None:
        """A cached rendering, but only while the catalog is known to be current (checked
        within ``revalidate_seconds``): what a request may answer without any database read."""
        with self._lock:
            if self._clock() - self._checked_at >= self.revalidate_seconds:
                return None
            return self._rendered.get(key)

    def rendered(self, key: Any, render: Callable[[], Any]) -> Any:
        """A rendering cached until the catalog changes; ``key`` must say whose and in what type."""
        with self._lock:
            cached = self._rendered.get(key)
        if cached is not None:
            return cached
        result = render()
        with self._lock:
            self._rendered[key] = result
            while len(self._rendered) > _RENDERED_LIMIT:
                self._rendered.popitem(last=False)
        return result

    # --- building ------------------------------------------------------------------------------

    def _revalidate(self, open_session: Callable[[], Session]) -> None:
        now = self._clock()
        if now - self._checked_at < self.revalidate_seconds and self._site is not None:
            return
        session = open_session()
        generation = session.scalar(select(CatalogGeneration.generation).where(CatalogGeneration.id == 1)) or 0
        with self._lock:
            unchanged = generation == self._generation and self._site is not None
            if unchanged:
                self._checked_at = now
                return
        site = self._standard.extended(without_conflicts(self._standard, self._site_layer(session)))
        with self._lock:
            self._site, self._generation, self._checked_at = site, generation, now
            self._callers.clear()
            self._rendered.clear()

    def _site_layer(self, session: Session) -> list[Mixin]:
        schemes = self.schemes
        # The parent is published whether or not any project has a group yet: it is where a
        # client learns that the site places by affinity groups at all.
        layer: list[Mixin] = [AFFINITY_GROUP, default_network_mixin(schemes)]
        templates = list(session.scalars(select(OsTemplate).where(OsTemplate.project_id.is_(None), *_DEPLOYABLE)
                                         .order_by(OsTemplate.term)))
        zones = _ready_zones(session, [template.id for template in templates])
        for template in templates:
            layer.append(_template_mixin(schemes, template, zones.get(template.id, ())))
        for offering in session.scalars(select(ServiceOffering).order_by(ServiceOffering.term)):
            bare_metal = is_bare_metal(offering)
            layer.append(resource_tpl_mixin(schemes.resource_tpl, offering.term, offering.title,
                                            cores=offering.cores, memory_gib=offering.memory_gib,
                                            disk_gib=offering.disk_gib, speed_ghz=offering.speed_ghz,
                                            architecture=offering.architecture,
                                            boot_devices=tuple(BOOT_DEVICE_NAMES) if bare_metal else (),
                                            default_boot_device=DEFAULT_BOOT_DEVICE if bare_metal else None))
        for zone in session.scalars(select(Zone).where(Zone.enabled.is_(True)).order_by(Zone.name)):
            layer.append(availability_zone_mixin(schemes.availability_zone, zone.name, zone.title))
        return layer

    def _caller_layer(self, session: Session, user_id: int, project_id: int, site: Registry) -> list[Mixin]:
        layer: list[Mixin] = []
        # Its own private templates and those other projects shared with it, in the one query.
        templates = list(session.scalars(select(OsTemplate).where(
            or_(OsTemplate.project_id == project_id,
                OsTemplate.id.in_(select(TemplateShare.template_id).where(TemplateShare.project_id == project_id))),
            *_DEPLOYABLE).order_by(OsTemplate.term)))
        zones = _ready_zones(session, [template.id for template in templates])
        for template in templates:
            layer.append(_template_mixin(self.schemes, template, zones.get(template.id, ())))
        # Before the user's own mixins: an administrator made the group for the whole project,
        # so a user's mixin that happens to sit at its location is the one hidden.
        for group in session.scalars(select(AffinityGroup).where(AffinityGroup.project_id == project_id)
                                     .order_by(AffinityGroup.name)):
            layer.append(affinity_group_mixin(self.schemes.affinity_group, group.name, group.kind))
        for mixin in session.scalars(select(UserMixin).where(UserMixin.owner_id == user_id)
                                     .order_by(UserMixin.id)):
            layer.append(user_mixin(mixin, self._standard))
        return without_conflicts(site, layer)


#: The OS templates a compute can be made from: downloaded (or saved) and not ISOs.
_DEPLOYABLE = (OsTemplate.state == str(TemplateState.READY), OsTemplate.format == "template")


def without_conflicts(base: Registry, layer: list[Mixin]) -> list[Mixin]:
    """``layer`` without the mixins whose identifier or location ``base`` (or an earlier one of
    ``layer``) already holds. Rows are checked when they are written; this guards against those
    written before a clashing category arrived (a template named like a CRTP size, a user's
    mixin at a location a later zone took), which stay in the database but hidden."""
    identifiers: set[str] = set()
    locations: set[str] = set()
    usable = []
    for mixin in layer:
        if (base.get(mixin.identifier) is not None or base.by_location(mixin.location) is not None
                or mixin.identifier in identifiers or mixin.location in locations):
            log.warning("hiding %s: its identifier or location %s is taken", mixin.identifier, mixin.location)
            continue
        identifiers.add(mixin.identifier)
        locations.add(mixin.location)
        usable.append(mixin)
    return usable


#: The os_tpl attribute naming the zones (availability-zone terms, comma-separated) a template
#: is ready in: a compute must be created in one of them.
ZONES_ATTRIBUTE = "occistack.os_tpl.zones"


def _ready_zones(session: Session, template_ids: list[int]) -> dict[int, list[str]]:
    """template id → the names of the zones holding a ready copy, in one query."""
    found: dict[int, list[str]] = {}
    if not template_ids:
        return found
    for template_id, zone in session.execute(
            select(TemplateCopy.template_id, Zone.name).join(Zone, Zone.id == TemplateCopy.zone_id)
            .where(TemplateCopy.template_id.in_(template_ids), TemplateCopy.state == str(TemplateCopyState.READY))
            .order_by(Zone.name)):
        found.setdefault(template_id, []).append(zone)
    return found


def _template_mixin(schemes: SiteSchemes, template: OsTemplate, zones) -> Mixin:
    attributes = {**(template.extra_attributes or {}), ZONES_ATTRIBUTE: ",".join(zones)}
    return os_tpl_mixin(schemes.os_tpl, template.term, template.title, attributes)


def user_mixin(row: UserMixin | UserMixinRequest, registry: Registry) -> Mixin:
    """A user's mixin as a category: from its row, or from the request that just defined it."""
    depends = ()
    if row.depends:
        parent = registry.mixin(row.depends)
        depends = (parent,) if parent is not None else (Mixin(*split_identifier(row.depends)),)
    return Mixin(row.scheme, row.term, row.title, depends=depends, location=row.location, user_defined=True)


def includeme(config) -> None:
    settings = get_settings(config.registry)
    catalog = CatalogCache(settings.schemes, settings.catalog_revalidate_seconds)
    config.registry["occistack.catalog"] = catalog

    def occi_registry(request) -> Registry:
        identity = request.identity

        def session():
            return request.dbsession

        if identity is None:
            return catalog.site_registry(session)
        return catalog.registry_for(session, identity.user_id, identity.project_id)

    config.add_request_method(occi_registry, "occi_registry", reify=True)
