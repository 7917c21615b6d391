"""What the tenants' update requests share: "leave this as it is", and the tags a change brings.

An update request names only what a client asked to change. A field left at :data:`KEEP` is
not touched; ``None`` is a value (a title cleared by a replace). Faces fill these from their own
renderings (an OCCI PUT clears the title it was not sent, a POST keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from occistack.plane.context import PlaneContext
from occistack.plane.tenant import tags


class Keep(Enum):
    """The type of :data:`KEEP`."""

    KEEP = "keep"

    def __repr__(self) -> str:
        return "KEEP"


#: "Leave it as it is": a field of an update request the client did not name.
KEEP = Keep.KEEP

Value = TypeVar("Value")


def kept(change: Value | Keep, current: Value) -> Value:
    """The value after a change: ``current`` when the change is :data:`KEEP`."""
    return current if change is KEEP else change


@dataclass(frozen=True, slots=True)
class TagChanges:
    """The user tags (identifiers of the caller's own mixins) an update gives an entity."""

    identifiers: tuple[str, ...] = ()
    #: True: these become the entity's only user tags (a replace); False: they are added to its own.
    replace: bool = False


def apply_tag_changes(ctx: PlaneContext, entity_id: str, changes: TagChanges) -> None:
    if changes.replace:
        tags.set_user_tags(ctx.session, ctx.caller, entity_id, changes.identifiers)
    else:
        tags.tag_all(ctx.session, ctx.caller, changes.identifiers, entity_id)
