"""Local users authenticated by password (HTTP Basic), and the cache of verified credentials
that every method shares.

argon2 is slow on purpose (tens of milliseconds), far too slow to pay on every request of a
client that sends its password each time, as Basic clients do. A successful verification is
therefore remembered for a short while, keyed by a keyed hash of the credentials so the cache
never holds a password; a wrong password is never cached and always verified.

Tokens (OIDC access tokens, Keystone tokens) are remembered under the token itself. A token is
this site's short-lived credential, not a secret a user shares with other sites, and the cache
keeps it no longer than it is valid; hashing it instead would cost a microsecond on every
request that carries one -- more than the rest of the cached authentication.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import User, may_sign_in
from occistack.federation.identity import Identity
from occistack.federation.passwords import hash_password, verify_password


#: The kinds of token the cache tells apart.
TOKEN_KINDS = ("bearer-token", "keystone-token")


class CredentialCache:
    """Identities of recently verified credentials, for ``ttl`` seconds, at most ``size`` of them."""

    def __init__(self, ttl: float, size: int = 4096, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes | tuple[str, str], tuple[float, Identity]] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self, user_name: str, password: str) -> bytes:
        # Keyed BLAKE2 is a MAC in one call, several times cheaper than HMAC-SHA256.
        return hashlib.blake2b(f"{user_name}\0{password}".encode(), key=self._key, digest_size=32).digest()

    @staticmethod
    def token_key(token: str, kind: str = "bearer-token") -> tuple[str, str]:
        """Where a token's identity is kept: the token itself, with its kind, so that an OIDC
        access token sent as X-Auth-Token never finds a Keystone token's identity, and no user
        name and password (whose keys are bytes) can ever stand for a token."""
        if kind not in TOKEN_KINDS:
            raise ValueError(f"unknown kind of token {kind!r}; known: {', '.join(TOKEN_KINDS)}")
        return kind, token

    def certificate_fingerprint(self, chain) -> bytes:
        """The key of a presented certificate chain (DER certificates, leaf first). The chain is
        public; personalised apart from passwords and tokens, it can only ever find itself."""
        hasher = hashlib.blake2b(key=self._key, digest_size=32, person=b"x509-chain")
        for certificate in chain:
            hasher.update(len(certificate).to_bytes(4, "big"))
            hasher.update(certificate)
        return hasher.digest()

    def get(self, fingerprint: bytes | tuple[str, str]) -> Identity | None:
        if self.ttl <= 0:
            return None
        # A lookup is one atomic dict read (the GIL makes it so), taken without the lock: this
        # runs on every authenticated request. Only removing an expired entry writes.
        entry = self._entries.get(fingerprint)
        if entry is None:
            return None
        expires, identity = entry
        if expires < self._clock():
            with self._lock:
                self._entries.pop(fingerprint, None)
            return None
        return identity

    def put(self, fingerprint: bytes | tuple[str, str], identity: Identity, lifetime: float | None = None) -> None:
        """Remember ``identity`` for ``ttl`` seconds, or ``lifetime`` if that is shorter (a token
        that expires sooner)."""
        if self.ttl <= 0:
            return
        lifetime = self.ttl if lifetime is None else min(self.ttl, lifetime)
        with self._lock:
            self._entries[fingerprint] = (self._clock() + lifetime, identity)
            self._entries.move_to_end(fingerprint)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        self.forget_users({user_id})

    def forget_users(self, user_ids: set[int] | frozenset[int]) -> None:
        with self._lock:
            for fingerprint in [f for f, (_e, i) in self._entries.items() if i.user_id in user_ids]:
                del self._entries[fingerprint]

    def forget_everyone(self) -> None:
        with self._lock:
            self._entries.clear()

    def forget_revoked(self, keys: frozenset[str]) -> None:
        """Forget what the plane revoked (plane/revocations.py): user ids as text, or ``*`` for
        every user."""
        if "*" in keys:
            self.forget_everyone()
        else:
            self.forget_users({int(key) for key in keys if key.isdigit()})


class LocalPasswordSource:
    def __init__(self, cache: CredentialCache):
        self.cache = cache
        # Verified against when the user does not exist, so that an unknown name costs as much
        # time as a wrong password and names cannot be probed by timing.
        self._decoy_hash = hash_password(secrets.token_urlsafe(16))

    def cached(self, user_name: str, password: str) -> Identity | None:
        """The identity of credentials verified within the cache's lifetime, or None."""
        return self.cache.get(self.cache.fingerprint(user_name, password))

    def identify(self, session: Callable[[], Session], user_name: str, password: str) -> Identity | None:
        """``session`` is called only when the credentials are not in the cache: a cached
        request need not open a database session at all."""
        fingerprint = self.cache.fingerprint(user_name, password)
        identity = self.cache.get(fingerprint)
        if identity is not None:
            return identity
        user = session().scalar(select(User).where(User.name == user_name, may_sign_in()))
        if user is None or not user.password_hash:
            verify_password(self._decoy_hash, password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        identity = Identity(user.id, user.name, user.project_id, "password", user.role)
        self.cache.put(fingerprint, identity)
        return identity
