"""The storage kind: volumes."""

from __future__ import annotations

from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.templates import AVAILABILITY_ZONE
from occistack.model.states import VOLUME_TRANSITIONS, Event
from occistack.plane.tenant.changes import KEEP
from occistack.plane.tenant.snapshots import SnapshotRequest, create_snapshot
from occistack.plane.tenant.storage import (
    VolumeAction,
    VolumeChanges,
    VolumeRequest,
    act_on_storage,
    create_storage,
    delete_storage,
    remove_tag_from_storage,
    resize_storage,
    update_storage,
)
from occistack.api.occi.renderings.ir import ResourceOut
from occistack.plane.errors import NotPermitted
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

_ACTIONS = {Event.ONLINE: infra.ONLINE, Event.OFFLINE: infra.OFFLINE}
_ACTIONS_ASKED = {infra.ONLINE: VolumeAction.ONLINE, infra.OFFLINE: VolumeAction.OFFLINE}
#: The states storage can be snapshotted, backed up or resized in (the plane checks the rest: its
#: attachment, its zone's secondary storage, its quota).
_SNAPSHOT_STATES = ("online", "offline")
#: GFD.224's actions offered in those states; a backup is a snapshot kept in secondary storage,
#: which every snapshot here is.
_COPY_AND_GROW = (infra.STORAGE_SNAPSHOT, infra.STORAGE_BACKUP, infra.STORAGE_RESIZE)


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
        return ResourceOut(location=infra.STORAGE.location_of(row.id), kind=infra.STORAGE, mixins=tuple(mixins),
                           attributes=drop_none(attributes),
                           actions=() if row.delete_requested_at is not None else self.actions(row.state))

    def actions(self, state: str) -> tuple[Action, ...]:
        moves = tuple(_ACTIONS[event] for event in VOLUME_TRANSITIONS.events_allowed(state))
        return moves + (_COPY_AND_GROW if state in _SNAPSHOT_STATES else ())

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        request = VolumeRequest(
            size_gib=entity.attributes["occi.storage.size"], entity_id=entity_id or entity.given_id,
            title=entity.attributes.get("occi.core.title"), summary=entity.attributes.get("occi.core.summary"),
            zone_name=zone_term(entity), tags=user_tags(entity),
            other_mixins=tuple(mixin.identifier for mixin in entity.mixins
                               if not mixin.user_defined and mixin not in _zones(entity)))
        return create_storage(scope.plane, request)

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        current = self.get(scope, entity_id)
        check_immutables(entity, current.attributes)
        attributes, cleared = entity.attributes, None if mode is Mode.REPLACE else KEEP
        update_storage(scope.plane, entity_id, VolumeChanges(
            title=attributes.get("occi.core.title", cleared), summary=attributes.get("occi.core.summary", cleared),
            size_gib=attributes.get("occi.storage.size", KEEP), tags=tag_changes(entity, mode),
            zone_names=tuple(mixin.term for mixin in _zones(entity)),
            other_mixins=tuple(mixin.identifier for mixin in entity.mixins
                               if not mixin.user_defined and mixin not in _zones(entity))))

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if not mixin.user_defined:
            raise NotPermitted(f"the mixin {mixin.term} cannot be removed from storage")
        remove_tag_from_storage(scope.plane, entity_id, mixin.identifier)

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        if action in (infra.STORAGE_SNAPSHOT, infra.STORAGE_BACKUP):
            # GFD.224's snapshot and backup actions; either is listed with ``occistack snapshot
            # list`` and /admin/snapshots (OCCI 1.2 has no kind for it).
            create_snapshot(scope.plane, SnapshotRequest(volume_id=entity_id, name=attributes.get("name")))
            return None
        if action == infra.STORAGE_RESIZE:
            resize_storage(scope.plane, entity_id, attributes["size"])
            return None
        act_on_storage(scope.plane, entity_id, _ACTIONS_ASKED[action])
        return None

    def delete(self, scope: Scope, entity_id: str) -> None:
        delete_storage(scope.plane, entity_id)


def _zones(entity: EntityInput) -> list[Mixin]:
    return [mixin for mixin in entity.mixin_depending_on(AVAILABILITY_ZONE) if not mixin.user_defined]
