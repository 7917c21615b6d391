"""The OIDC issuers a site trusts: their settings, and what is fetched from them and kept.

Each issuer is configured in the ini file under a short name::

    occistack.oidc.issuers = egi
    occistack.oidc.egi.issuer = https://aai.egi.eu/auth/realms/egi
    occistack.oidc.egi.audience = https://occi.example.org

Its discovery document is fetched on the first token it signed (a site starts even when an
issuer is down), then its JWKS. The keys are kept and fetched again only when a token names a
key id they do not have -- how an issuer's key rotation shows -- at most once every
``key_refresh_seconds`` (so forged key ids cannot make the server hammer the issuer), and when
they are older than ``keys_max_age_seconds`` (so a key the issuer withdrew stops working).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import requests
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from occistack.federation.errors import CredentialRefused, IssuerUnavailable

log = logging.getLogger(__name__)

#: Asymmetric algorithms only: "none" proves nothing, and an HMAC (HS256…) would need a secret
#: shared with the issuer -- the classic attack signs with the issuer's *public* key as one.
DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REFUSED_ALGORITHMS = frozenset(("none", "HS256", "HS384", "HS512"))
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_PREFIX = "occistack.oidc."

#: A JSON document fetched from an issuer: ``fetch_json(url) -> dict``.
FetchJson = Callable[[str], dict]


@dataclass(frozen=True, slots=True)
class IssuerSettings:
    name: str
    #: exactly as the issuer writes its ``iss`` claim.
    issuer: str
    #: what this site's tokens carry in ``aud``: one of these must be there.
    audiences: tuple[str, ...]
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    #: where the discovery document is, if not at the standard place below the issuer URL.
    discovery_url: str | None = None
    #: when set, opaque (non-JWT) tokens are checked at the issuer's introspection endpoint,
    #: authenticating as this client.
    introspection_client_id: str | None = None
    introspection_client_secret: str | None = field(default=None, repr=False)
    #: when true, the claims of the issuer's userinfo endpoint are added to a token's (EGI
    #: Check-in puts entitlements there, not in its access tokens), and an opaque token the
    #: userinfo endpoint accepts is valid.
    userinfo: bool = False
    entitlements_claim: str = "eduperson_entitlement"
    groups_claim: str = "groups"
    leeway_seconds: int = 30
    key_refresh_seconds: float = 10.0
    keys_max_age_seconds: float = 3600.0
    timeout_seconds: float = 5.0

    @property
    def discovery_document_url(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def introspects(self) -> bool:
        return self.introspection_client_id is not None


_OPTIONS = {
    "issuer": "the issuer URL, as in its tokens' iss",
    "audience": "the audiences this site accepts, separated by spaces",
    "algorithms": "the signature algorithms accepted (default: " + " ".join(DEFAULT_ALGORITHMS) + ")",
    "discovery_url": "where the discovery document is (default: <issuer>/.well-known/openid-configuration)",
    "introspection_client_id": "the client this site introspects opaque tokens as",
    "introspection_client_secret": "that client's secret",
    "userinfo": "true to read claims from the userinfo endpoint",
    "entitlements_claim": "the claim with entitlements (default eduperson_entitlement)",
    "groups_claim": "the claim with groups (default groups)",
    "leeway_seconds": "the clock skew tolerated in exp, nbf and iat (default 30)",
    "key_refresh_seconds": "the least time between two fetches of the keys (default 10)",
    "keys_max_age_seconds": "how long fetched keys are used before fetching them again (default 3600)",
    "timeout_seconds": "how long a request to the issuer may take (default 5)",
}


class IssuerSettingsError(ValueError):
    """The ini file's OIDC settings cannot be used; the message names the setting."""


def issuers_from_settings(settings: Mapping[str, Any]) -> tuple[IssuerSettings, ...]:
    names = str(settings.get(_PREFIX + "issuers", "") or "").split()
    for key in settings:
        if key.startswith(_PREFIX) and key != _PREFIX + "issuers":
            name, _, option = key[len(_PREFIX):].partition(".")
            if name not in names:
                raise IssuerSettingsError(f"{key}: the issuer {name!r} is not listed in {_PREFIX}issuers "
                                          f"({' '.join(names) or 'empty'})")
            if option not in _OPTIONS:
                raise IssuerSettingsError(f"{key}: unknown option {option!r}; an issuer has: " + "; ".join(
                    f"{option} ({meaning})" for option, meaning in _OPTIONS.items()))
    return tuple(_issuer(name, settings) for name in names)


def _issuer(name: str, settings: Mapping[str, Any]) -> IssuerSettings:
    def option(key: str, default: Any = None) -> Any:
        value = settings.get(f"{_PREFIX}{name}.{key}")
        return default if value is None or str(value).strip() == "" else str(value).strip()

    def number(key: str, default: float) -> float:
        value = option(key, default)
        try:
            return float(value)
        except ValueError:
            raise IssuerSettingsError(f"{_PREFIX}{name}.{key} must be a number of seconds, not {value!r}") from None

    if not _NAME.fullmatch(name):
        raise IssuerSettingsError(f"{_PREFIX}issuers: {name!r} is not usable as an issuer name (letters, digits, "
                                  "'.', '-', '_', at most 32)")
    issuer = option("issuer")
    if not issuer:
        raise IssuerSettingsError(f"{_PREFIX}{name}.issuer is required: the issuer URL, as in its tokens' iss")
    audiences = tuple((option("audience") or "").split())
    if not audiences:
        raise IssuerSettingsError(f"{_PREFIX}{name}.audience is required: the audience (aud) the tokens meant for "
                                  "this site carry; without it a token issued for any other service would do")
    algorithms = tuple((option("algorithms") or " ".join(DEFAULT_ALGORITHMS)).split())
    refused = sorted(set(algorithms) & REFUSED_ALGORITHMS)
    if refused:
        raise IssuerSettingsError(f"{_PREFIX}{name}.algorithms: {', '.join(refused)} cannot be accepted (no "
                                  f"signature, or a secret shared with the issuer); use of {' '.join(DEFAULT_ALGORITHMS)}")
    unknown = sorted(set(algorithms) - set(DEFAULT_ALGORITHMS))
    if unknown:
        raise IssuerSettingsError(f"{_PREFIX}{name}.algorithms: unknown {', '.join(unknown)}; use of "
                                  f"{' '.join(DEFAULT_ALGORITHMS)}")
    client_id, secret = option("introspection_client_id"), option("introspection_client_secret")
    if (client_id is None) != (secret is None):
        raise IssuerSettingsError(f"{_PREFIX}{name}: introspection needs both introspection_client_id and "
                                  "introspection_client_secret")
    userinfo = (option("userinfo") or "false").lower()
    if userinfo not in ("true", "false", "yes", "no", "1", "0"):
        raise IssuerSettingsError(f"{_PREFIX}{name}.userinfo must be true or false, not {userinfo!r}")
    return IssuerSettings(
        name=name, issuer=issuer, audiences=audiences, algorithms=algorithms,
        discovery_url=option("discovery_url"),
        introspection_client_id=client_id, introspection_client_secret=secret,
        userinfo=userinfo in ("true", "yes", "1"),
        entitlements_claim=option("entitlements_claim", "eduperson_entitlement"),
        groups_claim=option("groups_claim", "groups"),
        leeway_seconds=int(number("leeway_seconds", 30)),
        key_refresh_seconds=number("key_refresh_seconds", 10),
        keys_max_age_seconds=number("keys_max_age_seconds", 3600),
        timeout_seconds=number("timeout_seconds", 5),
    )


def http_fetcher(timeout: float) -> FetchJson:
    def fetch_json(url: str) -> dict:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        return document

    return fetch_json


class TrustedIssuer:
    """One issuer's settings, and its discovery document and keys once fetched."""

    def __init__(self, settings: IssuerSettings, fetch_json: FetchJson | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._fetch_json = fetch_json or http_fetcher(settings.timeout_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._keys: tuple[Key, ...] = ()
        self._keys_fetched_at: float | None = None

    def metadata(self) -> dict:
        """The discovery document (fetched once; a failure is retried with the next token)."""
        if self._metadata is None:
            with self._lock:
                if self._metadata is None:
                    document = self._fetch(self.settings.discovery_document_url, "discovery document")
                    if document.get("issuer") != self.settings.issuer:
                        raise IssuerUnavailable(
                            f"the discovery document at {self.settings.discovery_document_url} names the issuer "
                            f"{document.get('issuer')!r}, not {self.settings.issuer!r} as this site is configured; "
                            "the site's administrators must fix occistack.oidc."
                            f"{self.settings.name}.issuer")
                    self._metadata = document
        return self._metadata

    def endpoint(self, name: str) -> str | None:
        value = self.metadata().get(name)
        return value if isinstance(value, str) and value else None

    def key(self, kid: str | None, alg: str) -> Key:
        """The key that verifies a token with header ``kid`` and ``alg``; the keys are fetched
        again when they do not have it, or are old."""
        now = self._clock()
        if self._keys_fetched_at is None:
            self._refresh_keys(now, force=True)
        elif now - self._keys_fetched_at > self.settings.keys_max_age_seconds:
            try:
                self._refresh_keys(now, force=True)
            except IssuerUnavailable as error:
                # Keys a little too old beat no keys at all while the issuer is down; ask again
                # after key_refresh_seconds, not on every token.
                log.warning("keeping the old keys of %s: %s", self.settings.issuer, error.message)
                self._keys_fetched_at = now - self.settings.keys_max_age_seconds + self.settings.key_refresh_seconds
        key = self._pick(kid, alg)
        if key is None and self._refresh_keys(now, force=False):
            key = self._pick(kid, alg)
        if key is None:
            published = ", ".join(sorted(repr(key.kid) for key in self._keys)) or "none"
            raise CredentialRefused(
                f"the token is signed with a key ({'kid ' + repr(kid) if kid else 'no kid'}) that the issuer "
                f"{self.settings.issuer} does not publish (its keys: {published}); a forged or very old token")
        return key

    def _pick(self, kid: str | None, alg: str) -> Key | None:
        if kid is not None:
            return next((key for key in self._keys if key.kid == kid), None)
        # No kid: usable only when the issuer has one key of the right type.
        wanted = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}.get(alg[:2])
        candidates = [key for key in self._keys if key.key_type == wanted]
        return candidates[0] if len(candidates) == 1 else None

    def _refresh_keys(self, now: float, force: bool) -> bool:
        """Fetch the JWKS again; without ``force`` only if the last fetch is old enough."""
        jwks_uri = self.endpoint("jwks_uri")  # before taking the lock, which metadata() takes too
        if jwks_uri is None:
            raise IssuerUnavailable(f"the issuer {self.settings.issuer} publishes no jwks_uri in its discovery "
                                    "document, so its tokens' signatures cannot be checked")
        with self._lock:
            if (not force and self._keys_fetched_at is not None
                    and now - self._keys_fetched_at < self.settings.key_refresh_seconds):
                return False
            document = self._fetch(jwks_uri, "keys (JWKS)")
            self._keys = _signing_keys(document, jwks_uri)
            self._keys_fetched_at = now
            log.info("fetched the keys of %s: %s", self.settings.issuer,
                     ", ".join(repr(key.kid) for key in self._keys) or "none")
            return True

    def _fetch(self, url: str, what: str) -> dict:
        try:
            return self._fetch_json(url)
        except (requests.RequestException, ValueError) as error:
            raise IssuerUnavailable(f"cannot fetch the {what} of the issuer {self.settings.issuer} from {url} "
                                    f"({error.__class__.__name__}); try again shortly") from None


def _signing_keys(document: dict, where: str) -> tuple[Key, ...]:
    keys: list[Key] = []
    for entry in document.get("keys", []) if isinstance(document.get("keys"), list) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = JWKRegistry.import_key(entry)
        except (JoseError, ValueError, TypeError) as error:
            log.warning("ignoring a key of %s that cannot be read: %s", where, error)
            continue
        if key.is_private:
            log.warning("%s publishes a private key (kid %s); ignoring it", where, entry.get("kid"))
            continue
        keys.append(key)
    return tuple(keys)
