"""Against a real Keystone (the keystone package with SQLite under gunicorn, started here on a
free loopback port): its users' project-scoped tokens open OCCI requests, through the mapping
rules, once validated; garbage, revoked and unscoped tokens are refused, and a token of a
project no rule accepts is 403; a Keystone that cannot be asked, or refuses the site's service
account, is 503 and not the user's fault."""

from __future__ import annotations

import pytest
import requests
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as v3_client
from pyramid.interfaces import ISecurityPolicy
from sqlalchemy import select

from occistack.model import FederatedUser, Project, User
from occistack.model.session import read_only_session
from tests.conftest import close_app, make_app, missing_component, settling_test_app
from tests.federation.keystone_server import ADMIN_PASSWORD, KeystoneServer, KeystoneUnavailable, free_port
from tests.occi import compute_body, locations_of

pytestmark = pytest.mark.slow

RULES = """
- match: {issuer: keystone, vo: occi-tenant, vo_role: [admin, member]}
  project: "{vo}"
  role: member
"""
PASSWORD = "user-secret"


@pytest.fixture(scope="module")
def keystone(tmp_path_factory):
    """A running Keystone with the project occi-tenant (bob is a member) and the project
    elsewhere (carol is a member), which the rules give nothing."""
    server = KeystoneServer(tmp_path_factory.mktemp("keystone"))
    try:
        server.start()
    except KeystoneUnavailable as problem:
        missing_component(str(problem))
    try:
        admin = v3_client.Client(session=server.admin_session())
        member = next(role for role in admin.roles.list() if role.name == "member")
        for project_name, user_name in (("occi-tenant", "bob"), ("elsewhere", "carol")):
            project = admin.projects.create(name=project_name, domain="default")
            user = admin.users.create(name=user_name, password=PASSWORD, domain="default", default_project=project)
            admin.roles.grant(member, user=user, project=project)
        yield server
    finally:
        server.stop()


def user_token(keystone, user: str, project: str | None) -> str:
    scope = {"project_name": project, "project_domain_id": "default"} if project else {"unscoped": True}
    return session.Session(auth=v3.Password(auth_url=keystone.auth_url, username=user, password=PASSWORD,
                                            user_domain_id="default", **scope)).get_token()


def serve(db_url, drivers, tmp_path, url: str, **extra):
    (tmp_path / "mapping.yaml").write_text(RULES)
    return make_app(db_url, drivers, **{
        "occistack.mapping_file": str(tmp_path / "mapping.yaml"), "occistack.keystone.url": url, "occistack.keystone.username": "admin",
        "occistack.keystone.password": ADMIN_PASSWORD, "occistack.keystone.project_name": "admin", **extra})


@pytest.fixture
def application(keystone, db_url, demo_data, drivers, tmp_path):
    served = serve(db_url, drivers, tmp_path, keystone.auth_url)
    yield served
    close_app(served)


def client(application, token: str):
    return settling_test_app()(application, extra_environ={"HTTP_X_AUTH_TOKEN": token})


def test_a_keystone_token_opens_occi_in_the_project_the_rules_give(keystone, application):
    bob = client(application, user_token(keystone, "bob", "occi-tenant"))
    created = bob.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)
    assert created.headers["Location"] in locations_of(bob.get("/compute/", headers={"Accept": "text/plain"}).text)
    with read_only_session(application.registry["occistack.engine"]) as db:
        provisioned = db.execute(select(Project.name, User.role, FederatedUser.method, FederatedUser.issuer)
                                 .join(User, Project.id == User.project_id)
                                 .join(FederatedUser, FederatedUser.user_id == User.id)).one()
    assert tuple(provisioned) == ("occi-tenant", "member", "keystone", keystone.auth_url)


def test_a_validated_token_is_remembered(keystone, application):
    authenticator = application.registry.getUtility(ISecurityPolicy).sources[0].authenticator
    asked = []
    validate = authenticator.keystone.validate
    authenticator.keystone.validate = lambda token: asked.append(token) or validate(token)
    bob = client(application, user_token(keystone, "bob", "occi-tenant"))
    for _ in range(3):
        bob.get("/compute/", status=200)
        bob.get("/-/", status=200)
    assert len(asked) == 1


def test_a_garbage_token_is_401_and_the_challenge_names_the_keystone(keystone, application):
    response = client(application, "gAAAAABnot-a-real-token").get("/-/", status=401)
    assert f"the Keystone at {keystone.auth_url} does not accept the token" in response.text
    assert response.headers.getall("WWW-Authenticate") == [f"Keystone uri='{keystone.auth_url}'"]
    anonymous = settling_test_app()(application).head("/-/", status=401)
    assert anonymous.headers.getall("WWW-Authenticate") == [f"Keystone uri='{keystone.auth_url}'"]


def test_a_revoked_token_is_401(keystone, application):
    token = user_token(keystone, "bob", "occi-tenant")
    v3_client.Client(session=keystone.admin_session()).tokens.revoke_token(token)
    assert "expired, revoked or never issued" in client(application, token).get("/-/", status=401).text


def test_an_unscoped_token_is_401(keystone, application):
    response = client(application, user_token(keystone, "bob", None)).get("/-/", status=401)
    assert "not scoped to a project" in response.text and keystone.auth_url in response.text


def test_a_project_no_rule_accepts_is_403_with_what_was_presented(keystone, application):
    response = client(application, user_token(keystone, "carol", "elsewhere")).get(
        "/-/", headers={"Accept": "text/plain"}, status=403)
    assert "no mapping rule gives it a project here" in response.text
    assert "elsewhere (role member)" in response.text and "VO occi-tenant" in response.text


def test_a_keystone_that_cannot_be_asked_is_503(keystone, db_url, demo_data, drivers, tmp_path):
    down = serve(db_url, drivers, tmp_path, f"http://127.0.0.1:{free_port()}/v3")
    refused = serve(db_url, drivers, tmp_path, keystone.auth_url, **{"occistack.keystone.password": "wrong"})
    try:
        token = user_token(keystone, "bob", "occi-tenant")
        response = client(down, token).get("/-/", status=503)
        assert "cannot validate the token" in response.text and response.headers["Retry-After"]
        assert "refuses this site's service account ('admin')" in client(refused, token).get("/-/", status=503).text
    finally:
        close_app(down)
        close_app(refused)


def test_the_keystone_is_real(keystone):
    # What the server is pointed at answers as Keystone does (no stand-in in these tests).
    version = requests.get(keystone.auth_url, timeout=5).json()["version"]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
