"""OIDC bearer tokens at the OCCI face: the status and the message of every outcome, the
challenges, and the cache that lets a validated token's requests skip validation. The issuer
is a stand-in over real HTTP with keys made in the test (tests/federation/test_oidc_provider.py
does the same with a real provider)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from occistack.model import FederatedUser, Project, User
from occistack.model.session import read_only_session
from tests.conftest import basic, close_app, make_app, settling_test_app
from tests.federation.conftest import AUDIENCE, ENTITLEMENT, RULES, client, token
from tests.federation.tokens import rsa_key, sign
from tests.occi import compute_body, locations_of


def test_a_valid_token_is_accepted_and_its_user_provisioned(oidc_app, issuer):
    response = client(oidc_app, token(issuer)).get("/-/", headers={"Accept": "text/plain"}, status=200)
    assert response.text.startswith("Category: entity;")
    with read_only_session(oidc_app.registry["occistack.engine"]) as session:
        user, project = session.execute(select(User, Project).join(Project, Project.id == User.project_id)
                                        .join(FederatedUser, FederatedUser.user_id == User.id)).one()
        assert (user.name, project.name, user.role) == ("alice@test", "fedcloud", "member")


def test_a_federated_user_works_in_its_project(oidc_app, issuer, app):
    federated = client(oidc_app, token(issuer))
    created = federated.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)
    location = created.headers["Location"]
    assert [location] == locations_of(federated.get("/compute/", headers={"Accept": "text/plain"}).text)
    assert location not in app.get("/compute/", headers={"Accept": "text/plain"}).text  # demo's project


def test_repeated_requests_do_not_ask_the_issuer_again(oidc_app, issuer):
    federated = client(oidc_app, token(issuer))
    for _ in range(5):
        federated.get("/-/", status=200)
        federated.get("/compute/", status=200)
    assert issuer.requests.count("/jwks") == 1
    assert issuer.requests.count("/userinfo") == 1  # once, with the first validation


def test_an_expired_token_is_401_with_the_reason_and_an_invalid_token_challenge(oidc_app, issuer):
    now = int(time.time())
    response = client(oidc_app, token(issuer, iat=now - 700, exp=now - 60)).get(
        "/-/", headers={"Accept": "text/plain"}, status=401)
    assert "the token expired at" in response.text
    challenges = response.headers.getall("WWW-Authenticate")
    assert challenges[0].startswith('Bearer realm="occistack", error="invalid_token", error_description="the token '
                                    'expired at')
    # A site that trusts OIDC issuers runs the built-in Keystone-compatible token service.
    assert challenges[1:] == ["Keystone uri='http://localhost/keystone'"]


def test_a_forged_token_is_401(oidc_app, issuer):
    forged = sign(rsa_key("k1"), iss=issuer.url, aud=AUDIENCE, eduperson_entitlement=[ENTITLEMENT])
    response = client(oidc_app, forged).get("/compute/", headers={"Accept": "application/occi+json"}, status=401)
    assert response.content_type == "application/occi+json" and "altered or forged" in response.text


def test_a_token_for_another_audience_is_401(oidc_app, issuer):
    response = client(oidc_app, token(issuer, aud="https://elsewhere.test/")).get("/-/", status=401)
    assert "meant for the audience 'https://elsewhere.test/'" in response.text


def test_alg_none_is_401(oidc_app, issuer):
    from tests.federation.tokens import unsigned

    response = client(oidc_app, unsigned(iss=issuer.url, aud=AUDIENCE)).get("/-/", status=401)
    assert "algorithm 'none'" in response.text


def test_a_token_of_an_unknown_issuer_is_401_and_names_the_trusted_ones(oidc_app, issuer):
    response = client(oidc_app, sign(rsa_key("x"), iss="https://evil.test/")).get("/-/", status=401)
    assert "'https://evil.test/', which this site does not trust" in response.text and issuer.url in response.text


def test_a_valid_token_of_an_unmapped_identity_is_403_with_what_was_presented_and_accepted(oidc_app, issuer):
    stranger = token(issuer, sub="bob", eduperson_entitlement=["urn:mace:egi.eu:group:other.vo:role=member#x"])
    response = client(oidc_app, stranger).get("/-/", headers={"Accept": "text/plain"}, status=403)
    assert "subject 'bob'" in response.text and "other.vo (role member)" in response.text
    assert "VO fedcloud.egi.eu, VO role vm_operator → project fedcloud as member" in response.text
    assert "WWW-Authenticate" not in response.headers


def test_the_mapped_role_decides_what_the_user_may_do(oidc_app, issuer):
    member = client(oidc_app, token(issuer))
    member.get("/admin/", status=403)
    admin = client(oidc_app, token(issuer, sub="carol", eduperson_entitlement=[], groups=["site-admins"]))
    admin.get("/admin/", status=200)


def test_an_opaque_token_is_checked_at_the_userinfo_endpoint(oidc_app, issuer):
    issuer.userinfo["opaque-token-1"] = {"sub": "dave", "eduperson_entitlement": [ENTITLEMENT]}
    client(oidc_app, "opaque-token-1").get("/-/", status=200)
    response = client(oidc_app, "opaque-token-2").get("/-/", status=401)
    assert "userinfo endpoint does not accept the token" in response.text


def test_userinfo_adds_entitlements_to_a_jwt_but_never_changes_its_subject(oidc_app, issuer):
    bare = token(issuer, sub="erin", eduperson_entitlement=[])
    issuer.userinfo[bare] = {"sub": "erin", "eduperson_entitlement": [ENTITLEMENT]}
    client(oidc_app, bare).get("/-/", status=200)  # mapped by the entitlement userinfo gave
    other = token(issuer, sub="frank")
    issuer.userinfo[other] = {"sub": "someone-else", "eduperson_entitlement": [ENTITLEMENT]}
    response = client(oidc_app, other).get("/-/", status=401)
    assert "describes the subject 'someone-else'" in response.text


def test_an_issuer_that_cannot_be_asked_is_503_not_the_user_s_fault(oidc_app, issuer):
    issuer.down = True
    response = client(oidc_app, token(issuer)).get("/-/", status=503)
    assert "cannot fetch the discovery document" in response.text
    assert response.headers["Retry-After"]
    issuer.down = False
    client(oidc_app, token(issuer)).get("/-/", status=200)


def test_without_credentials_the_challenge_names_the_site_s_keystone_and_the_message_every_method(oidc_app, issuer):
    response = client(oidc_app).get("/-/", status=401)
    assert response.headers.getall("WWW-Authenticate") == ["Keystone uri='http://localhost/keystone'"]
    assert "X-Auth-Token" in response.text and "HTTP Basic" in response.text
    assert "Authorization: Bearer <token>" in response.text and issuer.url in response.text


def test_without_the_token_service_both_methods_are_offered(db_url, demo_data, drivers, issuer, tmp_path):
    (tmp_path / "mapping.yaml").write_text(RULES)
    application = make_app(db_url, drivers, **{
        "occistack.oidc.issuers": "test",
        "occistack.oidc.test.issuer": issuer.url, "occistack.oidc.test.audience": AUDIENCE,
        "occistack.mapping_file": str(tmp_path / "mapping.yaml"), "occistack.keystone.builtin": "false"})
    try:
        response = client(application).get("/-/", status=401)
        assert response.headers.getall("WWW-Authenticate") == ['Basic realm="occistack"', 'Bearer realm="occistack"']
    finally:
        close_app(application)


def test_basic_still_works_beside_oidc(oidc_app):
    local = settling_test_app()(oidc_app, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    local.get("/-/", status=200)
    wrong = settling_test_app()(oidc_app, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "nope")})
    assert "user name or password is wrong" in wrong.get("/-/", status=401).text


def test_an_empty_bearer_header_is_401(oidc_app):
    response = settling_test_app()(oidc_app, extra_environ={"HTTP_AUTHORIZATION": "Bearer "}).get("/-/", status=401)
    assert "carries no token" in response.text


def test_a_site_without_issuers_refuses_bearer_tokens_and_says_so(anonymous):
    response = anonymous.get("/-/", headers={"Authorization": "Bearer abc.def.ghi"}, status=401)
    assert "trusts no OIDC issuer" in response.text and "HTTP Basic" in response.text
    assert anonymous.get("/-/", status=401).headers.getall("WWW-Authenticate") == ['Basic realm="occistack"']


def test_oidc_settings_without_mapping_rules_stop_the_server(db_url):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="occistack.mapping_file is not"):
        make_app(db_url, **{"occistack.oidc.issuers": "x", "occistack.oidc.x.issuer": "https://x/",
                            "occistack.oidc.x.audience": "a"})
