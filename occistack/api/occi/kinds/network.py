"""The network kind, with the ipnetwork mixin for its addressing."""

from __future__ import annotations

from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.templates import AVAILABILITY_ZONE
from occistack.model.states import NETWORK_TRANSITIONS, Event
from occistack.plane.admin import default_networks
from occistack.plane.tenant.changes import KEEP
from occistack.plane.tenant.networks import (
    NetworkAction,
    NetworkChanges,
    NetworkMixin,
    NetworkRequest,
    act_on_network,
    create_network,
    delete_network,
    remove_from_network,
    update_network,
)
from occistack.api.occi.renderings.ir import ResourceOut
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables
from occistack.api.occi.kinds.base import (
    KindHandler,
    Scope,
    category,
    drop_none,
    state_message,
    tag_changes,
    user_tags,
    zone_term,
)

_ACTIONS = {Event.UP: infra.UP, Event.DOWN: infra.DOWN}
_ACTIONS_ASKED = {infra.UP: NetworkAction.UP, infra.DOWN: NetworkAction.DOWN}
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
        return ResourceOut(location=infra.NETWORK.location_of(row.id), kind=infra.NETWORK, mixins=tuple(mixins),
                           attributes=drop_none(attributes),
                           actions=() if row.delete_requested_at is not None else self.actions(row.state))

    def actions(self, state: str) -> tuple[Action, ...]:
        return tuple(_ACTIONS[event] for event in NETWORK_TRANSITIONS.events_allowed(state))

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        fields = {field: entity.attributes[name] for name, field in _FIELDS.items() if name in entity.attributes}
        request = NetworkRequest(
            entity_id=entity_id or entity.given_id, title=entity.attributes.get("occi.core.title"),
            summary=entity.attributes.get("occi.core.summary"), zone_name=zone_term(entity),
            default=any(_is_default(scope, mixin) for mixin in entity.mixins), tags=user_tags(entity),
            other_mixins=tuple(mixin.identifier for mixin in entity.mixins
                               if not (mixin.user_defined or mixin == infra.IPNETWORK
                                       or mixin.depends_on(AVAILABILITY_ZONE) or _is_default(scope, mixin))),
            **fields)
        return create_network(scope.plane, request)

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        current = self.get(scope, entity_id)
        check_immutables(entity, current.attributes)
        attributes, cleared = entity.attributes, None if mode is Mode.REPLACE else KEEP
        fields = {field: attributes[name] for name, field in _FIELDS.items() if name in attributes}
        zones = [mixin for mixin in entity.mixin_depending_on(AVAILABILITY_ZONE) if not mixin.user_defined]
        wants_default = any(_is_default(scope, mixin) for mixin in entity.mixins)
        update_network(scope.plane, entity_id, NetworkChanges(
            title=attributes.get("occi.core.title", cleared), summary=attributes.get("occi.core.summary", cleared),
            # A replace that leaves the default mixin out makes the network no longer the default.
            default=True if wants_default else False if mode is Mode.REPLACE else KEEP,
            zone_names=tuple(zone.term for zone in zones), tags=tag_changes(entity, mode),
            other_mixins=tuple(mixin.identifier for mixin in entity.mixins
                               if not (mixin.user_defined or mixin == infra.IPNETWORK or mixin in zones
                                       or _is_default(scope, mixin))),
            **fields))

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if mixin.user_defined:
            what = NetworkMixin.TAG
        elif _is_default(scope, mixin):
            what = NetworkMixin.DEFAULT
        elif mixin == infra.IPNETWORK:
            what = NetworkMixin.ADDRESSING
        else:
            what = NetworkMixin.OTHER
        remove_from_network(scope.plane, entity_id, what, mixin.identifier)

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        act_on_network(scope.plane, entity_id, _ACTIONS_ASKED[action])
        return None

    def delete(self, scope: Scope, entity_id: str) -> None:
        delete_network(scope.plane, entity_id)


def _is_default(scope: Scope, mixin: Mixin) -> bool:
    return not mixin.user_defined and mixin.identifier == scope.schemes.default_network


def _default_ids(scope: Scope) -> set[str]:
    """The caller's project's default networks, read once per request."""
    found = scope.memo.get("default networks")
    if found is None:
        found = scope.memo["default networks"] = default_networks.default_network_ids(scope.session,
                                                                                      scope.caller.project_id)
    return found
