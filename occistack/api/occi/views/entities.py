"""Entity instances (``/compute/<id>`` and the like), GFD.223 §7: render, create or replace,
partially update, trigger an action, delete."""

from __future__ import annotations

from occistack.model.occi import Mixin
from occistack.plane.jobs.deletes import DELETING_MESSAGE
from occistack.plane.identifiers import entity_id_taken
from occistack.api.occi.renderings.ir import LinkOut
from occistack.api.occi.contexts import READ, WRITE
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, WrongState
from occistack.api.occi.interpret import Mode, action_input, entity_input
from occistack.api.occi.kinds import HANDLERS, KindHandler
from occistack.api.occi.paths import ENTITY_ROUTES, kind_of_route
from occistack.api.occi.views.collections import created_response
from occistack.api.errors import not_allowed
from occistack.api.occi.views.support import action_term, parse_request, renderer, respond, scope
from occistack.api.settings import base_url


def _handler(request) -> KindHandler:
    return HANDLERS[kind_of_route(request).term]


def render_entity(request, entity, status: int = 200):
    chosen = renderer(request)
    if isinstance(entity, LinkOut):
        return respond(request, chosen.link(entity, base_url(request)), status)
    return respond(request, chosen.resource(entity, base_url(request)), status)


def show_entity(request):
    return render_entity(request, _handler(request).get(scope(request), request.matchdict["entity_id"]))


def put_entity(request):
    """Create the entity at this URL, or replace it keeping its links."""
    handler, current = _handler(request), scope(request)
    entity_id = request.matchdict["entity_id"]
    ir = parse_request(request)
    if ir.is_empty:
        raise InvalidRequest(f"send the full rendering of the {handler.term}")
    if ir.members:
        raise InvalidRequest("PUT takes one entity rendering, not a collection")
    existing = handler.load(current, [entity_id])
    if not existing:
        if entity_id_taken(current.session, entity_id):
            # Another project's entity: answered as GET would answer, not "id in use".
            raise NotFound(f"no {handler.term} {handler.kind.location_of(entity_id)}")
        entity = entity_input(ir, current.registry, handler.kind, Mode.CREATE)
        if entity.given_id is not None and entity.given_id.removeprefix("urn:uuid:") != entity_id:
            raise InvalidRequest(f"occi.core.id {entity.given_id!r} differs from the id in the URL ({entity_id})")
        created = handler.create(current, entity, entity_id)
        return created_response(request, handler, current, [created])
    entity = entity_input(ir, current.registry, handler.kind, Mode.REPLACE, _mixins(existing[0]))
    handler.update(current, entity_id, entity, Mode.REPLACE)
    return render_entity(request, handler.get(current, entity_id))


def post_entity(request):
    """``?action=<term>`` triggers an action; otherwise a partial update (attributes, mixins)."""
    handler, current = _handler(request), scope(request)
    entity_id = request.matchdict["entity_id"]
    existing = handler.get(current, entity_id)
    ir = parse_request(request)
    term = action_term(request)
    if term is not None:
        allowed = handler.kind.actions + tuple(a for m in existing.mixins for a in getattr(m, "actions", ()))
        action, attributes = action_input(ir, current.registry, term, allowed)
        if _being_deleted(existing):
            raise Conflict(f"the {handler.term} is being deleted and takes no actions; wait until it is gone "
                           "(GET answers 404 then)")
        if action not in existing.actions:
            available = ", ".join(a.term for a in existing.actions) or "none"
            state = next((value for name, value in existing.attributes.items() if name.endswith(".state")), "?")
            # The refusal of the plane's IllegalTransition, said before any row is locked.
            raise WrongState(f"the action {action.term} is not available while the {handler.term} is {state}; "
                             f"available now: {available}")
        made = handler.act(current, entity_id, action, attributes)
        if made is not None:
            return respond(request, renderer(request).category(made))
        return render_entity(request, handler.get(current, entity_id))
    if ir.is_empty:
        raise InvalidRequest("send the attributes or mixins to change, or POST ?action=<term> to act")
    if isinstance(existing, LinkOut) and ir.links:
        raise InvalidRequest("a link cannot carry links")
    entity = entity_input(ir, current.registry, handler.kind, Mode.UPDATE, _mixins(existing))
    handler.update(current, entity_id, entity, Mode.UPDATE)
    return render_entity(request, handler.get(current, entity_id))


def delete_entity(request):
    handler, current = _handler(request), scope(request)
    entity_id = request.matchdict["entity_id"]
    handler.get(current, entity_id)  # 404 for what the caller cannot see
    handler.delete(current, entity_id)
    return respond(request, renderer(request).ok())


def _being_deleted(entity) -> bool:
    return any(name.endswith(".state.message") and value == DELETING_MESSAGE
               for name, value in entity.attributes.items())


def entity_method_not_allowed(request):
    not_allowed(request, ("GET", "HEAD", "PUT", "POST", "DELETE"))


def _mixins(entity) -> tuple[Mixin, ...]:
    return tuple(mixin for mixin in entity.mixins if isinstance(mixin, Mixin))


def includeme(config) -> None:
    for route in ENTITY_ROUTES:
        config.add_view(show_entity, route_name=route, request_method="GET", permission=READ)
        config.add_view(post_entity, route_name=route, request_method="POST", permission=WRITE)
        config.add_view(put_entity, route_name=route, request_method="PUT", permission=WRITE)
        config.add_view(delete_entity, route_name=route, request_method="DELETE", permission=WRITE)
        config.add_view(entity_method_not_allowed, route_name=route, permission=READ)
