"""The storage kind: volumes."""

from __future__ import annotations

from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.templates import AVAILABILITY_ZONE
from occistack.model.states import VOLUME_TRANSITIONS, Event, IllegalTransition
from occistack.plane.tenant import storage as cases
from occistack.plane.tenant import tags
from occistack.api.occi.renderings.ir import ResourceOut
from occistack.api.errors import BadRequest, Forbidden
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables
from occistack.api.occi.kinds.base import KindHandler, Scope, category, drop_none, state_message, zone_term
from occistack.api.occi.paths import location_of

_ACTIONS = {Event.ONLINE: infra.ONLINE, Event.OFFLINE: infra.OFFLINE}
_EVENTS = {infra.ONLINE: Event.ONLINE, infra.OFFLINE: Event.OFFLINE}


class StorageHandler(KindHandler):
    kind = infra.STORAGE
    term = "storage"

    def present(self, scope: Scope, row, loaded) -> ResourceOut:
        mixins: list[Category] = []
        if row.zone_name:
            mixins.append(category(scope.registry, scope.schemes.availability_zone + row.zone_name))
        mixins.extend(category(scope.registry, tag) for tag in loaded.tags.get(row.id, []))
        attributes = {
            "occi.core.id": row.id,
            "occi.core.title": row.title,
            "occi.core.summary": row.summary,
            "occi.storage.size": row.size_gib,
            "occi.storage.state": VOLUME_TRANSITIONS.occi_state(row.state),
            "occi.storage.state.message": state_message(row),
        }
        return ResourceOut(location=location_of(infra.STORAGE, row.id), kind=infra.STORAGE, mixins=tuple(mixins),
                           attributes=drop_none(attributes),
                           actions=() if row.delete_requested_at is not None else self.actions(row.state))

    def actions(self, state: str) -> tuple[Action, ...]:
        return tuple(_ACTIONS[event] for event in VOLUME_TRANSITIONS.events_allowed(state))

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        _only_tags_and_zone(entity)
        request = cases.VolumeRequest(
            size_gib=entity.attributes["occi.storage.size"], entity_id=entity_id or entity.given_id,
            title=entity.attributes.get("occi.core.title"), summary=entity.attributes.get("occi.core.summary"),
            zone_name=zone_term(entity))
        volume = cases.create_volume(scope.session, scope.caller, request, scope.dispatcher, scope.placement)
        tags.tag_all(scope.session, scope.caller, [m.identifier for m in entity.mixins if m.user_defined], volume.id)
        return volume.id

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        volume = cases.get_volume(scope.session, scope.caller, entity_id)
        current = self.get(scope, entity_id)
        check_immutables(entity, current.attributes)
        current_ids = {mixin.identifier for mixin in current.mixins}
        for mixin in entity.mixins:
            if mixin.identifier not in current_ids and not mixin.user_defined:
                raise Forbidden(f"the mixin {mixin.identifier} cannot be added to existing storage")
        if "occi.core.title" in entity.attributes or mode is Mode.REPLACE:
            volume.title = entity.attributes.get("occi.core.title")
        if "occi.core.summary" in entity.attributes or mode is Mode.REPLACE:
            volume.summary = entity.attributes.get("occi.core.summary")
        if "occi.storage.size" in entity.attributes:
            cases.resize_volume(scope.session, volume, entity.attributes["occi.storage.size"], scope.dispatcher,
                                scope.placement)
        user_tags = [m.identifier for m in entity.mixins if m.user_defined]
        if mode is Mode.REPLACE:
            tags.set_user_tags(scope.session, scope.caller, entity_id, user_tags)
        else:
            tags.tag_all(scope.session, scope.caller, user_tags, entity_id)

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if not mixin.user_defined:
            raise Forbidden(f"the mixin {mixin.term} cannot be removed from storage")
        tags.untag(scope.session, scope.caller, mixin.identifier, [entity_id])

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        volume = cases.get_volume(scope.session, scope.caller, entity_id)
        try:
            cases.volume_action(scope.session, volume, _EVENTS[action])
        except IllegalTransition as refused:
            raise BadRequest(str(refused)) from None
        return None

    def delete(self, scope: Scope, entity_id: str) -> None:
        cases.destroy_volume(scope.session, cases.get_volume(scope.session, scope.caller, entity_id),
                             scope.dispatcher, scope.caller)


def _only_tags_and_zone(entity: EntityInput) -> None:
    for mixin in entity.mixins:
        if not (mixin.user_defined or mixin.depends_on(AVAILABILITY_ZONE)):
            raise Forbidden(f"the mixin {mixin.identifier} does not apply to a {entity.kind.term}")
