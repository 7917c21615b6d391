"""OIDC bearer tokens: validated, read into a federated identity, mapped, provisioned, remembered.

A JWT access token is checked here, with no call to its issuer once the issuer's keys are
known: the signature (with the issuer's published key of the token's ``kid``, by an algorithm
the site accepts -- never ``none`` or an HMAC), the issuer, the audience, expiry, not-before and
issued-at (with the issuer's leeway). An opaque token is sent to the introspection endpoint of
an issuer that has one configured, or to the userinfo endpoint of one that allows it.

Validation is done once per token: the resulting local identity is remembered (keyed by a keyed
hash of the token, never the token) until the token expires or ``occistack.auth.cache_seconds``
pass, whichever is first, so repeated requests cost a dictionary lookup.

JWT validation uses joserfc, the JOSE implementation of the authlib project (authlib's own
``authlib.jose`` is deprecated in its favour); introspection uses authlib's OAuth 2 client.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.engine import Engine

from occistack.federation.errors import CredentialRefused, IssuerUnavailable
from occistack.federation.identity import (
    FederatedIdentity,
    Identity,
    Membership,
    membership_from_entitlement,
    membership_from_group,
)
from occistack.federation.local import CredentialCache
from occistack.federation.mapping import MappingRules
from occistack.federation.oidc_issuers import TrustedIssuer
from occistack.federation.provisioning import provision

#: Longer than any access token we have seen (EGI Check-in's are ~1.5 kB); refused unread.
LONGEST_TOKEN = 16 * 1024


class TokenValidator:
    """Bearer token → FederatedIdentity, or CredentialRefused / IssuerUnavailable saying why."""

    def __init__(self, issuers: Iterable[TrustedIssuer], clock: Callable[[], float] = time.time):
        self.issuers = tuple(issuers)
        self._by_issuer = {issuer.settings.issuer: issuer for issuer in self.issuers}
        self._clock = clock

    def validate(self, token: str) -> FederatedIdentity:
        if not self.issuers:
            raise CredentialRefused("this site trusts no OIDC issuer, so it accepts no bearer token; authenticate "
                                    "with HTTP Basic")
        if len(token) > LONGEST_TOKEN:
            raise CredentialRefused(f"the bearer token is {len(token)} characters long; no access token is "
                                    f"longer than {LONGEST_TOKEN}")
        if token.count(".") == 2:
            return self._validate_jwt(token)
        return self._validate_opaque(token)

    # --- JWT -----------------------------------------------------------------------------------------

    def _validate_jwt(self, token: str) -> FederatedIdentity:
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.headers()
            unverified = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError) as error:
            raise CredentialRefused(f"the bearer token looks like a JWT but is not a well-formed one ({_why(error)}); "
                                    "send the access token exactly as the issuer gave it") from None
        if not isinstance(unverified, dict):
            raise CredentialRefused("the bearer token's payload is not a JSON object of claims")
        issuer = self._by_issuer.get(unverified.get("iss"))
        if issuer is None:
            raise CredentialRefused(f"the token was issued by {unverified.get('iss')!r}, which this site does not "
                                    f"trust; it accepts tokens of: {self._trusted()}")
        settings = issuer.settings
        alg = header.get("alg")
        if alg not in settings.algorithms:
            raise CredentialRefused(f"the token is signed with the algorithm {alg!r}, which this site does not accept "
                                    f"from {settings.issuer}; accepted: {', '.join(settings.algorithms)}")
        kid = header.get("kid")
        key = issuer.key(kid if isinstance(kid, str) else None, alg)
        try:
            verified = jws.validate_compact(compact, key, algorithms=[alg])
        except JoseError as error:
            raise CredentialRefused(f"the token's key {kid!r} cannot verify {alg} signatures ({_why(error)})") from None
        if not verified:
            raise CredentialRefused(f"the token's signature does not verify with the key {kid!r} of "
                                    f"{settings.issuer}: the token was altered or forged")
        claims = unverified
        self._check_claims(issuer, claims)
        if settings.userinfo:
            claims = _with_userinfo(claims, self._userinfo(issuer, token, required=False), settings.issuer)
        return identity_from_claims(issuer, claims)

    def _check_claims(self, issuer: TrustedIssuer, claims: dict[str, Any]) -> None:
        settings = issuer.settings
        now = int(self._clock())
        registry = JWTClaimsRegistry(
            now=now, leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "values": list(settings.audiences)},
            exp={"essential": True})
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise CredentialRefused(f"the token expired at {_when(claims['exp'])} ({now - int(claims['exp'])} s ago); "
                                    f"get a new one from {settings.issuer}") from None
        except MissingClaimError as error:
            raise CredentialRefused(f"the token lacks the claim {error.claim!r}; this site accepts only tokens "
                                    "that say who issued them (iss), for whom (aud) and until when (exp)") from None
        except ClaimError as error:
            raise CredentialRefused(self._claim_problem(settings, claims, error.claim, now)) from None

    @staticmethod
    def _claim_problem(settings, claims: dict[str, Any], claim: str, now: int) -> str:
        value = claims.get(claim)
        if claim == "aud":
            return (f"the token is meant for the audience {value!r}, not for this site, which accepts "
                    f"{', '.join(settings.audiences)}; ask {settings.issuer} for a token for one of these")
        if claim == "nbf" and isinstance(value, (int, float)):
            return f"the token is not valid before {_when(value)} (in {int(value) - now} s); use it then"
        if claim == "iat" and isinstance(value, (int, float)):
            return (f"the token claims to have been issued at {_when(value)}, {int(value) - now} s in the future; "
                    "check the clocks")
        return f"the token's claim {claim!r} has a value this site cannot accept: {value!r}"

    # --- opaque tokens ---------------------------------------------------------------------------------

    def _validate_opaque(self, token: str) -> FederatedIdentity:
        checking = [issuer for issuer in self.issuers if issuer.settings.introspects or issuer.settings.userinfo]
        if not checking:
            raise CredentialRefused(f"the bearer token is not a JWT, and no issuer this site trusts is configured "
                                    f"to check opaque tokens; send a JWT access token of: {self._trusted()}")
        refusals = []
        for issuer in checking:
            try:
                if issuer.settings.introspects:
                    claims = self._introspect(issuer, token)
                else:
                    claims = self._userinfo(issuer, token, required=True)
                    claims.setdefault("iss", issuer.settings.issuer)
                return identity_from_claims(issuer, claims)
            except CredentialRefused as refusal:
                refusals.append(refusal.message)
        raise CredentialRefused("the opaque bearer token was not accepted: " + "; ".join(refusals))

    def _introspect(self, issuer: TrustedIssuer, token: str) -> dict[str, Any]:
        settings = issuer.settings
        endpoint = issuer.endpoint("introspection_endpoint")
        if endpoint is None:
            raise IssuerUnavailable(f"{settings.issuer} has no introspection_endpoint in its discovery document; "
                                    f"the site's occistack.oidc.{settings.name}.introspection_* settings need one")
        client = OAuth2Session(settings.introspection_client_id, settings.introspection_client_secret,
                               token_endpoint_auth_method="client_secret_basic")
        try:
            with client:
                response = client.introspect_token(endpoint, token=token, timeout=settings.timeout_seconds)
                response.raise_for_status()
                answer = response.json()
        except (requests.RequestException, ValueError) as error:
            raise IssuerUnavailable(f"cannot introspect the token at {endpoint} ({error.__class__.__name__}); "
                                    "try again shortly") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise CredentialRefused(f"{settings.issuer} says the token is not active (expired, revoked or never "
                                    "issued by it)")
        if answer.get("iss") not in (None, settings.issuer):
            raise CredentialRefused(f"{settings.issuer}'s introspection names another issuer, {answer['iss']!r}")
        audiences = answer.get("aud")
        if audiences is not None:
            audiences = audiences if isinstance(audiences, list) else [audiences]
            if not set(audiences) & set(settings.audiences):
                raise CredentialRefused(f"the token is meant for the audience {answer.get('aud')!r}, not for this "
                                        f"site, which accepts {', '.join(settings.audiences)}")
        expires = answer.get("exp")
        if isinstance(expires, (int, float)) and expires <= self._clock() - settings.leeway_seconds:
            raise CredentialRefused(f"the token expired at {_when(expires)}; get a new one from {settings.issuer}")
        answer.setdefault("iss", settings.issuer)
        if settings.userinfo:
            answer = _with_userinfo(answer, self._userinfo(issuer, token, required=False), settings.issuer)
        return answer

    def _userinfo(self, issuer: TrustedIssuer, token: str, required: bool) -> dict[str, Any]:
        """The userinfo claims of the token's owner. ``required``: the answer decides whether the
        token is valid at all (an opaque token without introspection)."""
        settings = issuer.settings
        endpoint = issuer.endpoint("userinfo_endpoint")
        if endpoint is None:
            raise IssuerUnavailable(f"{settings.issuer} has no userinfo_endpoint in its discovery document; the "
                                    f"site's occistack.oidc.{settings.name}.userinfo setting needs one")
        try:
            response = requests.get(endpoint, headers={"Authorization": f"Bearer {token}",
                                                       "Accept": "application/json"},
                                    timeout=settings.timeout_seconds)
        except requests.RequestException as error:
            raise IssuerUnavailable(f"cannot reach the userinfo endpoint {endpoint} ({error.__class__.__name__}); "
                                    "try again shortly") from None
        if response.status_code in (401, 403):
            if required:
                raise CredentialRefused(f"{settings.issuer}'s userinfo endpoint does not accept the token "
                                        f"({response.status_code}): expired, revoked or not its token")
            return {}  # a token for machines (client credentials) has no user to describe
        try:
            response.raise_for_status()
            claims = response.json()
        except (requests.RequestException, ValueError) as error:
            raise IssuerUnavailable(f"the userinfo endpoint {endpoint} answered {response.status_code} "
                                    f"({error.__class__.__name__}); try again shortly") from None
        if not isinstance(claims, dict):
            raise IssuerUnavailable(f"the userinfo endpoint {endpoint} did not answer a JSON object")
        # Userinfo never overrides what the signed token says about whom it is for.
        return {name: value for name, value in claims.items() if name not in ("iss", "aud", "exp", "nbf", "iat")}

    def _trusted(self) -> str:
        return ", ".join(issuer.settings.issuer for issuer in self.issuers)


def _with_userinfo(claims: dict[str, Any], userinfo: dict[str, Any], issuer: str) -> dict[str, Any]:
    """The token's claims with what userinfo adds (entitlements, groups, names). Userinfo must
    describe the token's own subject (OpenID Connect Core §5.3.2) and never replaces it."""
    subject = claims.get("sub") or claims.get("client_id")
    if "sub" in userinfo and subject is not None and userinfo["sub"] != subject:
        raise CredentialRefused(f"{issuer}'s userinfo endpoint describes the subject {userinfo['sub']!r}, but the "
                                f"token is {subject!r}'s; refusing both")
    return {**claims, **{name: value for name, value in userinfo.items() if name not in ("sub", "client_id")}}


def identity_from_claims(issuer: TrustedIssuer, claims: dict[str, Any]) -> FederatedIdentity:
    settings = issuer.settings
    subject = claims.get("sub") or claims.get("client_id")
    if not isinstance(subject, str) or not subject:
        raise CredentialRefused("the token names no subject (sub) nor client (client_id); this site cannot tell "
                                "whose it is")
    entitlements = _strings(claims.get(settings.entitlements_claim))
    groups = _strings(claims.get(settings.groups_claim))
    memberships: list[Membership] = []
    for membership in [*map(membership_from_entitlement, entitlements), *map(membership_from_group, groups)]:
        if membership is not None and membership not in memberships:
            memberships.append(membership)
    name = next((claims[key] for key in ("preferred_username", "name", "email") if isinstance(claims.get(key), str)),
                None)
    expires = claims.get("exp")
    return FederatedIdentity(
        method="oidc", issuer=settings.issuer, source=settings.name, subject=subject,
        memberships=tuple(memberships), entitlements=entitlements, display_name=name,
        expires_at=float(expires) if isinstance(expires, (int, float)) else None)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(float(timestamp), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _why(error: Exception) -> str:
    return getattr(error, "description", None) or str(error) or error.__class__.__name__


class BearerTokenAuthenticator:
    """A bearer token → the local Identity: validated, mapped, provisioned, and remembered."""

    def __init__(self, validator: TokenValidator, rules: MappingRules, cache: CredentialCache,
                 clock: Callable[[], float] = time.time):
        self.validator = validator
        self.rules = rules
        self.cache = cache
        self._clock = clock

    def cached(self, token: str) -> Identity | None:
        """The identity of a token validated within its lifetime and the cache's; no I/O."""
        return self.cache.get(self.cache.token_key(token))

    def identify(self, token: str, engine: Engine) -> Identity:
        key = self.cache.token_key(token)
        identity = self.cache.get(key)
        if identity is not None:
            return identity
        federated = self.validator.validate(token)
        identity = provision(engine, federated, self.rules.grant(federated))
        lifetime = None
        if federated.expires_at is not None:
            lifetime = federated.expires_at - self._clock()
        if lifetime is None or lifetime > 0:
            self.cache.put(key, identity, lifetime=lifetime)
        return identity
