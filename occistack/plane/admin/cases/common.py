"""What the administrator's operations share: who acts, read from the context, the two
actions of a row that is only switched on and off, and what an update asks to change.

An update takes a frozen ``...Changes`` dataclass whose every field defaults to UNCHANGED; a
field given None clears it where it may be empty. Only the fields it names change."""

from __future__ import annotations

from enum import StrEnum

from dataclasses import fields
from typing import Any

from occistack.plane.admin.common import SYSTEM, UNCHANGED, Actor, Unchanged, changed_fields
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Dispatcher
from occistack.plane.errors import InvalidRequest
from occistack.plane.errors import Unavailable
from occistack.plane.sealing import Sealer


class Switch(StrEnum):
    """The actions of a row with an ``enabled`` flag (a zone, pod, cluster, secondary store)."""

    ENABLE = "enable"
    DISABLE = "disable"


def actor_of(ctx: PlaneContext) -> Actor:
    """Who the event log names for this context's changes: the administrator signed in
    ("admin:<user>"), else the operator at the command line ("cli:<login>"), else "system"."""
    if ctx.caller is not None:
        return Actor.admin(ctx.caller.user_name, ctx.caller.user_id)
    if ctx.operator is not None:
        return Actor(ctx.operator)
    return SYSTEM


def admin_dispatcher(ctx: PlaneContext) -> Dispatcher:
    """The dispatcher for an administrator's jobs (a download, a node's check): the plain one,
    not ``ctx.dispatcher``, because those jobs belong to no project -- the administrator's own
    project must not be charged with, or see, the cloud's inventory work."""
    return ctx.services.dispatcher


def sealer_of(ctx: PlaneContext) -> Sealer:
    sealer = ctx.services.sealer
    if sealer is None:
        raise Unavailable("this plane has no sealer (occistack.secret_key): it cannot keep a BMC password")
    return sealer


def changes_of(what: str, changes: Any) -> dict[str, Any]:
    """The fields ``changes`` asks to change; an update that names none is refused, saying what
    may change."""
    changed = changed_fields(changes)
    if not changed:
        names = ", ".join(item.name for item in fields(changes))
        raise InvalidRequest(f"nothing to change: give one or more of the {what}'s fields {names}")
    return changed


__all__ = ["UNCHANGED", "Switch", "Unchanged", "actor_of", "admin_dispatcher", "changes_of", "sealer_of"]
