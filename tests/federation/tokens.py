"""An issuer made in the test: keys, a discovery document and a JWKS served by a counting
stand-in for HTTP, and tokens signed the way a provider signs them."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field

import requests
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from occistack.federation import IssuerSettings, TokenValidator, TrustedIssuer

ISSUER = "https://issuer.test/"
AUDIENCE = "https://occi.test/"
ENTITLEMENT = "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"}, private=True)


@dataclass
class FakeIssuerWeb:
    """What the issuer serves: its discovery document and its current keys; counts fetches."""

    keys: list = field(default_factory=list)
    issuer: str = ISSUER
    down: bool = False
    fetched: list = field(default_factory=list)

    def fetch_json(self, url: str) -> dict:
        self.fetched.append(url)
        if self.down:
            raise requests.ConnectionError("connection refused")
        if url == ISSUER + ".well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": ISSUER + "jwks"}
        if url == ISSUER + "jwks":
            return {"keys": [key.as_dict(private=False) for key in self.keys]}
        raise requests.HTTPError(f"404 for {url}")

    def key_fetches(self) -> int:
        return self.fetched.count(ISSUER + "jwks")


class Clock:
    """Wall-clock time for claims and a monotonic one for key refreshes, moved by the test."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def claims(**overrides) -> dict:
    now = int(time.time())
    values = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now, "exp": now + 600,
              "eduperson_entitlement": [ENTITLEMENT], "groups": ["ops"]}
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def sign(key, alg: str = "RS256", kid: str | None = "default", **overrides) -> str:
    header = {"alg": alg, "typ": "at+jwt"}
    kid = key.kid if kid == "default" else kid
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, claims(**overrides), key, algorithms=[alg])


def segment(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def unsigned(**overrides) -> str:
    """An ``alg: none`` token, as an attacker writes one."""
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims(**overrides))}."


def validator(web: FakeIssuerWeb, clock: Clock | None = None, **settings) -> TokenValidator:
    clock = clock or Clock()
    options = {"name": "test", "issuer": ISSUER, "audiences": (AUDIENCE,), "leeway_seconds": 0,
               "key_refresh_seconds": 10.0, **settings}
    return TokenValidator([TrustedIssuer(IssuerSettings(**options), fetch_json=web.fetch_json, clock=clock)],
                          clock=clock)
