"""The trade-off of a Keystone challenge (README, Authentication): the Infrastructure Manager,
given a user name and password, probes ``HEAD /-/`` without credentials and, when the challenge
names a Keystone, never sends them. A second management server on the same database whose
challenge is HTTP Basic's -- production.ini's ``[app:basic]`` -- lets those users in."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from paste.deploy import appconfig

from tests.conftest import close_app, make_app, settling_test_app
from tests.federation.conftest import AUDIENCE, RULES, token
from tests.occi import compute_body

ROOT = Path(__file__).resolve().parents[2]


class InfrastructureManagerAuth:
    """How IM's OCCI connector decides what to send (its get_auth_header): the Keystone path when
    the unauthenticated probe's challenge names one, HTTP Basic otherwise."""

    def __init__(self, client, username: str, password: str):
        self.client, self.username, self.password = client, username, password

    def auth_headers(self) -> dict[str, str] | None:
        probe = self.client.head("/-/", headers={"Accept": "text/plain", "Connection": "close"}, expect_errors=True)
        challenge = probe.headers.get("WWW-Authenticate", "")
        if challenge.startswith("Keystone uri"):
            return None  # IM asks that Keystone for a token with a proxy or an OIDC token only
        pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": "Basic " + pair}


def _site(db_url, drivers, issuer, tmp_path, **extra):
    rules = tmp_path / "mapping.yaml"
    rules.write_text(RULES)
    return make_app(db_url, drivers, **{
        "occistack.oidc.issuers": "test", "occistack.oidc.test.issuer": issuer.url, "occistack.oidc.test.audience": AUDIENCE,
        "occistack.mapping_file": str(rules), **extra})


@pytest.fixture
def two_endpoints(db_url, demo_data, drivers, issuer, tmp_path):
    federated = _site(db_url, drivers, issuer, tmp_path)
    keystone_free = _site(db_url, drivers, issuer, tmp_path, **{"occistack.keystone.builtin": "false"})
    yield federated, keystone_free
    for application in (federated, keystone_free):
        close_app(application)


def test_im_with_a_password_cannot_pass_a_keystone_challenge(two_endpoints):
    federated, _ = two_endpoints
    im = InfrastructureManagerAuth(settling_test_app()(federated), "demo", "demo")
    assert im.auth_headers() is None


def test_im_with_a_password_reaches_the_keystone_free_endpoint_of_the_same_cloud(two_endpoints, issuer):
    federated, keystone_free = two_endpoints
    im = InfrastructureManagerAuth(settling_test_app()(keystone_free), "demo", "demo")
    headers = im.auth_headers()
    assert headers is not None and headers["Authorization"].startswith("Basic ")
    created = settling_test_app()(keystone_free).post(
        "/compute/", compute_body(), headers={**headers, "Content-Type": "text/plain"}, status=201)
    location = created.headers["Location"].replace("http://localhost", "")
    # The same cloud: the main endpoint shows the compute to the same user sending Basic unasked.
    settling_test_app()(federated).get(location, headers=headers, status=200)
    # OIDC tokens are accepted directly on the Keystone-free endpoint as well.
    bearer = {"Authorization": f"Bearer {token(issuer)}"}
    settling_test_app()(keystone_free).get("/-/", headers=bearer, status=200)


def test_production_ini_s_basic_endpoint_is_the_main_application_without_keystone():
    main = appconfig(f"config:{ROOT / 'production.ini'}", name="main").local_conf
    basic = appconfig(f"config:{ROOT / 'production.ini'}", name="basic").local_conf
    assert basic["occistack.keystone.builtin"] == "false"
    assert {key: value for key, value in basic.items() if key != "occistack.keystone.builtin"} == \
        {key: value for key, value in main.items() if key != "occistack.keystone.builtin"}
