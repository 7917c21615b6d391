"""The network kind, with the ipnetwork mixin for its addressing."""

from __future__ import annotations

from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.templates import AVAILABILITY_ZONE
from occistack.model.states import NETWORK_TRANSITIONS, Event, IllegalTransition
from occistack.plane.tenant import default_networks
from occistack.plane.tenant import networks as cases
from occistack.plane.tenant import tags
from occistack.api.occi.renderings.ir import ResourceOut
from occistack.api.errors import BadRequest, Forbidden
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables
from occistack.api.occi.kinds.base import KindHandler, Scope, category, drop_none, state_message, zone_term
from occistack.api.occi.paths import location_of

_ACTIONS = {Event.UP: infra.UP, Event.DOWN: infra.DOWN}
_EVENTS = {infra.UP: Event.UP, infra.DOWN: Event.DOWN}
#: attribute → NetworkRequest field / Network column
_FIELDS = {
    "occi.network.vlan": "vlan", "occi.network.label": "label", "occi.network.address": "address",
    "occi.network.gateway": "gateway", "occi.network.allocation": "allocation",
}


class NetworkHandler(KindHandler):
    kind = infra.NETWORK
    term = "network"

    def present(self, scope: Scope, row, loaded) -> ResourceOut:
        mixins: list[Category] = []
        attributes = {
            "occi.core.id": row.id,
            "occi.core.title": row.title,
            "occi.core.summary": row.summary,
            "occi.network.vlan": row.vlan,
            "occi.network.label": row.label,
            "occi.network.state": NETWORK_TRANSITIONS.occi_state(row.state),
            "occi.network.state.message": state_message(row),
        }
        if row.address is not None:
            mixins.append(infra.IPNETWORK)
            attributes.update({"occi.network.address": row.address, "occi.network.gateway": row.gateway,
                               "occi.network.allocation": row.allocation or "dynamic"})
        if row.zone_name:
            mixins.append(category(scope.registry, scope.schemes.availability_zone + row.zone_name))
        if row.id in _default_ids(scope):
            mixins.append(category(scope.registry, scope.schemes.default_network))
        mixins.extend(category(scope.registry, tag) for tag in loaded.tags.get(row.id, []))
        return ResourceOut(location=location_of(infra.NETWORK, row.id), kind=infra.NETWORK, mixins=tuple(mixins),
                           attributes=drop_none(attributes),
                           actions=() if row.delete_requested_at is not None else self.actions(row.state))

    def actions(self, state: str) -> tuple[Action, ...]:
        return tuple(_ACTIONS[event] for event in NETWORK_TRANSITIONS.events_allowed(state))

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        for mixin in entity.mixins:
            if not (mixin.user_defined or mixin == infra.IPNETWORK or mixin.depends_on(AVAILABILITY_ZONE)
                    or _is_default(scope, mixin)):
                raise Forbidden(f"the mixin {mixin.identifier} does not apply to a network")
        fields = {field: entity.attributes[name] for name, field in _FIELDS.items() if name in entity.attributes}
        request = cases.NetworkRequest(
            entity_id=entity_id or entity.given_id, title=entity.attributes.get("occi.core.title"),
            summary=entity.attributes.get("occi.core.summary"), zone_name=zone_term(entity), **fields)
        network = cases.create_network(scope.session, scope.caller, request, scope.dispatcher)
        tags.tag_all(scope.session, scope.caller, [m.identifier for m in entity.mixins if m.user_defined], network.id)
        if any(_is_default(scope, mixin) for mixin in entity.mixins):
            default_networks.make_default_network(scope.session, scope.caller.project_id, network)
        return network.id

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        network = cases.get_network(scope.session, scope.caller, entity_id)
        current = self.get(scope, entity_id)
        check_immutables(entity, current.attributes)
        current_ids = {mixin.identifier for mixin in current.mixins}
        for mixin in entity.mixins:
            if mixin.identifier not in current_ids and not (mixin.user_defined or mixin == infra.IPNETWORK
                                                            or _is_default(scope, mixin)):
                raise Forbidden(f"the mixin {mixin.identifier} cannot be added to an existing network")
        changes: dict[str, Any] = {field: entity.attributes[name] for name, field in _FIELDS.items()
                                   if name in entity.attributes}
        for name, column in (("occi.core.title", "title"), ("occi.core.summary", "summary")):
            if name in entity.attributes or mode is Mode.REPLACE:
                changes[column] = entity.attributes.get(name)
        if changes:
            # (A shared network takes no changes, but the caller may tag it or make it the default.)
            cases.update_network(scope.session, network, changes)
        wants_default = any(_is_default(scope, mixin) for mixin in entity.mixins)
        if wants_default:
            default_networks.make_default_network(scope.session, scope.caller.project_id, network)
        elif mode is Mode.REPLACE:
            default_networks.unmake_default_network(scope.session, scope.caller.project_id, network)
        user_tags = [m.identifier for m in entity.mixins if m.user_defined]
        if mode is Mode.REPLACE:
            tags.set_user_tags(scope.session, scope.caller, entity_id, user_tags)
        else:
            tags.tag_all(scope.session, scope.caller, user_tags, entity_id)

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if mixin.user_defined:
            tags.untag(scope.session, scope.caller, mixin.identifier, [entity_id])
        elif _is_default(scope, mixin):
            default_networks.unmake_default_network(scope.session, scope.caller.project_id,
                                                    cases.get_network(scope.session, scope.caller, entity_id))
        elif mixin == infra.IPNETWORK:
            cases.update_network(scope.session, cases.get_network(scope.session, scope.caller, entity_id),
                                 {"address": None, "gateway": None, "allocation": None})
        else:
            raise Forbidden(f"the mixin {mixin.term} cannot be removed from a network")

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        network = cases.get_network(scope.session, scope.caller, entity_id)
        try:
            cases.network_action(scope.session, network, _EVENTS[action])
        except IllegalTransition as refused:
            raise BadRequest(str(refused)) from None
        return None

    def delete(self, scope: Scope, entity_id: str) -> None:
        cases.destroy_network(scope.session, cases.get_network(scope.session, scope.caller, entity_id),
                              scope.dispatcher, scope.caller)


def _is_default(scope: Scope, mixin: Mixin) -> bool:
    return not mixin.user_defined and mixin.identifier == scope.schemes.default_network


def _default_ids(scope: Scope) -> set[str]:
    """The caller's project's default networks, read once per request."""
    found = scope.memo.get("default networks")
    if found is None:
        found = scope.memo["default networks"] = default_networks.default_network_ids(scope.session,
                                                                                      scope.caller.project_id)
    return found
