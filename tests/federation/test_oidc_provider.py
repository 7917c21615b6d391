"""Against a real OpenID Connect provider (npm's oidc-provider, started here on a free port):
its client-credentials JWT access tokens are accepted; forged, altered, expired, wrong-audience,
``alg: none`` and unknown-issuer tokens refused; its opaque tokens checked by introspection;
its key rotation followed by refreshing the keys on an unknown kid."""

from __future__ import annotations

import base64
import json
import time
from contextlib import contextmanager

import pytest
from joserfc import jwt

from tests.conftest import close_app, make_app, missing_component, settling_test_app
from tests.federation.oidc_provider import AUDIENCE, OTHER_AUDIENCE, OidcProvider, ProviderUnavailable, client
from tests.federation.tokens import rsa_key
from tests.occi import compute_body

pytestmark = pytest.mark.slow

OPERATOR = {"eduperson_entitlement": ["urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu"]}
CLIENTS = [
    client("fedcloud-operator", OPERATOR),
    client("brief-operator", OPERATOR, ttl=1),
    client("opaque-operator", OPERATOR, format="opaque"),
    client("stranger", {"groups": ["other.vo"]}),
    client("occistack"),  # the resource server itself, for introspection
]
RULES = "- match: {vo: fedcloud.egi.eu, vo_role: vm_operator}\n  project: fedcloud\n  role: member\n"


@contextmanager
def running_provider(workdir):
    """A provider of CLIENTS signing with a key k1; a missing node or npm package skips (fails
    under CI)."""
    provider = OidcProvider(workdir, [rsa_key("k1")], CLIENTS)
    try:
        provider.start()
    except ProviderUnavailable as problem:
        missing_component(str(problem))
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("op")) as started:
        yield started


def serve(db_url, drivers, provider, tmp_path, **extra):
    rules = tmp_path / "mapping.yaml"
    rules.write_text(RULES)
    return make_app(db_url, drivers, **{
        "occistack.oidc.issuers": "op",
        "occistack.oidc.op.issuer": provider.url,
        "occistack.oidc.op.audience": AUDIENCE,
        "occistack.oidc.op.introspection_client_id": "occistack",
        "occistack.oidc.op.introspection_client_secret": "occistack-secret",
        "occistack.oidc.op.leeway_seconds": "0",
        "occistack.oidc.op.key_refresh_seconds": "1",
        "occistack.mapping_file": str(rules),
        **extra,
    })


@pytest.fixture
def server(db_url, demo_data, drivers, provider, tmp_path):
    application = serve(db_url, drivers, provider, tmp_path)
    yield application
    close_app(application)


def as_bearer(application, token):
    return settling_test_app()(application, extra_environ={"HTTP_AUTHORIZATION": f"Bearer {token}"})


def parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return tuple(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in (header, payload))


def test_the_provider_s_jwt_access_token_is_accepted(server, provider):
    token = provider.token("fedcloud-operator")
    header, claims = parts(token)
    assert (header["typ"], header["kid"], claims["iss"], claims["aud"]) == ("at+jwt", "k1", provider.url, AUDIENCE)
    occi = as_bearer(server, token)
    assert occi.get("/-/", headers={"Accept": "text/plain"}, status=200).text.startswith("Category: entity;")
    occi.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)


def test_a_token_for_another_resource_is_refused(server, provider):
    response = as_bearer(server, provider.token("fedcloud-operator", resource=OTHER_AUDIENCE)).get("/-/", status=401)
    assert f"meant for the audience '{OTHER_AUDIENCE}'" in response.text


def test_an_expired_token_is_refused(server, provider):
    token = provider.token("brief-operator")
    time.sleep(2.1)
    response = as_bearer(server, token).get("/-/", status=401)
    assert "the token expired at" in response.text


def test_forged_and_altered_tokens_are_refused(server, provider):
    header, claims = parts(provider.token("fedcloud-operator"))
    forged = jwt.encode(header, claims, rsa_key("k1"), algorithms=["RS256"])  # same kid, the forger's key
    assert "altered or forged" in as_bearer(server, forged).get("/-/", status=401).text
    genuine = provider.token("stranger").split(".")
    operator = provider.token("fedcloud-operator").split(".")
    altered = ".".join([genuine[0], operator[1], genuine[2]])  # the operator's claims, the stranger's signature
    assert "altered or forged" in as_bearer(server, altered).get("/-/", status=401).text


def test_alg_none_is_refused(server, provider):
    _header, claims = parts(provider.token("fedcloud-operator"))

    def segment(document):
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    unsigned = f"{segment({'alg': 'none', 'typ': 'at+jwt'})}.{segment(claims)}."
    assert "algorithm 'none'" in as_bearer(server, unsigned).get("/-/", status=401).text


def test_a_token_of_an_issuer_the_site_does_not_trust_is_refused(server, provider, tmp_path):
    with running_provider(tmp_path) as untrusted:
        response = as_bearer(server, untrusted.token("fedcloud-operator")).get("/-/", status=401)
    assert f"issued by '{untrusted.url}', which this site does not trust" in response.text


def test_a_valid_token_of_an_unmapped_client_is_403(server, provider):
    response = as_bearer(server, provider.token("stranger")).get("/-/", status=403)
    assert "subject 'stranger'" in response.text and "memberships: other.vo" in response.text
    assert "VO fedcloud.egi.eu, VO role vm_operator → project fedcloud as member" in response.text


def test_opaque_tokens_are_checked_by_introspection(server, provider):
    opaque = provider.token("opaque-operator")
    assert opaque.count(".") == 0
    as_bearer(server, opaque).get("/-/", status=200)
    response = as_bearer(server, "not-a-token-the-provider-issued").get("/-/", status=401)
    assert "says the token is not active" in response.text


def test_key_rotation_is_followed(db_url, demo_data, drivers, tmp_path):
    with running_provider(tmp_path) as rotating:
        application = serve(db_url, drivers, rotating, tmp_path, **{"occistack.oidc.op.keys_max_age_seconds": "3"})
        try:
            as_bearer(application, rotating.token("fedcloud-operator")).get("/-/", status=200)
            old_key, new_key = rotating.keys[0], rsa_key("k2")
            rotating.restart([new_key, old_key])  # new signing key first; the old one still published
            time.sleep(1.1)  # key_refresh_seconds
            token = rotating.token("fedcloud-operator")
            assert parts(token)[0]["kid"] == "k2"
            as_bearer(application, token).get("/-/", status=200)
            # The old key withdrawn: once the server's copy of the keys is older than
            # keys_max_age_seconds and fetched again, a token signed with it is a forgery.
            rotating.restart([new_key])
            time.sleep(3.1)
            header, claims = parts(token)
            claims["sub"] = "someone-else"
            stale = jwt.encode({**header, "kid": "k1"}, claims, old_key, algorithms=["RS256"])
            assert "does not publish" in as_bearer(application, stale).get("/-/", status=401).text
        finally:
            close_app(application)
