"""Users' API key pairs: an access key that names the pair in each request, and a secret that
signs it (the CloudStack and EC2 faces' HMAC signatures).

The server must compute the same HMAC as the client, so it needs the secret itself, not a hash
of it: the secret is sealed with the site's key (plane/sealing.py) and handed to whoever created
the pair exactly once. A revoked pair keeps its row -- who held it, when it was made and last
used -- and loses its secret, so nothing can sign with it again. A user holds at most
MAX_ACTIVE_KEYS pairs at a time: two, enough to roll a key over (make the new one, move the
clients, revoke the old one) without an outage.
"""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import ApiKey, User, utcnow
from occistack.plane.admin.common import SYSTEM, Actor, Ref, count, is_id, project_of, record_change
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.sealing import Sealer

MAX_ACTIVE_KEYS = 2
#: An access key: "OS" and 18 upper-case letters and digits (20 characters, as an EC2 access key
#: id has; both faces take any text up to 64 characters as the key).
ACCESS_KEY_PREFIX = "OS"
_ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits
_ACCESS_KEY_RANDOM = 18
#: 30 random bytes: 40 characters of urlsafe base64, as long as an EC2 secret access key.
_SECRET_BYTES = 30


def new_access_key() -> str:
    return ACCESS_KEY_PREFIX + "".join(secrets.choice(_ACCESS_KEY_ALPHABET) for _ in range(_ACCESS_KEY_RANDOM))


def new_secret() -> str:
    return secrets.token_urlsafe(_SECRET_BYTES)


def create_api_key(session: Session, user: User, *, sealer: Sealer, actor: Actor = SYSTEM) -> tuple[ApiKey, str]:
    """A new pair for ``user``, and its secret (to be shown once, never stored in the clear).
    The user's row is locked first, so that two creates at once cannot pass the limit together."""
    session.scalar(select(User.id).where(User.id == user.id).with_for_update())
    active = count(session, ApiKey, ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
    if active >= MAX_ACTIVE_KEYS:
        raise Conflict(f"user {user.name!r} already holds {active} API keys, the most a user may hold at once; "
                       "revoke one first (a key is rolled over by creating the new one, then revoking the old)")
    secret = new_secret()
    key = ApiKey(user_id=user.id, access_key=new_access_key(), sealed_secret=sealer.seal(secret))
    session.add(key)
    session.flush()
    record_change(session, actor, "api_key.create", "api_key", key.id,
                  f"API key {key.access_key} of user {user.name!r}", project_id=project_of(user))
    return key, secret


def find_api_key(session: Session, key: Ref) -> ApiKey:
    """A pair by id, or by its access key. (A miss lists nothing: the keys are not for browsing.)"""
    if is_id(key):
        found = session.get(ApiKey, key)
        if found is None:
            raise NotFound(f"no API key with id {key}")
        return found
    if not isinstance(key, str) or not key:
        raise InvalidRequest("name the API key by its access key or id")
    found = session.scalar(select(ApiKey).where(ApiKey.access_key == key))
    if found is None:
        raise NotFound(f"no API key {key[:64]!r}")
    return found


def list_api_keys(session: Session, *, user: User | None = None, include_revoked: bool = True) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.user_id, ApiKey.created_at, ApiKey.id)
    if user is not None:
        query = query.where(ApiKey.user_id == user.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_api_key(session: Session, key: ApiKey, *, actor: Actor = SYSTEM, now: datetime | None = None) -> ApiKey:
    """Revoke a pair: its secret is erased, so no request signed with it is accepted again.
    Revoking a revoked pair changes and records nothing, so scripts may repeat it."""
    if key.revoked_at is not None:
        return key
    key.revoked_at = now or utcnow()
    key.sealed_secret = None
    session.flush()
    owner = session.get(User, key.user_id)
    record_change(session, actor, "api_key.revoke", "api_key", key.id,
                  f"API key {key.access_key} of user {owner.name!r}", project_id=project_of(owner))
    return key
