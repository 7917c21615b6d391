"""What every kind's handler shares: the request scope and the handler contract.

A handler only translates: validated OCCI input into a use case's request dataclass
(plane/tenant/), which it runs with the request's :class:`PlaneContext`, and database rows into
OCCI output (``ResourceOut``/``LinkOut``). The rules of what may change live in the use cases;
the views are generic over handlers, so the HTTP semantics of GFD.223 are written once for
every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from occistack.model import reads
from occistack.model.occi import Action, Category, Kind, Mixin, Registry, split_identifier
from occistack.model.occi.templates import AVAILABILITY_ZONE, SiteSchemes
from occistack.plane import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.tenant.changes import TagChanges
from occistack.plane.jobs.deletes import DELETING_MESSAGE
from occistack.api.occi.renderings.ir import LinkOut, ResourceOut
from occistack.api.occi.interpret import EntityInput, Mode
from occistack.plane.errors import InvalidRequest, NotFound


@dataclass(frozen=True, slots=True)
class Scope:
    """Everything a handler needs from the request, and nothing of HTTP."""

    #: what the use cases are run with: the request's session, caller and the plane's services.
    plane: PlaneContext
    #: the categories this caller sees (the site's and the caller's own mixins).
    registry: Registry
    schemes: SiteSchemes
    script_name: str = ""
    #: what presenting many entities of one request can share (their mixin tuples).
    memo: dict = field(default_factory=dict)
    #: the site's default OS template term (occistack.default_os_tpl), if it has one.
    default_os_tpl: str | None = None

    @property
    def session(self) -> Session:
        """Where the handlers read the rows they render."""
        return self.plane.session

    @property
    def caller(self) -> Caller:
        return self.plane.caller


class KindHandler:
    kind: Kind
    #: the term of the kind, also the ``entities.kind`` value of its rows.
    term: str

    # --- reading ---------------------------------------------------------------------------------

    def load(self, scope: Scope, ids: list[str] | None = None, *, offset: int = 0,
             limit: int | None = None) -> list[ResourceOut | LinkOut]:
        loaded = reads.load_entities(scope.session, self.term, scope.caller.project_id, ids,
                                     user_id=scope.caller.user_id, offset=offset, limit=limit)
        return [self.present(scope, row, loaded) for row in loaded.rows]

    def get(self, scope: Scope, entity_id: str) -> ResourceOut | LinkOut:
        found = self.load(scope, [entity_id])
        if not found:
            raise NotFound(f"no {self.term} {self.kind.location_of(entity_id)}")
        return found[0]

    def list_ids(self, scope: Scope, *, offset: int = 0, limit: int | None = None,
                 shared: bool = True) -> list[str]:
        return reads.list_ids(scope.session, self.term, scope.caller.project_id, offset=offset, limit=limit,
                              shared=shared)

    def present(self, scope: Scope, row, loaded: reads.LoadedEntities) -> ResourceOut | LinkOut:
        raise NotImplementedError

    def location(self, entity_id: str) -> str:
        return self.kind.location_of(entity_id)

    # --- writing ---------------------------------------------------------------------------------

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        raise NotImplementedError

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        raise NotImplementedError

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        """Run an action; a category returned is what the response renders (save → os_tpl)."""
        raise NotImplementedError

    def delete(self, scope: Scope, entity_id: str) -> None:
        raise NotImplementedError

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        raise NotImplementedError

    def actions(self, state: str) -> tuple[Action, ...]:
        """The actions applicable in ``state``; every action of the kind by default."""
        return self.kind.actions


def category(registry: Registry, identifier: str) -> Category:
    """The registered category, or a bare one rebuilt from its identifier (a template that was
    deleted after a compute was made from it still names its mixin)."""
    found = registry.get(identifier)
    if found is not None:
        return found
    scheme, term = split_identifier(identifier)
    return Mixin(scheme, term)


def zone_term(entity: EntityInput) -> str | None:
    """The availability zone an entity asks for (its zone mixin's term), if any."""
    # A user's own mixin may name availability_zone as its parent; that makes it a tag.
    zones = [zone for zone in entity.mixin_depending_on(AVAILABILITY_ZONE) if not zone.user_defined]
    if len(zones) > 1:
        raise InvalidRequest(f"a {entity.kind.term} lives in one availability zone; got "
                             + ", ".join(zone.term for zone in zones))
    return zones[0].term if zones else None


def state_message(row) -> str | None:
    """A row's state message as rendered: "being deleted" while its delete is under way (its
    state stays what it is until the teardown starts)."""
    if row.delete_requested_at is not None:
        return DELETING_MESSAGE
    return row.state_message


def drop_none(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in attributes.items() if value is not None}


def user_tags(entity: EntityInput) -> tuple[str, ...]:
    """The identifiers of the user mixins (tags) an entity rendering names."""
    return tuple(mixin.identifier for mixin in entity.mixins if mixin.user_defined)


def tag_changes(entity: EntityInput, mode: Mode) -> TagChanges:
    """The user mixins an update names: the entity's only ones after a replace (PUT), added
    to its own after a partial update (POST)."""
    return TagChanges(user_tags(entity), replace=mode is Mode.REPLACE)
