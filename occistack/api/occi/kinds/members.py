"""Which entities belong to a mixin's collection.

An entity is in a mixin's collection when it carries the mixin or one that depends on it (so
``/os_tpl/`` lists every compute, ``/os_tpl/debian-12/`` those made from that template). Some
mixins are recorded as tags, others follow from columns (a compute's template, size, zone and affinity
group, a network's addressing); this module knows which is which.
"""

from __future__ import annotations

from sqlalchemy import select, true

from occistack.model import reads
from occistack.plane.admin import default_networks
from occistack.model.occi import Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.templates import AFFINITY_GROUP, AVAILABILITY_ZONE
from occistack.api.occi.kinds.base import Scope


def members(scope: Scope, mixin: Mixin) -> list[tuple[str, str]]:
    """(kind term, id) of the caller's entities in ``mixin``'s collection, oldest first."""
    session, project = scope.session, scope.caller.project_id
    if mixin == infra.OS_TPL:
        return _computes(scope, true())
    if mixin.depends_on(infra.OS_TPL):
        if mixin.scheme != scope.schemes.os_tpl:
            return []
        return _computes(scope, reads.templates.c.term == mixin.term)
    if mixin == infra.RESOURCE_TPL:
        return _computes(scope, reads.vms.c.resource_tpl.is_not(None))
    if mixin.depends_on(infra.RESOURCE_TPL):
        return _computes(scope, reads.vms.c.resource_tpl == mixin.identifier)
    if mixin == AVAILABILITY_ZONE or mixin.depends_on(AVAILABILITY_ZONE):
        condition = (reads.zones.c.name.is_not(None) if mixin == AVAILABILITY_ZONE
                     else reads.zones.c.name == mixin.term)
        found = []
        for kind in ("compute", "storage", "network"):
            found += [(kind, entity_id) for entity_id in reads.ids_of_kind_where(session, kind, project, condition)]
        return found
    if mixin == AFFINITY_GROUP:
        return _computes(scope, reads.vms.c.affinity_group_id.is_not(None))
    if mixin.depends_on(AFFINITY_GROUP) and not mixin.user_defined:
        if mixin.scheme != scope.schemes.affinity_group:
            return []
        groups = reads.affinity_groups
        group = (select(groups.c.id).where(groups.c.project_id == project, groups.c.name == mixin.term)
                 .scalar_subquery())
        return _computes(scope, reads.vms.c.affinity_group_id == group)
    if mixin.identifier == scope.schemes.default_network and not mixin.user_defined:
        chosen = default_networks.default_network_ids(session, project)
        return [("network", entity_id) for entity_id in reads.ids_of_kind_where(
            session, "network", project, reads.networks.c.id.in_(chosen))] if chosen else []
    if mixin == infra.IPNETWORK:
        return [("network", entity_id) for entity_id in
                reads.ids_of_kind_where(session, "network", project, reads.networks.c.address.is_not(None))]
    if mixin == infra.IPNETWORKINTERFACE:
        return [("networkinterface", entity_id) for entity_id in
                reads.ids_of_kind_where(session, "networkinterface", project, reads.nics.c.address.is_not(None))]
    identifiers = [mixin.identifier] + [m.identifier for m in scope.registry.mixins() if m.depends_on(mixin)]
    return [(row.kind, row.id) for row in reads.tagged_ids(session, project, scope.caller.user_id, identifiers)]


def _computes(scope: Scope, condition) -> list[tuple[str, str]]:
    return [("compute", entity_id) for entity_id in
            reads.computes_where(scope.session, scope.caller.project_id, condition)]
