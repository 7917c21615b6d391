"""Users' API key pairs, as the faces ask for them: create (the secret is in the answer, once),
list and show (never the secret), revoke. See plane/admin/api_keys.py for what a pair is."""

from __future__ import annotations

from dataclasses import dataclass

from occistack.plane.admin import api_keys
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import Ref
from occistack.plane.admin.lookup import find_user
from occistack.plane.admin.records.api_keys import ApiKeyRecord, CreatedApiKey, api_key_record, api_key_records
from occistack.plane.context import PlaneContext
from occistack.plane.errors import Unavailable
from occistack.plane.sealing import Sealer


@dataclass(frozen=True)
class NewApiKey:
    #: the user who will hold it (by name or id).
    user: Ref


@dataclass(frozen=True)
class ApiKeyFilter:
    user: Ref | None = None
    #: False: only the keys that still sign.
    include_revoked: bool = True


def create_api_key(ctx: PlaneContext, new: NewApiKey) -> CreatedApiKey:
    """A new pair for the user, with its secret: the only answer that ever holds it."""
    key, secret = api_keys.create_api_key(ctx.session, find_user(ctx.session, new.user), sealer=_sealer(ctx),
                                          actor=actor_of(ctx))
    return CreatedApiKey(api_key_record(ctx.session, key), secret)


def list_api_keys(ctx: PlaneContext, where: ApiKeyFilter = ApiKeyFilter()) -> list[ApiKeyRecord]:
    user = find_user(ctx.session, where.user) if where.user is not None else None
    return api_key_records(ctx.session, api_keys.list_api_keys(ctx.session, user=user,
                                                               include_revoked=where.include_revoked))


def show_api_key(ctx: PlaneContext, key: Ref) -> ApiKeyRecord:
    """A pair by id or access key."""
    return api_key_record(ctx.session, api_keys.find_api_key(ctx.session, key))


def revoke_api_key(ctx: PlaneContext, key: Ref) -> ApiKeyRecord:
    """Revoke a pair (by id or access key) at once: no request signed with it is accepted any
    more, in any server (the verifier reads the key's row each time)."""
    return api_key_record(ctx.session, api_keys.revoke_api_key(ctx.session, api_keys.find_api_key(ctx.session, key),
                                                               actor=actor_of(ctx)))


def _sealer(ctx: PlaneContext) -> Sealer:
    sealer = ctx.services.sealer
    if sealer is None:
        raise Unavailable("this plane has no sealer (occistack.secret_key): it cannot keep an API key's secret")
    return sealer
