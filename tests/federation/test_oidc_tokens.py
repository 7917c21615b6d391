"""Validation of JWT access tokens against an issuer's keys, with keys made in the test: what
is accepted, every way a token is refused (and the reason given), and when keys are fetched."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from occistack.federation import (
    CredentialRefused,
    IssuerSettingsError,
    IssuerUnavailable,
    TokenValidator,
    issuers_from_settings,
)
from occistack.federation.identity import Membership
from tests.federation.tokens import (
    AUDIENCE,
    ENTITLEMENT,
    ISSUER,
    Clock,
    FakeIssuerWeb,
    ec_key,
    rsa_key,
    segment,
    sign,
    unsigned,
    validator,
)


@pytest.fixture
def key():
    return rsa_key("k1")


@pytest.fixture
def web(key):
    return FakeIssuerWeb(keys=[key])


def refusal(check, token) -> str:
    with pytest.raises(CredentialRefused) as refused:
        check.validate(token)
    return refused.value.message


def test_a_valid_token_becomes_a_federated_identity(web, key):
    identity = validator(web).validate(sign(key))
    assert (identity.method, identity.issuer, identity.source, identity.subject) == ("oidc", ISSUER, "test", "alice")
    assert identity.memberships == (Membership("fedcloud.egi.eu", "vm_operator"), Membership("ops"))
    assert identity.entitlements == (ENTITLEMENT,)
    assert identity.expires_at is not None


def test_keys_are_fetched_once_not_per_token(web, key):
    check = validator(web)
    for _ in range(20):
        check.validate(sign(key))
    assert web.key_fetches() == 1
    assert len(web.fetched) == 2  # the discovery document and the keys


def test_a_forged_signature_is_refused(web, key):
    forger = rsa_key("k1")  # same key id, another key
    assert "altered or forged" in refusal(validator(web), sign(forger))


def test_an_altered_payload_is_refused(web, key):
    header, _, signature = sign(key).split(".")
    other_payload = sign(key, sub="mallory").split(".")[1]
    assert "altered or forged" in refusal(validator(web), ".".join([header, other_payload, signature]))


def test_an_expired_token_is_refused(web, key):
    clock = Clock()
    message = refusal(validator(web, clock), sign(key, iat=int(clock.now) - 700, exp=int(clock.now) - 100))
    assert "the token expired at" in message and "100 s ago" in message


def test_the_leeway_tolerates_clock_skew(web, key):
    clock = Clock()
    token = sign(key, exp=int(clock.now) - 10)
    assert validator(web, clock, leeway_seconds=30).validate(token).subject == "alice"
    assert "expired" in refusal(validator(web, clock, leeway_seconds=0), token)


def test_a_token_not_yet_valid_is_refused(web, key):
    clock = Clock()
    message = refusal(validator(web, clock), sign(key, nbf=int(clock.now) + 120))
    assert "not valid before" in message and "in 120 s" in message


def test_a_token_issued_in_the_future_is_refused(web, key):
    clock = Clock()
    assert "in the future" in refusal(validator(web, clock), sign(key, iat=int(clock.now) + 3600))


def test_a_token_for_another_audience_is_refused(web, key):
    message = refusal(validator(web), sign(key, aud="https://elsewhere.test/"))
    assert "meant for the audience 'https://elsewhere.test/'" in message and AUDIENCE in message


def test_one_of_several_audiences_is_enough(web, key):
    token = sign(key, aud=["https://elsewhere.test/", AUDIENCE])
    assert validator(web).validate(token).subject == "alice"


@pytest.mark.parametrize("missing", ["exp", "aud"])
def test_tokens_must_say_for_whom_and_until_when(web, key, missing):
    assert f"lacks the claim '{missing}'" in refusal(validator(web), sign(key, **{missing: None}))


def test_alg_none_is_refused(web):
    message = refusal(validator(web), unsigned())
    assert "algorithm 'none'" in message and "accepted: RS256" in message


def test_an_hmac_signed_with_the_public_key_is_refused(web, key):
    # The classic confusion attack: HS256 keyed with the issuer's public key.
    # (joserfc will not even make such a token; an attacker writes it by hand.)
    signing_input = ".".join(segment(part) for part in (
        {"alg": "HS256", "kid": "k1"}, {"iss": ISSUER, "sub": "x", "aud": AUDIENCE, "exp": 2**31}))
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert "algorithm 'HS256'" in refusal(validator(web), token)


def test_algorithms_outside_the_issuer_s_list_are_refused(key):
    ec = ec_key("e1")
    web = FakeIssuerWeb(keys=[key, ec])
    assert validator(web).validate(sign(ec, alg="ES256")).subject == "alice"
    assert "algorithm 'ES256'" in refusal(validator(web, algorithms=("RS256",)), sign(ec, alg="ES256"))


def test_a_key_of_the_wrong_type_for_the_algorithm_is_refused(key):
    ec = ec_key("e1")
    web = FakeIssuerWeb(keys=[key, ec])
    token = sign(key, alg="RS256", kid="e1")  # names the EC key, signed RS256
    assert "cannot verify RS256 signatures" in refusal(validator(web), token)


def test_a_token_of_an_unknown_issuer_is_refused(web):
    stranger = rsa_key("k1")
    message = refusal(validator(web), sign(stranger, iss="https://evil.test/"))
    assert "issued by 'https://evil.test/', which this site does not trust" in message
    assert ISSUER in message
    assert web.fetched == []  # nothing was asked of anyone


def test_a_token_without_kid_uses_the_only_key(web, key):
    assert validator(web).validate(sign(key, kid=None)).subject == "alice"


def test_a_token_without_kid_is_refused_when_the_key_is_ambiguous(key):
    web = FakeIssuerWeb(keys=[key, rsa_key("k2")])
    assert "no kid" in refusal(validator(web), sign(key, kid=None))


def test_key_rotation_refreshes_the_keys_on_an_unknown_kid(web, key):
    clock = Clock()
    check = validator(web, clock)
    check.validate(sign(key))
    new = rsa_key("k2")
    web.keys = [new, key]  # the issuer rotates: a new signing key, the old one still published
    clock.now += 60
    assert check.validate(sign(new)).subject == "alice"
    assert check.validate(sign(key)).subject == "alice"
    assert web.key_fetches() == 2


def test_unknown_kids_cannot_make_the_server_hammer_the_issuer(web, key):
    clock = Clock()
    check = validator(web, clock, key_refresh_seconds=10.0)
    check.validate(sign(key))
    clock.now += 11
    for number in range(5):
        assert "does not publish" in refusal(check, sign(rsa_key(f"random{number}")))
    assert web.key_fetches() == 2  # one refresh for the first unknown kid, none for the others
    clock.now += 11
    refusal(check, sign(rsa_key("random-later")))
    assert web.key_fetches() == 3


def test_old_keys_are_fetched_again_and_kept_while_the_issuer_is_down(web, key):
    clock = Clock()
    check = validator(web, clock, keys_max_age_seconds=100.0)
    check.validate(sign(key))
    clock.now += 101
    web.keys = [rsa_key("k9")]  # the issuer withdrew k1
    assert "does not publish" in refusal(check, sign(key))
    clock.now += 101
    web.down = True
    fetches = len(web.fetched)
    assert check.validate(sign(web.keys[0])).subject == "alice"  # the kept keys still work
    assert check.validate(sign(web.keys[0])).subject == "alice"
    assert len(web.fetched) == fetches + 1  # and the issuer was asked once, not per token


def test_an_unreachable_issuer_is_unavailable_not_a_refusal(key):
    web = FakeIssuerWeb(keys=[key], down=True)
    with pytest.raises(IssuerUnavailable, match="cannot fetch the discovery document"):
        validator(web).validate(sign(key))
    web.down = False
    assert validator(web).validate(sign(key)).subject == "alice"


def test_a_discovery_document_of_another_issuer_is_not_trusted(key):
    web = FakeIssuerWeb(keys=[key], issuer="https://impostor.test/")
    with pytest.raises(IssuerUnavailable, match="names the issuer 'https://impostor.test/'"):
        validator(web).validate(sign(key))


@pytest.mark.parametrize("token", ["a.b.c", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln"])
def test_a_malformed_jwt_is_refused(web, token):
    assert "not a well-formed one" in refusal(validator(web), token)


def test_an_opaque_token_needs_an_issuer_that_checks_them(web):
    assert "not a JWT, and no issuer" in refusal(validator(web), "an-opaque-token")


def test_without_issuers_every_token_is_refused_and_basic_suggested():
    assert "trusts no OIDC issuer" in refusal(TokenValidator([]), "whatever")


def test_an_absurdly_long_token_is_refused_unread(web):
    assert "characters long" in refusal(validator(web), "x" * 20000)
    assert web.fetched == []


# --- the ini settings of issuers -------------------------------------------------------------------

def test_issuers_are_read_from_the_ini_settings():
    issuers = issuers_from_settings({
        "occistack.oidc.issuers": "egi local",
        "occistack.oidc.egi.issuer": "https://aai.egi.eu/auth/realms/egi",
        "occistack.oidc.egi.audience": "https://occi.example.org https://occi2.example.org",
        "occistack.oidc.egi.userinfo": "true",
        "occistack.oidc.local.issuer": "http://127.0.0.1:8080",
        "occistack.oidc.local.audience": "occi",
        "occistack.oidc.local.algorithms": "ES256",
        "occistack.oidc.local.introspection_client_id": "occi",
        "occistack.oidc.local.introspection_client_secret": "s3cret",
    })
    egi, local = issuers
    assert egi.audiences == ("https://occi.example.org", "https://occi2.example.org") and egi.userinfo
    assert egi.discovery_document_url == "https://aai.egi.eu/auth/realms/egi/.well-known/openid-configuration"
    assert "RS256" in egi.algorithms and "HS256" not in egi.algorithms
    assert local.algorithms == ("ES256",) and local.introspects and not local.userinfo


@pytest.mark.parametrize("settings, problem", [
    ({"occistack.oidc.egi.issuer": "https://x/"}, "not listed in occistack.oidc.issuers"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.audience": "a"}, "egi.issuer is required"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": "https://x/"}, "egi.audience is required"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": "https://x/", "occistack.oidc.egi.audience": "a",
      "occistack.oidc.egi.algorithms": "RS256 HS256"}, "HS256 cannot be accepted"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": "https://x/", "occistack.oidc.egi.audience": "a",
      "occistack.oidc.egi.algorithms": "none"}, "none cannot be accepted"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": "https://x/", "occistack.oidc.egi.audience": "a",
      "occistack.oidc.egi.colour": "blue"}, "unknown option 'colour'"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": "https://x/", "occistack.oidc.egi.audience": "a",
      "occistack.oidc.egi.introspection_client_id": "c"}, "needs both"),
    ({"occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": "https://x/", "occistack.oidc.egi.audience": "a",
      "occistack.oidc.egi.leeway_seconds": "soon"}, "must be a number"),
    ({"occistack.oidc.issuers": "e/gi"}, "not usable as an issuer name"),
])
def test_unusable_issuer_settings_name_the_setting(settings, problem):
    with pytest.raises(IssuerSettingsError, match=problem):
        issuers_from_settings(settings)
