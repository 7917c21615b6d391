"""What the federation tests share: a stand-in OIDC issuer over real HTTP with a key made in the
test, an application that trusts it (with the VO mapping rules below), the tokens it signs, and
clients that bear them."""

from __future__ import annotations

import pytest

from tests.conftest import running_app, settling_test_app
from tests.federation.issuer_server import StandInIssuer
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


def token(issuer, **claims):
    claims = {"iss": issuer.url, "aud": AUDIENCE, "eduperson_entitlement": [ENTITLEMENT], **claims}
    return sign(issuer.keys[0], **claims)


def client(application, bearer=None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    return settling_test_app()(application, extra_environ=extra)
