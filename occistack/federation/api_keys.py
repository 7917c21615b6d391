"""API keys as a credential: checking a request signed with a user's secret, for any face that
takes such signatures (the CloudStack and EC2 faces to come). Face-neutral: the face builds the
string its protocol signs -- :func:`cloudstack_string_to_sign` does CloudStack's -- and hands it
here with the access key, the signature and the algorithm.

A signature is an HMAC (SHA-1 or SHA-256) of that string under the key's secret, sent in base64
(SHA-256 also in hex). The secret is stored sealed with the site's key; the verifier is given
the function that opens it (the plane's sealer), so this layer needs nothing above the model.
The key's row is read on every request -- one indexed query -- so a revoked key, or a disabled
user, account or domain (``model.may_sign_in``), is refused at once in every server. When the
key was last used is written at most once a minute.

Whether a request is fresh (CloudStack's ``expires``, EC2's ``Timestamp``) is the face's to
check: it is part of what the face's protocol signs, not of the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Callable, Iterable
from urllib.parse import quote

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from occistack.model import ApiKey, User, may_sign_in, utcnow
from occistack.model.session import read_only_session
from occistack.federation.errors import CredentialRefused, IssuerUnavailable
from occistack.federation.identity import Identity

#: Longer than any access key this site makes (20 characters) or the column holds: refused unread.
LONGEST_ACCESS_KEY = 64
#: How often the last use of a key is written, at most.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class SignatureAlgorithm(StrEnum):
    """The HMACs a signature may be, in the names EC2's ``SignatureMethod`` uses."""

    HMAC_SHA1 = "HmacSHA1"
    HMAC_SHA256 = "HmacSHA256"


_DIGESTS = {SignatureAlgorithm.HMAC_SHA1: hashlib.sha1, SignatureAlgorithm.HMAC_SHA256: hashlib.sha256}


class ApiKeyRefused(CredentialRefused):
    """A signed request that proves nothing: an unknown or revoked key, a wrong signature, or a
    key whose user may not sign in."""


@dataclass(frozen=True, slots=True)
class SignedRequest:
    access_key: str
    #: exactly the text the client signed (the face's canonical form of the request).
    string_to_sign: str
    #: as the client sent it, URL-decoded: base64 (or, for SHA-256, hex).
    signature: str
    algorithm: SignatureAlgorithm = SignatureAlgorithm.HMAC_SHA1


def cloudstack_string_to_sign(parameters: Iterable[tuple[str, str]]) -> str:
    """The text a CloudStack client signs, from the request's parameters (URL-decoded, in any
    order; a repeated name counts with its first value, as CloudStack reads it): every
    parameter but ``signature``, sorted by name as sent, each ``name=value`` with the value
    URL-encoded as Java's URLEncoder does it but with spaces as %20, joined with "&", and the
    whole lower-cased."""
    first: dict[str, str] = {}
    for name, value in parameters:
        if name.lower() != "signature":
            first.setdefault(name, value)
    return "&".join(f"{name}={_java_url_encoded(first[name])}" for name in sorted(first)).lower()


def _java_url_encoded(value: str) -> str:
    # URLEncoder leaves letters, digits and ". - * _" alone and encodes "~" (Python's quote does
    # not); CloudStack then writes its "+" for a space as %20, which quote does already.
    return quote(value, safe="*").replace("~", "%7E")


def sign(secret: str, string_to_sign: str, algorithm: SignatureAlgorithm = SignatureAlgorithm.HMAC_SHA1) -> str:
    """The base64 signature of ``string_to_sign`` under ``secret``: what a client sends."""
    return base64.b64encode(_mac(secret, string_to_sign, algorithm)).decode("ascii")


def _mac(secret: str, string_to_sign: str, algorithm: SignatureAlgorithm) -> bytes:
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), _DIGESTS[algorithm]).digest()


class ApiKeyVerifier:
    """Checks signed requests against the users' API keys. ``open_secret`` turns a sealed
    secret back into the secret (the plane's ``Sealer.open``); ``clock`` gives naive UTC."""

    def __init__(self, engine: Engine, open_secret: Callable[[str], str],
                 clock: Callable[[], datetime] = utcnow):
        self._engine = engine
        self._open_secret = open_secret
        self._clock = clock

    def verify(self, signed: SignedRequest) -> Identity:
        """The identity of the key's user, or ApiKeyRefused saying why the request proves nothing."""
        algorithm = _algorithm(signed.algorithm)
        sent = _decoded_signature(signed.signature, algorithm)
        if not signed.access_key or len(signed.access_key) > LONGEST_ACCESS_KEY:
            raise ApiKeyRefused(f"the access key must be 1 to {LONGEST_ACCESS_KEY} characters long")
        with read_only_session(self._engine) as session:
            row = session.execute(
                select(ApiKey.id, ApiKey.sealed_secret, ApiKey.revoked_at, ApiKey.last_used_at, User.id.label("user_id"),
                       User.name, User.project_id, User.role, may_sign_in().label("may_sign_in"))
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.access_key == signed.access_key)).one_or_none()
        if row is None:
            raise ApiKeyRefused(f"no API key {signed.access_key!r} at this site")
        if row.revoked_at is not None or row.sealed_secret is None:
            when = f" at {row.revoked_at:%Y-%m-%dT%H:%M:%SZ}" if row.revoked_at is not None else ""
            raise ApiKeyRefused(f"the API key {signed.access_key!r} was revoked{when}; ask for a new one")
        if not row.may_sign_in:
            raise ApiKeyRefused(f"the user {row.name!r} of API key {signed.access_key!r} is disabled at this site "
                                "(or their account or domain is); ask its administrators")
        try:
            secret = self._open_secret(row.sealed_secret)
        except Exception:  # the sealer's own error lives in the plane, which this layer cannot name
            raise IssuerUnavailable("this site cannot open its record of the API key's secret (was its secret key "
                                    "changed?); its administrators can tell") from None
        if not hmac.compare_digest(_mac(secret, signed.string_to_sign, algorithm), sent):
            raise ApiKeyRefused(f"the signature does not match the request: sign the request's canonical text with "
                                f"the secret of API key {signed.access_key!r} ({algorithm.value}, base64)")
        self._note_use(row.id, row.last_used_at)
        return Identity(row.user_id, row.name, row.project_id, "api-key", row.role)

    def _note_use(self, key_id: int, last_used_at: datetime | None) -> None:
        now = self._clock()
        if last_used_at is not None and now - last_used_at < LAST_USE_RESOLUTION:
            return
        # Conditional, so that the servers of a busy key write it once a minute between them.
        with self._engine.begin() as connection:
            connection.execute(update(ApiKey).where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USE_RESOLUTION))
                .values(last_used_at=now))


def _algorithm(algorithm: SignatureAlgorithm | str) -> SignatureAlgorithm:
    try:
        return SignatureAlgorithm(algorithm)
    except ValueError:
        raise ApiKeyRefused(f"unknown signature method {str(algorithm)[:40]!r}; this site accepts "
                            f"{', '.join(method.value for method in SignatureAlgorithm)}") from None


def _decoded_signature(signature: str, algorithm: SignatureAlgorithm) -> bytes:
    length = _DIGESTS[algorithm]().digest_size
    text = signature.strip()
    if algorithm is SignatureAlgorithm.HMAC_SHA256 and len(text) == 2 * length:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != length:
        raise ApiKeyRefused(f"the signature must be the base64 of a {length}-byte {algorithm.value} digest")
    return decoded
