"""The tokens of the built-in Keystone-compatible token service: issued, read, and turned into
the identity of an OCCI request.

A token is a Fernet token (AES-128-CBC and HMAC-SHA256, the format Keystone itself has issued
by default since Pike) that carries who it is for, the project it is scoped to if any, how its
owner authenticated and until when it is valid. Nothing is stored: any management server of
the site that holds the same key reads it, with no database write and no network. The key is
derived from the site's secret key (``occistack.secret_key``), so changing that key ends every
token at once.

Stateless tokens cannot be revoked one by one before they expire; what they grant is checked
again instead. A token names a user and a project, never a role: each time a token is read
for a request (then remembered for ``occistack.auth.cache_seconds`` at most), the user must
still exist, be enabled and hold a role in the project, and the role is the one held now.
Disabling a user or moving them out of the project therefore ends their tokens within that
time. ``occistack.keystone.token_lifetime_seconds`` bounds the rest (default one hour, as
Keystone's).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import orjson
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from occistack.federation.projects import project_roles
from occistack.model import User, may_sign_in
from occistack.model.session import read_only_session
from occistack.federation.errors import KeystoneTokenRefused
from occistack.federation.identity import Identity
from occistack.federation.local import CredentialCache

#: Longer than any token this service issues (about 200 characters); refused unread.
LONGEST_TOKEN = 1024
#: Keeps keys derived for other purposes from the same secret apart from this one.
_KEY_PURPOSE = b"occistack keystone-compatible tokens v1"


@dataclass(frozen=True, slots=True)
class TokenContent:
    user_id: int
    #: None for an unscoped token, which can list projects and be exchanged for a scoped one,
    #: but opens no OCCI request.
    project_id: int | None
    #: how the owner authenticated, in Keystone's words ("openid", "mapped", "token", …).
    methods: tuple[str, ...]
    issued_at: float
    expires_at: float
    #: names the chain of tokens issued from one authentication (Keystone's audit ids).
    audit_id: str

    @property
    def scoped(self) -> bool:
        return self.project_id is not None


def derive_token_key(site_secret: bytes) -> bytes:
    """The Fernet key of the tokens, from the site's secret key."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_PURPOSE).derive(site_secret)
    return base64.urlsafe_b64encode(derived)


class TokenService:
    """Issues and reads tokens; ``lifetime`` seconds for a token of a fresh authentication."""

    def __init__(self, key: bytes, lifetime: float, clock: Callable[[], float] = time.time):
        self._fernet = Fernet(key)
        self.lifetime = lifetime
        self._clock = clock

    def issue(self, user_id: int, project_id: int | None, methods: tuple[str, ...], *,
              expires_at: float | None = None, audit_id: str | None = None) -> tuple[str, TokenContent]:
        """A new token; ``expires_at`` and ``audit_id`` carry over from the token it is exchanged
        for (a scoped token never outlives the unscoped one it came from)."""
        # Whole seconds, as the token carries them: what is issued is what is read back.
        now = float(int(self._clock()))
        expires_at = float(int(expires_at if expires_at is not None else now + self.lifetime))
        content = TokenContent(user_id, project_id, tuple(methods), now, expires_at, audit_id or _audit_id())
        payload = orjson.dumps({"u": content.user_id, "p": content.project_id, "m": list(content.methods),
                                "i": int(content.issued_at), "e": int(content.expires_at), "a": content.audit_id})
        return self._fernet.encrypt_at_time(payload, int(now)).decode("ascii"), content

    def read(self, token: str) -> TokenContent:
        """What a token says, or KeystoneTokenRefused saying why it says nothing."""
        if len(token) > LONGEST_TOKEN:
            raise KeystoneTokenRefused(f"the token is {len(token)} characters long; no token of this site is longer "
                                       f"than {LONGEST_TOKEN}")
        try:
            payload = orjson.loads(self._fernet.decrypt(token.encode("ascii")))
            content = TokenContent(int(payload["u"]), None if payload["p"] is None else int(payload["p"]),
                                   tuple(payload["m"]), float(payload["i"]), float(payload["e"]), str(payload["a"]))
        except (InvalidToken, UnicodeError, ValueError, KeyError, TypeError):
            raise KeystoneTokenRefused("the token was not issued by this site's token service, or was altered "
                                       "(or the site's secret key changed since); get a new one") from None
        now = self._clock()
        if content.expires_at <= now:
            raise KeystoneTokenRefused(f"the token expired at {isotime(content.expires_at)} "
                                       f"({int(now - content.expires_at)} s ago); get a new one")
        return content


def _audit_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def isotime(timestamp: float) -> str:
    """Keystone's way of writing a time: UTC, microseconds, Z."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- who the token is of -----------------------------------------------------------------------------

def user_name(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.name).where(User.id == user_id, may_sign_in()))


# --- X-Auth-Token on OCCI requests -------------------------------------------------------------------

class BuiltinTokenAuthenticator:
    """A token of the built-in service → the identity of an OCCI request: a project-scoped
    token of a user who still holds a role in its project."""

    def __init__(self, tokens: TokenService, cache: CredentialCache, clock: Callable[[], float] = time.time):
        self.tokens = tokens
        self.cache = cache
        self._clock = clock

    def cached(self, token: str) -> Identity | None:
        return self.cache.get(self.cache.token_key(token, "keystone-token"))

    def identify(self, token: str, engine: Engine) -> Identity:
        key = self.cache.token_key(token, "keystone-token")
        identity = self.cache.get(key)
        if identity is not None:
            return identity
        content = self.tokens.read(token)
        if not content.scoped:
            raise KeystoneTokenRefused("the token is not scoped to a project, so it opens no OCCI request; exchange "
                                       "it for a project-scoped one (v3: POST /v3/auth/tokens with the token method "
                                       "and a project scope; v2.0: POST /v2.0/tokens with the token and a tenantName)")
        with read_only_session(engine) as session:
            held = [entry for entry in project_roles(session, content.user_id)
                    if entry.project_id == content.project_id]
            name = user_name(session, content.user_id)
        if name is None:
            raise KeystoneTokenRefused("the token's user no longer exists or is disabled at this site")
        if not held:
            raise KeystoneTokenRefused(f"the token's user {name!r} no longer holds a role in the project (id "
                                       f"{content.project_id}) the token is scoped to; get a token for a project "
                                       "it holds a role in")
        identity = Identity(content.user_id, name, content.project_id, "keystone", held[0].role)
        self.cache.put(key, identity, lifetime=content.expires_at - self._clock())
        return identity
