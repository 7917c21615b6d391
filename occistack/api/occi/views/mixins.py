"""Mixin collections (``/os_tpl/…/``, ``/resource_tpl/…/``, zones, users' own mixins; GFD.223
§8) and the root listing of everything the caller owns."""

from __future__ import annotations

from occistack.model.occi import Mixin
from occistack.api.occi.contexts import READ, WRITE
from occistack.plane.errors import InvalidRequest, NotFound, NotPermitted
from occistack.api.occi.interpret import EntityInput, Mode, action_input, locate
from occistack.api.occi.kinds import HANDLERS, Scope
from occistack.api.occi.kinds.members import members
from occistack.api.occi.views.collections import split
from occistack.api.errors import not_allowed
from occistack.api.occi.views.support import (
    action_term,
    page_of,
    parse_request,
    render_listing,
    renderer,
    respond,
    scope,
    wants_full_entities,
)

_ROOT_KINDS = ("compute", "storage", "network", "networkinterface", "storagelink")


def _mixin(request) -> Mixin:
    path = "/" + "/".join(request.matchdict["location"])
    if not path.endswith("/"):
        path += "/" if request.path.endswith("/") else ""
    found = request.occi_registry.by_location(path)
    if not isinstance(found, Mixin):
        raise NotFound(f"nothing at {request.path}; GET /-/ lists the locations of this service")
    return found


def list_members(request):
    mixin, current = _mixin(request), scope(request)
    return _render(request, current, _paged(request, members(current, mixin)))


def associate(request):
    """Apply the mixin to the listed entities (or, with ``?action=``, act on the members)."""
    mixin, current = _mixin(request), scope(request)
    term = action_term(request)
    if term is not None:
        return _act_on_members(request, current, mixin, term)
    for kind, entity_id in _listed(request, current):
        _add(current, kind, entity_id, mixin)
    return _render(request, current, members(current, mixin))


def replace_members(request):
    """Make the listed entities the mixin's only members."""
    mixin, current = _mixin(request), scope(request)
    wanted = _listed(request, current, allow_empty=True)
    for member in members(current, mixin):
        if member not in wanted:
            HANDLERS[member[0]].remove_mixin(current, member[1], mixin)
    present = set(members(current, mixin))
    for kind, entity_id in wanted:
        if (kind, entity_id) not in present:
            _add(current, kind, entity_id, mixin)
    return _render(request, current, members(current, mixin))


def disassociate(request):
    """Remove the mixin from the listed entities, or from all its members if none are listed."""
    mixin, current = _mixin(request), scope(request)
    listed = _listed(request, current, allow_empty=True) or members(current, mixin)
    for kind, entity_id in listed:
        HANDLERS[kind].remove_mixin(current, entity_id, mixin)
    return respond(request, renderer(request).ok())


def mixin_method_not_allowed(request):
    _mixin(request)
    not_allowed(request, ("GET", "HEAD", "POST", "PUT", "DELETE"))


def list_everything(request):
    """Every entity the caller can see, resources then links (rOCCI reads the Accept header of
    this answer to choose a rendering)."""
    current = scope(request)
    found = []
    for kind in _ROOT_KINDS:
        found += [(kind, entity_id) for entity_id in HANDLERS[kind].list_ids(current)]
    return _render(request, current, _paged(request, found))


def root_method_not_allowed(request):
    not_allowed(request, ("GET", "HEAD"))


def _render(request, current: Scope, found: list[tuple[str, str]]):
    if not wants_full_entities(request):
        return render_listing(request, [], [], [HANDLERS[kind].location(entity_id) for kind, entity_id in found])
    entities = []
    for kind in _ROOT_KINDS:
        ids = [entity_id for member_kind, entity_id in found if member_kind == kind]
        if ids:
            entities += HANDLERS[kind].load(current, ids)
    return render_listing(request, *split(entities))


def _paged(request, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    page = page_of(request)
    end = None if page.limit is None else page.offset + page.limit
    return found[page.offset:end]


def _listed(request, current: Scope, allow_empty: bool = False) -> list[tuple[str, str]]:
    """The entities a request names: X-OCCI-Location lines, or JSON entities by kind and id."""
    ir = parse_request(request)
    found: list[tuple[str, str]] = []
    references = list(ir.locations)
    for member in ir.members:
        if "occi.core.id" in member.attributes and member.kind is not None:
            kind_term = member.kind.term
            references.append(f"/{kind_term}/{member.attributes['occi.core.id']}")
    for reference in references:
        located = locate(reference, current.script_name)
        if located is None:
            raise InvalidRequest(f"{reference!r} is not the location of an entity of this service")
        found.append(located)
    if not found and not allow_empty:
        raise InvalidRequest("list the entities to associate, one X-OCCI-Location per entity")
    for kind, entity_id in found:
        HANDLERS[kind].get(current, entity_id)  # 404 for what the caller cannot see
    return list(dict.fromkeys(found))


def _add(current: Scope, kind: str, entity_id: str, mixin: Mixin) -> None:
    handler = HANDLERS[kind]
    if not mixin.applies_to(handler.kind):
        raise NotPermitted(f"the mixin {mixin.identifier} does not apply to a {kind}")
    handler.update(current, entity_id, EntityInput(handler.kind, (mixin,), {}), Mode.UPDATE)


def _act_on_members(request, current: Scope, mixin: Mixin, term: str):
    found = members(current, mixin)
    for kind in dict.fromkeys(kind for kind, _ in found):
        handler = HANDLERS[kind]
        allowed = handler.kind.actions + mixin.actions
        action, attributes = action_input(parse_request(request), current.registry, term, allowed)
        for entity in handler.load(current, [entity_id for k, entity_id in found if k == kind]):
            if action in entity.actions:
                handler.act(current, entity.location.rsplit("/", 1)[1], action, attributes)
    return _render(request, current, members(current, mixin))


def includeme(config) -> None:
    config.add_view(list_members, route_name="mixin_collection", request_method="GET", permission=READ)
    config.add_view(associate, route_name="mixin_collection", request_method="POST", permission=WRITE)
    config.add_view(replace_members, route_name="mixin_collection", request_method="PUT", permission=WRITE)
    config.add_view(disassociate, route_name="mixin_collection", request_method="DELETE", permission=WRITE)
    config.add_view(mixin_method_not_allowed, route_name="mixin_collection", permission=READ)
    config.add_view(list_everything, route_name="root", request_method="GET", permission=READ)
    config.add_view(root_method_not_allowed, route_name="root", permission=READ)
