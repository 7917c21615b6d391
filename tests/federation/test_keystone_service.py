"""The built-in Keystone-compatible token service, request by request: the v3 and v2.0 dances as
rOCCI, VMDIRAC and IM do them (with an OIDC access token of a stand-in issuer as the federated
credential), the token they end with opening OCCI requests, and every refusal's status and
words. tests/federation/test_keystone_clients.py drives the same service with keystoneauth."""

from __future__ import annotations

import time

import pytest
import transaction
from sqlalchemy import select
from webtest import TestApp

from occistack.federation.keystone_tokens import TokenService, derive_token_key
from occistack.model import EventRecord, Project, ProjectMembership, User
from occistack.model.session import get_tm_session, make_session_factory
from tests.conftest import TEST_SECRET_KEY, basic, close_app, make_app, settling_test_app
from tests.factories import UserFactory
from tests.federation.tokens import sign
from tests.occi import compute_body, locations_of

AUDIENCE = "https://occi.test/"
OPERATOR = "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu"
RULES = """
- match: {vo: fedcloud.egi.eu, vo_role: vm_operator}
  project: fedcloud
  role: member
"""
KEYSTONE = "http://localhost/keystone"
CHALLENGE = f"Keystone uri='{KEYSTONE}'"
FEDERATION = "/keystone/v3/OS-FEDERATION/identity_providers/egi.eu/protocols/oidc/auth"


@pytest.fixture
def application(db_url, demo_data, drivers, issuer, tmp_path):
    (tmp_path / "mapping.yaml").write_text(RULES)
    served = make_app(db_url, drivers, **{
        "occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": issuer.url, "occistack.oidc.egi.audience": AUDIENCE,
        "occistack.mapping_file": str(tmp_path / "mapping.yaml")})
    yield served
    close_app(served)


@pytest.fixture
def web(application):
    return settling_test_app()(application)


def access_token(issuer, subject: str = "alice", entitlement: str = OPERATOR) -> str:
    return sign(issuer.keys[0], iss=issuer.url, aud=AUDIENCE, sub=subject, eduperson_entitlement=[entitlement])


def bearer(issuer, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token(issuer, **claims)}"}


def unscoped_v3(web, issuer, **claims) -> str:
    return web.post(FEDERATION, headers=bearer(issuer, **claims), status=201).headers["X-Subject-Token"]


def scoped_v3(web, unscoped: str, project: dict) -> str:
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}}, "scope": {"project": project}}}
    return web.post_json("/keystone/v3/auth/tokens", body, status=201).headers["X-Subject-Token"]


# --- the dances ------------------------------------------------------------------------------------------

def test_the_v3_dance_ends_with_a_token_that_opens_occi(web, issuer):
    versions = web.get("/keystone", headers={"Accept": "application/json"}, status=300).json["versions"]["values"]
    v3 = next(version for version in versions if version["id"].startswith("v3"))
    assert v3["links"] == [{"rel": "self", "href": KEYSTONE + "/v3/"}]
    # rOCCI and IM GET the federation URL, keystoneauth POSTs it.
    answer = web.get(FEDERATION, headers=bearer(issuer), status=201)
    unscoped = answer.headers["X-Subject-Token"]
    token = answer.json["token"]
    assert token["methods"] == ["oidc"] and "project" not in token and "catalog" not in token
    assert token["user"]["name"] == "alice@egi"
    assert token["user"]["OS-FEDERATION"]["identity_provider"] == {"id": "egi.eu"}
    projects = web.get("/keystone/v3/auth/projects", headers={"X-Auth-Token": unscoped}, status=200).json["projects"]
    assert [project["name"] for project in projects] == ["fedcloud"]
    scoped = web.post_json("/keystone/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"id": projects[0]["id"]}}}}, status=201)
    body = scoped.json["token"]
    assert body["project"]["name"] == "fedcloud" and body["roles"] == [{"id": "member", "name": "member"}]
    assert body["expires_at"] == token["expires_at"]  # never outlives the unscoped token
    assert {service["type"] for service in body["catalog"]} == {"identity", "occi"}
    occi = settling_test_app()(web.app, extra_environ={"HTTP_X_AUTH_TOKEN": scoped.headers["X-Subject-Token"]})
    created = occi.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)
    assert created.headers["Location"] in locations_of(occi.get("/compute/", headers={"Accept": "text/plain"}).text)
    # The same user, with its OIDC token, sees what it made with the Keystone token.
    assert created.headers["Location"] in web.get("/compute/", headers={**bearer(issuer), "Accept": "text/plain"}).text


def test_the_v2_dance_with_voms_true_ends_with_a_token_that_opens_occi(web, issuer):
    # VOMS proxies are the credential Keystone-VOMS clients send here; any federated credential
    # of the request does, and an OIDC token is the one this test has.
    unscoped = web.post_json("/keystone/v2.0/tokens", {"auth": {"voms": True}}, headers=bearer(issuer), status=200)
    access = unscoped.json["access"]
    assert "tenant" not in access["token"] and access["serviceCatalog"] == []
    tenants = web.get("/keystone/v2.0/tenants", headers={"X-Auth-Token": access["token"]["id"]}, status=200)
    assert [tenant["name"] for tenant in tenants.json["tenants"]] == ["fedcloud"]
    # IM sends the unscoped token, voms and the tenant's name together.
    scoped = web.post_json("/keystone/v2.0/tokens", {"auth": {"voms": True, "tenantName": "fedcloud"}},
                           headers={**bearer(issuer), "X-Auth-Token": access["token"]["id"]}, status=200)
    token = scoped.json["access"]["token"]
    assert token["tenant"]["name"] == "fedcloud" and token["expires"].endswith("Z")
    assert [service["type"] for service in scoped.json["access"]["serviceCatalog"]] == ["identity", "occi"]
    web.get("/-/", headers={"X-Auth-Token": token["id"]}, status=200)
    # keystoneauth's v2 token plugin exchanges a token for a scoped one by tenant id.
    by_id = web.post_json("/keystone/v2.0/tokens", {"auth": {"token": {"id": access["token"]["id"]},
                                                             "tenantId": tenants.json["tenants"][0]["id"]}})
    web.get("/compute/", headers={"X-Auth-Token": by_id.json["access"]["token"]["id"]}, status=200)


def test_a_token_can_be_had_for_the_federated_credential_in_one_step(web, issuer):
    # VMDIRAC's v3 VOMS request: methods ["mapped"] and a scope by the project's name and domain.
    answer = web.post_json("/keystone/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["mapped"], "mapped": {"voms": True, "identity_provider": "egi.eu"}},
        "scope": {"project": {"name": "fedcloud", "domain": {"name": "Default"}}}}}, headers=bearer(issuer), status=201)
    assert answer.json["token"]["methods"] == ["mapped"]
    web.get("/-/", headers={"X-Auth-Token": answer.headers["X-Subject-Token"]}, status=200)


def test_a_token_of_the_service_opens_the_discovery_fast_path_too(web, issuer):
    scoped = scoped_v3(web, unscoped_v3(web, issuer), {"name": "fedcloud"})
    for _ in range(3):
        assert web.get("/-/", headers={"X-Auth-Token": scoped, "Accept": "text/plain"}).text.startswith("Category:")


# --- refusals at the OCCI face -----------------------------------------------------------------------------

def test_an_unscoped_token_opens_no_occi_request(web, issuer):
    response = web.get("/-/", headers={"X-Auth-Token": unscoped_v3(web, issuer)}, status=401)
    assert "not scoped to a project" in response.text and "POST /v3/auth/tokens" in response.text
    assert response.headers.getall("WWW-Authenticate") == [CHALLENGE]


def test_a_garbage_token_is_401_with_the_keystone_challenge(web):
    response = web.get("/compute/", headers={"X-Auth-Token": "gAAAAAgarbage", "Accept": "text/plain"}, status=401)
    assert "not issued by this site's token service" in response.text
    assert response.headers.getall("WWW-Authenticate") == [CHALLENGE]
    assert "is empty" in web.get("/-/", headers={"X-Auth-Token": " "}, status=401).text


def test_an_expired_token_is_401_saying_when_it_expired(web, issuer):
    two_hours_ago = TokenService(derive_token_key(TEST_SECRET_KEY.encode()), lifetime=3600,
                                 clock=lambda: time.time() - 7200)
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped_v3(web, issuer)}},
                     "scope": {"project": {"name": "fedcloud"}}}}
    token = web.post_json("/keystone/v3/auth/tokens", body, status=201).json["token"]
    user_id, project_id = int(token["user"]["id"]), int(token["project"]["id"])
    expired, _ = two_hours_ago.issue(user_id, project_id, ("token",))
    response = web.get("/-/", headers={"X-Auth-Token": expired}, status=401)
    assert "the token expired at" in response.text and "s ago); get a new one" in response.text


def test_a_disabled_user_s_tokens_stop_working(web, issuer, application):
    scoped = scoped_v3(web, unscoped_v3(web, issuer), {"name": "fedcloud"})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(make_session_factory(application.registry["occistack.engine"]), manager)
        session.scalar(select(User).where(User.name == "alice@egi")).enabled = False
    response = web.get("/-/", headers={"X-Auth-Token": scoped}, status=401)
    assert "no longer exists or is disabled" in response.text


# --- refusals of the service -------------------------------------------------------------------------------

def test_a_project_the_user_holds_no_role_in_is_401_naming_the_ones_it_does(web, issuer):
    unscoped = unscoped_v3(web, issuer)
    for project in ({"name": "demo"}, {"id": "999999"}, {"name": "fedcloud", "domain": {"id": "other"}}):
        body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}}, "scope": {"project": project}}}
        response = web.post_json("/keystone/v3/auth/tokens", body, status=401)
        assert response.headers.getall("WWW-Authenticate") == [CHALLENGE]
        error = response.json["error"]
        assert error["code"] == 401 and error["title"] == "Unauthorized"
        assert ("holds roles in: fedcloud (id" in error["message"]) or "the domain default" in error["message"]
    refused = web.post_json("/keystone/v2.0/tokens", {"auth": {"token": {"id": unscoped}, "tenantName": "demo"}},
                            status=401)
    assert "holds no role in the project 'demo'" in refused.json["error"]["message"]


def test_the_federated_credential_is_required_and_checked(web, issuer):
    none = web.get(FEDERATION, status=401)
    assert "carries none" in none.json["error"]["message"] and issuer.url in none.json["error"]["message"]
    assert none.headers.getall("WWW-Authenticate") == [CHALLENGE]
    expired = sign(issuer.keys[0], iss=issuer.url, aud=AUDIENCE, exp=int(time.time()) - 60)
    assert "the token expired at" in web.get(FEDERATION, headers={"Authorization": f"Bearer {expired}"},
                                             status=401).json["error"]["message"]
    stranger = web.post(FEDERATION, headers=bearer(issuer, subject="bob", entitlement="urn:mace:x:group:other.vo"),
                        status=403)
    assert "no mapping rule gives it a project here" in stranger.json["error"]["message"]
    # A password is not a federated credential, whatever it would open at the OCCI face.
    from tests.conftest import basic

    web.post_json("/keystone/v2.0/tokens", {"auth": {"voms": True}}, headers={"Authorization": basic("demo", "demo")},
                  status=401)


def test_an_unknown_identity_provider_or_protocol_is_404_naming_the_known(web, issuer):
    provider = web.get("/keystone/v3/OS-FEDERATION/identity_providers/other.eu/protocols/oidc/auth",
                       headers=bearer(issuer), status=404)
    assert "this service answers for: egi.eu" in provider.json["error"]["message"]
    protocol = web.get("/keystone/v3/OS-FEDERATION/identity_providers/egi.eu/protocols/saml2/auth", status=404)
    assert "the protocols are mapped" in protocol.json["error"]["message"]


@pytest.mark.parametrize("path, body, status, words", [
    ("/keystone/v3/auth/tokens", "{not json", 400, "the body is not JSON"),
    ("/keystone/v3/auth/tokens", '{"auth": []}', 400, 'with an "auth" object'),
    ("/keystone/v3/auth/tokens", '{"auth": {"identity": {"methods": []}}}', 400, "must list how you authenticate"),
    ("/keystone/v3/auth/tokens", '{"auth": {"identity": {"methods": ["password"]}}}', 401,
     "does not authenticate by 'password'; it accepts the methods token and mapped, openid, oidc"),
    ("/keystone/v3/auth/tokens", '{"auth": {"identity": {"methods": ["token"], "token": {}}}}', 401,
     "auth.identity.token.id must carry a token"),
    ("/keystone/v3/auth/tokens", '{"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}}}', 401,
     "not issued by this site's token service"),
    ("/keystone/v2.0/tokens", '{"auth": {"passwordCredentials": {"username": "demo", "password": "demo"}}}', 401,
     "does not take passwords"),
    ("/keystone/v2.0/tokens", '{"auth": {"tenantName": "x"}}', 400, 'auth must hold "voms": true'),
])
def test_unusable_requests_say_what_is_accepted(web, path, body, status, words):
    response = web.post(path, body, headers={"Content-Type": "application/json"}, status=status)
    assert response.content_type == "application/json" and words in response.json["error"]["message"]


def test_a_scope_other_than_a_project_is_400(web, issuer):
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped_v3(web, issuer)}},
                     "scope": {"domain": {"id": "default"}}}}
    assert "scopes tokens to projects only" in web.post_json("/keystone/v3/auth/tokens", body,
                                                             status=400).json["error"]["message"]


def test_listing_projects_needs_a_token(web):
    assert "X-Auth-Token must carry a token" in web.get("/keystone/v3/auth/projects", status=401).text
    web.get("/keystone/v2.0/tenants", headers={"X-Auth-Token": "nonsense"}, status=401)


def test_other_methods_and_paths_are_refused_in_json(web):
    response = web.delete("/keystone/v3/auth/tokens", status=405)
    assert response.headers["Allow"] == "POST" and response.json["error"]["code"] == 405
    assert "this Keystone-compatible service answers" in web.get("/keystone/v3/users", status=404).text


def test_a_site_without_the_service_has_no_such_paths_and_refuses_tokens(anonymous):
    anonymous.get("/keystone", status=401)  # an OCCI path like any other: a mixin's, if any
    response = anonymous.get("/-/", headers={"X-Auth-Token": "anything"}, status=401)
    assert "this site has no Keystone" in response.text
    assert response.headers.getall("WWW-Authenticate") == ['Basic realm="occistack"']


# --- a disabled user ------------------------------------------------------------------------------

def test_a_disabled_user_s_every_credential_is_refused_at_once(web, issuer, application):
    """Issue 14: disabling a user refuses their Keystone token, their OIDC token and their
    password from the next request on, although this process had just verified all three."""
    unscoped = unscoped_v3(web, issuer)
    [project] = web.get("/keystone/v3/auth/projects", headers={"X-Auth-Token": unscoped}).json["projects"]
    token = {"X-Auth-Token": scoped_v3(web, unscoped, {"id": project["id"]})}
    sessions = make_session_factory(application.registry["occistack.engine"])
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(sessions, manager)
        UserFactory(session=session, name="root", role="admin", password="root-password",
                    project_id=session.scalar(select(User.project_id).where(User.name == "demo")))
    with sessions() as session:
        alice = session.scalar(select(User.id).where(User.name == "alice@egi"))
    admin = {"Authorization": basic("root", "root-password")}
    for credentials in (token, bearer(issuer), {"Authorization": basic("demo", "demo")}):
        web.get("/-/", headers=credentials, status=200)  # verified, and remembered
    assert web.post(f"/admin/users/{alice}/actions/disable", headers=admin).json["enabled"] is False
    assert "the token's user no longer exists or is disabled" in web.get("/-/", headers=token, status=401).text
    assert "disabled" in web.get("/-/", headers=bearer(issuer), status=403).text
    assert web.post(f"/admin/users/{alice}/actions/enable", headers=admin).json["enabled"] is True
    web.get("/-/", headers=token, status=200)
    web.get("/-/", headers=bearer(issuer), status=200)
    demo = web.get("/admin/users", {"project": "demo"}, headers=admin).json
    demo_id = next(user["id"] for user in demo if user["name"] == "demo")
    web.post(f"/admin/users/{demo_id}/actions/disable", headers=admin)
    assert "disabled" in web.get("/-/", headers={"Authorization": basic("demo", "demo")}, status=401).text


# --- a user's own password ------------------------------------------------------------------------

def test_a_local_user_changes_their_own_password(web, application):
    """Issue 14: ``POST /v3/users/{id}/password`` (what ``openstack user password set`` sends),
    proving the password the user has now; the old one stops working at once."""
    with make_session_factory(application.registry["occistack.engine"])() as session:
        demo = session.scalar(select(User.id).where(User.name == "demo"))
        other = session.scalar(select(User.id).where(User.name == "other"))
    path = f"/keystone/v3/users/{demo}/password"
    web.get("/-/", headers={"Authorization": basic("demo", "demo")}, status=200)  # remembered

    def change(original, new, where=path, status=204):
        return web.post_json(where, {"user": {"original_password": original, "password": new}}, status=status)

    refused = "user.original_password is not the password of that user"
    for where, original in ((path, "not-demo"), (f"/keystone/v3/users/{other}/password", "demo"),
                            ("/keystone/v3/users/999999/password", "demo")):
        answer = change(original, "a-new-long-password", where, status=401)
        assert refused in answer.text and answer.headers["WWW-Authenticate"].startswith("Keystone uri=")
    web.post_json("/keystone/v3/users/x/password", {"user": {"original_password": "demo", "password": "x"}},
                  status=404)  # ids are numbers
    assert "at least" in change("demo", "short", status=400).text
    assert "must both be text" in web.post_json(path, {"user": {"password": "x"}}, status=400).text
    change("demo", "a-new-long-password")
    web.get("/-/", headers={"Authorization": basic("demo", "demo")}, status=401)
    web.get("/-/", headers={"Authorization": basic("demo", "a-new-long-password")}, status=200)
    with make_session_factory(application.registry["occistack.engine"])() as session:
        event = session.scalar(select(EventRecord).where(EventRecord.action == "user.password"))
        assert (event.actor, event.project_id) == ("user:demo", session.get(User, demo).project_id)


def test_a_disabled_domain_refuses_its_users_tokens_and_federated_logins(web, issuer, application):
    """Issue 14: a Keystone token issued before, an OIDC token and a password of users whose
    project lies below a disabled domain are refused from the next request on, and accepted
    again once the domain is enabled."""
    unscoped = unscoped_v3(web, issuer)
    [project] = web.get("/keystone/v3/auth/projects", headers={"X-Auth-Token": unscoped}).json["projects"]
    token = {"X-Auth-Token": scoped_v3(web, unscoped, {"id": project["id"]})}
    sessions = make_session_factory(application.registry["occistack.engine"])
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(sessions, manager)
        demo_project = session.scalar(select(User.project_id).where(User.name == "demo"))
        UserFactory(session=session, name="root", role="admin", password="root-password", project_id=demo_project)
    admin = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("root", "root-password")})
    egi = admin.post_json("/admin/domains", {"name": "egi"}, status=201).json
    federated = admin.post_json("/admin/domains", {"name": "federated", "parent": "/egi/"}, status=201).json
    with manager:
        session = get_tm_session(sessions, manager)
        # The mapping made the project in the root; an operator's move of it below /egi/.
        session.get(Project, int(project["id"])).domain_id = federated["id"]
    for credentials in (token, bearer(issuer)):
        web.get("/-/", headers=credentials, status=200)
    admin.post(f"/admin/domains/{egi['id']}/actions/disable", status=200)
    assert "the token's user no longer exists or is disabled" in web.get("/-/", headers=token, status=401).text
    assert "disabled" in web.get("/-/", headers=bearer(issuer), status=403).text
    web.get("/-/", headers={"Authorization": basic("demo", "demo")}, status=200)  # the root domain's
    admin.post(f"/admin/domains/{egi['id']}/actions/enable", status=200)
    web.get("/-/", headers=token, status=200)
    web.get("/-/", headers=bearer(issuer), status=200)


def test_a_member_of_a_second_project_gets_tokens_scoped_to_it(web, application, issuer):
    unscoped = unscoped_v3(web, issuer)  # alice@egi, at home in fedcloud
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(application.registry["occistack.session_factory"], manager)
        user_id = session.scalar(select(User.id).where(User.name == "alice@egi"))
        other_id = session.scalar(select(Project.id).where(Project.name == "other"))
        session.add(ProjectMembership(user_id=user_id, project_id=other_id, role="reader"))
    projects = web.get("/keystone/v3/auth/projects", headers={"X-Auth-Token": unscoped}, status=200).json["projects"]
    assert [project["name"] for project in projects] == ["fedcloud", "other"]
    scoped = web.post_json("/keystone/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"name": "other"}}}}, status=201)
    assert scoped.json["token"]["roles"] == [{"id": "reader", "name": "reader"}]
    token = scoped.headers["X-Subject-Token"]
    web.get("/compute/", headers={"X-Auth-Token": token}, status=200)
    # A token works in its own scope only: naming another project with it is refused.
    refused = web.get("/compute/", headers={"X-Auth-Token": token, "X-Auth-Project-Id": "fedcloud"}, status=403)
    assert "scoped to project" in refused.text
    web.get("/compute/", headers={"X-Auth-Token": token, "X-Auth-Project-Id": "other"}, status=200)
