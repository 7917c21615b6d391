"""User-defined mixins (tags) and the tag-like mixins recorded on entities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from occistack.model import Entity, EntityMixin, UserMixin
from occistack.model.reads import readers_tags
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.errors import Conflict, NotFound


@dataclass(frozen=True, slots=True)
class UserMixinRequest:
    scheme: str
    term: str
    location: str
    title: str | None = None
    depends: str | None = None


def user_mixins(session: Session, caller: Caller) -> list[UserMixin]:
    return list(session.scalars(select(UserMixin).where(UserMixin.owner_id == caller.user_id)
                                .order_by(UserMixin.id)))


def define_user_mixin(ctx: PlaneContext, request: UserMixinRequest) -> int:
    """Create the caller's mixin (its id); the face has already checked it against the
    provider's own categories, this checks it against the caller's other mixins."""
    session, caller = ctx.session, ctx.caller
    mine = user_mixins(session, caller)
    for existing in mine:
        if existing.identifier == request.scheme + request.term:
            raise Conflict(f"you already defined the mixin {existing.identifier}")
        if existing.location == request.location:
            raise Conflict(f"the location {request.location} is already bound to your mixin {existing.identifier}")
    mixin = UserMixin(owner_id=caller.user_id, scheme=request.scheme, term=request.term, title=request.title,
                      location=request.location, depends=request.depends)
    session.add(mixin)
    session.flush()
    return mixin.id


def delete_user_mixin(ctx: PlaneContext, identifier: str) -> None:
    """Remove the caller's mixin; its associations go with it (the foreign key cascades)."""
    session = ctx.session
    mixin = _own_mixin(session, ctx.caller, identifier)
    session.execute(delete(EntityMixin).where(EntityMixin.user_mixin_id == mixin.id))
    session.delete(mixin)
    session.flush()


def resolve_tags(session: Session, caller: Caller, identifiers: Iterable[str]) -> list[EntityMixin]:
    """EntityMixin rows for ``identifiers``; the caller's own mixins are linked by foreign key."""
    wanted = list(dict.fromkeys(identifiers))
    if not wanted:
        return []
    owned = {m.identifier: m.id for m in user_mixins(session, caller)}
    return [EntityMixin(mixin=identifier, user_mixin_id=owned.get(identifier)) for identifier in wanted]


def tag(session: Session, caller: Caller, identifier: str, entity_ids: Iterable[str]) -> None:
    """Associate a mixin with entities (idempotent: an entity already tagged stays tagged once)."""
    owned = {m.identifier: m.id for m in user_mixins(session, caller)}
    mine = owned.get(identifier)
    already = dict(session.execute(select(EntityMixin.entity_id, EntityMixin.user_mixin_id)
                                   .where(EntityMixin.mixin == identifier)).all())
    for entity_id in dict.fromkeys(entity_ids):
        if entity_id not in already:
            session.add(EntityMixin(entity_id=entity_id, mixin=identifier, user_mixin_id=mine))
        elif already[entity_id] != mine:
            # One row per entity and identifier: a colleague's namesake mixin holds the place.
            raise Conflict(f"the entity {entity_id} already carries a colleague's mixin {identifier}; an entity "
                           "takes one mixin of an identifier: define yours with another term or scheme")
    session.flush()


def tag_all(session: Session, caller: Caller, identifiers: Iterable[str], entity_id: str) -> None:
    """Apply several tag mixins to one entity (idempotent)."""
    for identifier in identifiers:
        tag(session, caller, identifier, [entity_id])


def set_user_tags(session: Session, caller: Caller, entity_id: str, identifiers: Iterable[str]) -> None:
    """Make ``identifiers`` the entity's only user-mixin tags (a PUT replaces the mixin set)."""
    wanted = list(dict.fromkeys(identifiers))
    session.execute(delete(EntityMixin).where(EntityMixin.entity_id == entity_id,
                                              EntityMixin.user_mixin_id.is_not(None),
                                              readers_tags(caller.user_id),  # a colleague's stay
                                              EntityMixin.mixin.not_in(wanted)))
    tag_all(session, caller, wanted, entity_id)


def untag(session: Session, caller: Caller, identifier: str, entity_ids: Iterable[str] | None) -> None:
    """Disassociate a mixin from ``entity_ids``, or from every entity when None; the caller's
    own user mixin, never a colleague's of the same identifier."""
    statement = delete(EntityMixin).where(EntityMixin.mixin == identifier, readers_tags(caller.user_id))
    if entity_ids is not None:
        statement = statement.where(EntityMixin.entity_id.in_(list(entity_ids)))
    session.execute(statement)
    session.flush()


def replace_members(session: Session, caller: Caller, identifier: str, entity_ids: Iterable[str],
                    visible: Iterable[str]) -> None:
    """Make ``entity_ids`` the mixin's only members among the caller's ``visible`` entities."""
    wanted = list(dict.fromkeys(entity_ids))
    to_remove = [entity_id for entity_id in visible if entity_id not in wanted]
    if to_remove:
        untag(session, caller, identifier, to_remove)
    tag(session, caller, identifier, wanted)


def owned_entity_ids(session: Session, caller: Caller, entity_ids: Iterable[str]) -> list[str]:
    """Those of ``entity_ids`` that the caller owns, in the order given; raises for the rest."""
    wanted = list(dict.fromkeys(entity_ids))
    found = set(session.scalars(select(Entity.id).where(Entity.id.in_(wanted),
                                                        Entity.project_id == caller.project_id)))
    missing = [entity_id for entity_id in wanted if entity_id not in found]
    if missing:
        raise NotFound("no such entity: " + ", ".join(missing[:5]))
    return wanted


def _own_mixin(session: Session, caller: Caller, identifier: str) -> UserMixin:
    for mixin in user_mixins(session, caller):
        if mixin.identifier == identifier:
            return mixin
    raise NotFound(f"you have no mixin {identifier}")
