"""What the federation tests share: a stand-in OIDC issuer over real HTTP with a key made in the
test, an application that trusts it (with the VO mapping rules below), the tokens it signs, and
clients that bear them; and a real OpenLDAP slapd for the LDAP tests (tests/federation/slapd.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import missing_component, running_app, settling_test_app
from tests.federation.issuer_server import StandInIssuer
from tests.federation.slapd import Slapd, slapd_binary
from tests.federation.tokens import rsa_key, sign

AUDIENCE = "https://occi.test/"
ENTITLEMENT = "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu"
RULES = """
rules:
  - match: {vo: fedcloud.egi.eu, vo_role: vm_operator}
    project: fedcloud
    role: member
  - match: {vo: site-admins}
    project: fedcloud
    role: admin
"""


@pytest.fixture
def issuer():
    with StandInIssuer() as stand_in:
        stand_in.keys = [rsa_key("k1")]
        yield stand_in


@pytest.fixture
def oidc_app(db_url, demo_data, drivers, issuer, tmp_path):
    rules = tmp_path / "mapping.yaml"
    rules.write_text(RULES)
    with running_app(db_url, drivers, **{
        "occistack.oidc.issuers": "test",
        "occistack.oidc.test.issuer": issuer.url,
        "occistack.oidc.test.audience": AUDIENCE,
        "occistack.oidc.test.userinfo": "true",
        "occistack.oidc.test.leeway_seconds": "0",
        "occistack.mapping_file": str(rules),
    }) as application:
        yield application


@pytest.fixture(scope="session")
def slapd_server(tmp_path_factory):
    """One slapd for the session, its people and groups loaded; stopped at the end."""
    if slapd_binary() is None or shutil.which("ldapadd") is None:
        missing_component("OpenLDAP's slapd and ldapadd are not installed (scripts/system-packages.sh installs them)")
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    try:
        server.load()
        yield server
    finally:
        server.stop()


@pytest.fixture
def slapd(slapd_server):
    """The session's slapd, running and with every group's first members, whatever the test
    before did to it."""
    if slapd_server.process is None:
        slapd_server.start()
    slapd_server.reset()
    yield slapd_server
    if slapd_server.process is None:
        slapd_server.start()


def token(issuer, **claims):
    claims = {"iss": issuer.url, "aud": AUDIENCE, "eduperson_entitlement": [ENTITLEMENT], **claims}
    return sign(issuer.keys[0], **claims)


def client(application, bearer=None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    return settling_test_app()(application, extra_environ=extra)
