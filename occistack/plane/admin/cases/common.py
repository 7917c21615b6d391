"""What the administrator's operations share: who acts, read from the context, and the two
actions of a row that is only switched on and off."""

from __future__ import annotations

from enum import StrEnum

from occistack.plane.admin.common import SYSTEM, Actor
from occistack.plane.context import PlaneContext
from occistack.plane.dispatch import Dispatcher
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
