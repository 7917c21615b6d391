"""Kind collections (``/compute/``, ``/storage/``, ``/network/``, ``/networkinterface/``,
``/storagelink/`` and the ``/link/…`` aliases), GFD.223 §8: list, create, act on all, delete all."""

from __future__ import annotations

from occistack.api.occi.renderings.ir import LinkOut, ResourceOut
from occistack.api.occi.contexts import READ, WRITE
from occistack.plane.errors import InvalidRequest
from occistack.api.occi.interpret import Mode, action_input, entity_input
from occistack.api.occi.kinds import HANDLERS, KindHandler, Scope
from occistack.api.occi.paths import COLLECTION_ROUTES, kind_of_route
from occistack.api.errors import not_allowed
from occistack.api.settings import base_url
from occistack.api.occi.views.support import (
    action_term,
    entity_filter,
    matches,
    page_of,
    parse_request,
    render_listing,
    renderer,
    respond,
    scope,
    wants_full_entities,
)


def _handler(request) -> KindHandler:
    return HANDLERS[kind_of_route(request).term]


def list_collection(request):
    handler, current, page = _handler(request), scope(request), page_of(request)
    wanted = entity_filter(request)
    if wanted is None and not wants_full_entities(request):
        ids = handler.list_ids(current, offset=page.offset, limit=page.limit)
        return render_listing(request, [], [], [handler.location(entity_id) for entity_id in ids])
    if wanted is None:
        found = handler.load(current, offset=page.offset, limit=page.limit)
    else:
        found = [entity for entity in handler.load(current) if matches(entity, wanted)]
        end = None if page.limit is None else page.offset + page.limit
        found = found[page.offset:end]
    return render_listing(request, *split(found))


def post_collection(request):
    term = action_term(request)
    if term is not None:
        return act_on_collection(request, term)
    handler, current = _handler(request), scope(request)
    ir = parse_request(request)
    if ir.is_empty:
        raise InvalidRequest(f"send the rendering of the {handler.term} to create")
    created = []
    for member in ir.entities():
        entity = entity_input(member, current.registry, handler.kind, Mode.CREATE)
        created.append(handler.create(current, entity, None))
    return created_response(request, handler, current, created)


def created_response(request, handler: KindHandler, current: Scope, created: list[str]):
    """201 with the first location in ``Location`` and every location in the body too (VMDIRAC
    and IM read it from there); JSON clients get the created entities."""
    chosen = renderer(request)
    locations = [handler.location(entity_id) for entity_id in created]
    entities = handler.load(current, created) if chosen.full_collections else ()
    root = base_url(request)
    return respond(request, chosen.created(locations, root, entities), 201, location=root + locations[0])


def act_on_collection(request, term: str):
    """Trigger an action on every member the caller owns for which it is available now (a
    shared network is listed to everyone but is not theirs to act on); answer the collection."""
    handler, current = _handler(request), scope(request)
    action, attributes = action_input(parse_request(request), current.registry, term, handler.kind.actions)
    owned = handler.list_ids(current, shared=False)
    for entity in handler.load(current, owned) if owned else ():
        if action in entity.actions:
            handler.act(current, entity.location.rsplit("/", 1)[1], action, attributes)
    return render_listing(request, *split(handler.load(current)))


def delete_collection(request):
    """Delete every entity of the kind the caller owns (shared ones are not theirs to delete)."""
    handler, current = _handler(request), scope(request)
    for entity_id in handler.list_ids(current, shared=False):
        handler.delete(current, entity_id)
    return respond(request, renderer(request).ok())


def collection_method_not_allowed(request):
    not_allowed(request, ("GET", "HEAD", "POST", "DELETE"))


def split(entities) -> tuple[list[ResourceOut], list[LinkOut]]:
    resources = [entity for entity in entities if isinstance(entity, ResourceOut)]
    links = [entity for entity in entities if isinstance(entity, LinkOut)]
    return resources, links


def includeme(config) -> None:
    for route in COLLECTION_ROUTES:
        config.add_view(list_collection, route_name=route, request_method="GET", permission=READ)
        config.add_view(post_collection, route_name=route, request_method="POST", permission=WRITE)
        config.add_view(delete_collection, route_name=route, request_method="DELETE", permission=WRITE)
        config.add_view(collection_method_not_allowed, route_name=route, permission=READ)
