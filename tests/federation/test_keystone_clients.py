"""OpenStack's own clients against the built-in token service, over real HTTP: keystoneauth and
python-keystoneclient get tokens by the v3 OS-FEDERATION flow and the v2.0 ``voms: true`` flow,
list the projects, scope, find the OCCI endpoint in the catalog, and open OCCI requests with the
token. The server runs under waitress on a loopback port, and an OIDC access token of a
stand-in issuer is the federated credential."""

from __future__ import annotations

import threading

import pytest
import requests
from keystoneauth1 import exceptions, session
from keystoneauth1.identity import v2
from keystoneauth1.identity.v3 import OidcAccessToken
from keystoneclient.v2_0 import client as v2_client
from keystoneclient.v3 import client as v3_client
from waitress.server import create_server

from tests.conftest import close_app, make_app
from tests.federation.keystone_server import free_port
from tests.federation.tokens import rsa_key, sign
from tests.occi import compute_body

AUDIENCE = "https://occi.test/"
RULES = "- match: {vo: fedcloud.egi.eu, vo_role: vm_operator}\n  project: fedcloud\n  role: member\n"
OPERATOR = "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu"


class VomsAuth(v2.Auth):
    """Keystone-VOMS' v2.0 authentication, ``{"auth": {"voms": true}}``: the credential travels
    with the request itself (a VOMS proxy as the TLS client certificate; here an OIDC token in a
    header the session adds to every request)."""

    def get_auth_data(self, headers=None):
        return {"voms": True}


@pytest.fixture
def server(db_url, demo_data, drivers, issuer, tmp_path):
    """The OCCI server over HTTP; its URL."""
    (tmp_path / "mapping.yaml").write_text(RULES)
    application = make_app(db_url, drivers, **{
        "occistack.oidc.issuers": "egi", "occistack.oidc.egi.issuer": issuer.url, "occistack.oidc.egi.audience": AUDIENCE,
        "occistack.mapping_file": str(tmp_path / "mapping.yaml")})
    port = free_port()
    served = create_server(application, host="127.0.0.1", port=port, threads=4)
    closing = threading.Event()

    def run():
        try:
            served.run()
        except OSError:
            # waitress's loop may be inside select() on the sockets close() just closed.
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        closing.set()
        served.close()
        thread.join(timeout=5)
        close_app(application)


def access_token(issuer, subject: str = "alice") -> str:
    return sign(issuer.keys[0], iss=issuer.url, aud=AUDIENCE, sub=subject, eduperson_entitlement=[OPERATOR])


def keystone_url(server: str) -> str:
    """What the OCCI server's challenge names, read as a client reads it."""
    challenge = requests.head(server + "/-/").headers["WWW-Authenticate"]
    assert challenge.startswith("Keystone uri='")
    return challenge[14:-1]


def occi_computes(server: str, token: str) -> list[str]:
    response = requests.get(server + "/compute/", headers={"X-Auth-Token": token, "Accept": "text/uri-list"})
    assert response.status_code == 200, response.text
    return response.text.split()


def test_keystoneauth_v3_federation_flow(server, issuer):
    auth_url = keystone_url(server) + "/v3"
    unscoped = session.Session(auth=OidcAccessToken(auth_url=auth_url, identity_provider="egi.eu", protocol="oidc",
                                                    access_token=access_token(issuer)))
    projects = v3_client.Client(session=unscoped).auth.projects()
    assert [project.name for project in projects] == ["fedcloud"]
    scoped = session.Session(auth=OidcAccessToken(auth_url=auth_url, identity_provider="egi.eu", protocol="oidc",
                                                  access_token=access_token(issuer), project_id=projects[0].id))
    access = scoped.auth.get_access(scoped)
    assert (access.project_name, access.role_names, access.username) == ("fedcloud", ["member"], "alice@egi")
    # The catalog leads to the OCCI endpoint; keystoneauth sends the token there itself.
    assert scoped.get_endpoint(service_type="occi", interface="public") == server
    created = scoped.post("/compute/", endpoint_filter={"service_type": "occi", "interface": "public"},
                          data=compute_body(), headers={"Content-Type": "text/plain"})
    assert created.status_code == 201
    assert created.headers["Location"] in occi_computes(server, scoped.get_token())


def test_keystoneauth_v2_voms_flow(server, issuer):
    auth_url = keystone_url(server) + "/v2.0"
    credential = {"Authorization": f"Bearer {access_token(issuer)}"}
    unscoped = session.Session(auth=VomsAuth(auth_url=auth_url), additional_headers=credential)
    tenants = v2_client.Client(session=unscoped).tenants.list()
    assert [tenant.name for tenant in tenants] == ["fedcloud"]
    scoped = session.Session(auth=VomsAuth(auth_url=auth_url, tenant_name=tenants[0].name),
                             additional_headers=credential)
    access = scoped.auth.get_access(scoped)
    assert (access.project_name, access.project_id) == ("fedcloud", tenants[0].id)
    assert scoped.get_endpoint(service_type="occi", interface="public") == server
    assert occi_computes(server, scoped.get_token()) == []
    # The token alone, without the credential it was had for, opens the OCCI face.
    assert requests.get(server + "/-/", headers={"X-Auth-Token": scoped.get_token()}).status_code == 200


def test_keystoneauth_sees_refusals_as_keystone_s(server, issuer):
    auth_url = keystone_url(server) + "/v3"
    elsewhere = session.Session(auth=OidcAccessToken(auth_url=auth_url, identity_provider="egi.eu", protocol="oidc",
                                                     access_token=access_token(issuer), project_name="demo",
                                                     project_domain_id="default"))
    with pytest.raises(exceptions.Unauthorized, match="holds no role in the project 'demo'"):
        elsewhere.get_token()
    forged = sign(rsa_key("k1"), iss=issuer.url, aud=AUDIENCE, eduperson_entitlement=[OPERATOR])
    with pytest.raises(exceptions.Unauthorized, match="altered or forged"):
        session.Session(auth=OidcAccessToken(auth_url=auth_url, identity_provider="egi.eu", protocol="oidc",
                                             access_token=forged)).get_token()
    with pytest.raises(exceptions.Unauthorized, match="carries none"):
        session.Session(auth=VomsAuth(auth_url=keystone_url(server) + "/v2.0")).get_token()
