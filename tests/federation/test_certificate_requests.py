"""Client certificates at the OCCI face, as a trusted TLS terminator forwards them in headers:
the identity and project each credential gets, and the status and message of each refusal. The
same requests over real TLS (gunicorn) and through Apache with mod_gridsite are in
tests/integration/test_x509_tls.py and test_gridsite.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.model import FederatedUser, Project, User
from occistack.model.session import read_only_session
from tests.conftest import basic, close_app, make_app, settling_test_app
from tests.federation.pki import Grid, pem

RULES = """
rules:
  - match: {issuer: x509, vo: vo.example, vo_role: operator}
    project: operators
    role: member
  - match: {issuer: x509, vo: vo.example}
    project: vo-example
    role: reader
  - match: {dn: "/C=EU/O=Test Grid/CN=Alice Tester"}
    project: demo
    role: member
"""
TERMINATOR = "10.0.0.5"


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return Grid(tmp_path_factory.mktemp("grid"))


@pytest.fixture
def x509_app(db_url, demo_data, drivers, grid, tmp_path):
    rules = tmp_path / "mapping.yaml"
    rules.write_text(RULES)
    application = make_app(db_url, drivers, **{
        "occistack.x509.ca_dir": str(grid.ca_dir),
        "occistack.x509.vomsdir": str(grid.vomsdir),
        "occistack.x509.trusted_proxies": f"{TERMINATOR} 192.0.2.0/24",
        "occistack.x509.reload_seconds": "0",
        "occistack.mapping_file": str(rules),
    })
    yield application
    close_app(application)


def forwarded(chain, address=TERMINATOR, verify="SUCCESS") -> dict:
    """The environ a terminator's request has: Apache's way, PEM with spaces for line breaks."""
    environ = {"REMOTE_ADDR": address, "HTTP_X_SSL_CLIENT_VERIFY": verify}
    leaf, *rest = chain
    environ["HTTP_X_SSL_CLIENT_CERT"] = pem(leaf).decode().replace("\n", " ")
    for index, certificate in enumerate(rest):
        environ[f"HTTP_X_SSL_CLIENT_CHAIN_{index}"] = pem(certificate).decode().replace("\n", " ")
    return environ


def chain_of(credential_or_file):
    from cryptography import x509

    if hasattr(credential_or_file, "certificate"):
        return [credential_or_file.certificate, *credential_or_file.chain]
    return x509.load_pem_x509_certificates(credential_or_file.read_bytes())


def get(application, environ, status):
    return settling_test_app()(application, extra_environ=environ).get(
        "/-/", headers={"Accept": "text/plain"}, status=status)


def placed(application, dn):
    with read_only_session(application.registry["occistack.engine"]) as session:
        return session.execute(select(Project.name, User.role).join(User, User.project_id == Project.id)
                               .join(FederatedUser, FederatedUser.user_id == User.id)
                               .where(FederatedUser.subject == dn)).one()


def test_a_certificate_a_proxy_and_a_voms_proxy_each_get_the_project_their_rule_gives(x509_app, grid):
    alice = "/C=EU/O=Test Grid/CN=Alice Tester"
    get(x509_app, forwarded(chain_of(grid.alice)), 200)
    assert placed(x509_app, alice) == ("demo", "member")
    get(x509_app, forwarded(chain_of(grid.alice.proxy())), 200)
    assert placed(x509_app, alice) == ("demo", "member")
    voms = grid.voms_proxy(grid.alice, "vo.example", ["/vo.example/Role=operator"])
    get(x509_app, forwarded(chain_of(voms)), 200)
    assert placed(x509_app, alice) == ("operators", "member")
    with read_only_session(x509_app.registry["occistack.engine"]) as session:
        link = session.scalar(select(FederatedUser))
        assert (link.method, link.issuer) == ("x509", "/C=EU/O=Test Grid/CN=Test CA")


def test_a_voms_proxy_works_in_its_project(x509_app, grid):
    from tests.occi import compute_body

    voms = grid.voms_proxy(grid.alice, "vo.example", ["/vo.example/Role=operator"])
    client = settling_test_app()(x509_app, extra_environ=forwarded(chain_of(voms)))
    created = client.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)
    assert client.get(created.headers["Location"], headers={"Accept": "text/plain"}, status=200)


def test_a_dn_the_terminator_verified_is_enough_without_vo(x509_app):
    environ = {"REMOTE_ADDR": "192.0.2.7", "HTTP_X_SSL_CLIENT_VERIFY": "SUCCESS",
               "HTTP_X_SSL_CLIENT_S_DN": "CN=Alice Tester,O=Test Grid,C=EU",
               "HTTP_X_SSL_CLIENT_I_DN": "CN=Test CA,O=Test Grid,C=EU"}
    get(x509_app, environ, 200)
    assert placed(x509_app, "/C=EU/O=Test Grid/CN=Alice Tester") == ("demo", "member")
    del environ["HTTP_X_SSL_CLIENT_I_DN"]
    assert "not its issuer's" in get(x509_app, environ, 401).text


def test_the_same_headers_from_anyone_else_are_ignored(x509_app, grid):
    response = get(x509_app, forwarded(chain_of(grid.alice), address="10.0.0.6"), 401)
    assert "authentication required" in response.text
    assert "or a client certificate or (VOMS) proxy over TLS" in response.text
    dn_only = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_SSL_CLIENT_VERIFY": "SUCCESS",
               "HTTP_X_SSL_CLIENT_S_DN": "CN=Alice Tester,O=Test Grid,C=EU",
               "HTTP_X_SSL_CLIENT_I_DN": "CN=Test CA,O=Test Grid,C=EU"}
    assert "authentication required" in get(x509_app, dn_only, 401).text


@pytest.mark.parametrize("case, message", [
    ("expired", "expired at"),
    ("wrong CA", "CN=Rogue CA, which is not a CA this site trusts"),
    ("revoked", "was revoked by its CA"),
    ("untrusted VO", "VO 'other.vo', which this site does not trust"),
    ("terminator failed", "the TLS terminator could not verify the client certificate (FAILED:"),
])
def test_refused_credentials_are_answered_401_with_the_reason(x509_app, grid, case, message):
    if case == "expired":
        environ = forwarded(chain_of(grid.alice.proxy(expired=True)))
    elif case == "wrong CA":
        environ = forwarded(chain_of(grid.rogue_ca.issue("Alice Tester").proxy()))
    elif case == "revoked":
        revoked = grid.ca.issue("Rita Revoked")
        grid.revoke(revoked)
        environ = forwarded(chain_of(revoked.proxy()))
    elif case == "untrusted VO":
        environ = forwarded(chain_of(grid.voms_proxy(grid.alice, "other.vo", ["/other.vo"])))
    else:
        environ = forwarded(chain_of(grid.alice), verify="FAILED:certificate has expired")
    response = get(x509_app, environ, 401)
    assert message in response.text
    assert all("invalid_token" not in value for value in response.headers.getall("WWW-Authenticate"))


def test_a_valid_credential_no_rule_maps_is_answered_403_saying_what_was_presented(x509_app, grid):
    bob = grid.ca.issue("Bob Unmapped")
    response = get(x509_app, forwarded(chain_of(bob.proxy())), 403)
    assert "no mapping rule gives it a project here" in response.text
    assert "subject '/C=EU/O=Test Grid/CN=Bob Unmapped' of /C=EU/O=Test Grid/CN=Test CA" in response.text
    assert "rule 1: issuer x509, VO vo.example, VO role operator → project operators as member" in response.text


def test_an_authorization_header_wins_over_a_certificate(x509_app, grid):
    environ = {**forwarded(chain_of(grid.rogue_ca.issue("Mallory"))), "HTTP_AUTHORIZATION": basic("demo", "demo")}
    get(x509_app, environ, 200)


def test_without_a_ca_dir_certificates_are_not_looked_at(wsgi_app, grid):
    assert wsgi_app.registry["occistack.x509"] is None
    response = get(wsgi_app, forwarded(chain_of(grid.alice), address="127.0.0.1"), 401)
    assert "client certificate" not in response.text


def test_settings_the_server_cannot_use_stop_it_at_start(db_url, grid, tmp_path):
    from pyramid.exceptions import ConfigurationError

    rules = tmp_path / "mapping.yaml"
    rules.write_text(RULES)
    for extra, message in [
        ({"occistack.x509.ca_dir": str(grid.ca_dir)}, "occistack.mapping_file is not"),
        ({"occistack.x509.ca_dir": str(tmp_path / "nowhere"), "occistack.mapping_file": str(rules)},
         "the CA directory"),
        ({"occistack.x509.cadir": "x"}, "unknown setting occistack.x509.cadir"),
        ({"occistack.x509.trusted_proxies": "apache.local"}, "'apache.local' is not an IP address"),
        ({"occistack.agents.credentials": "certificate"}, "but occistack.x509.ca_dir is not set"),
        ({"occistack.agents.credentials": "password"}, "lists one or both of certificate, token"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            make_app(db_url, **extra)


def test_an_agent_behind_the_terminator_speaks_with_its_host_certificate(x509_app, grid):
    from occistack.hostagent.protocol import PROTOCOL_VERSION, Heartbeat, HostFacts, Register, encode

    facts = HostFacts(cpu_sockets=1, cpu_cores=8, cpu_mhz=2000, memory_mib=8192)
    host1 = grid.ca.issue("host1.example.org", dns_names=["host1"], server=True)
    client = settling_test_app()(x509_app, extra_environ=forwarded(chain_of(host1)))

    def post(message, status):
        return client.post("/agent/v1/messages", encode(message), headers={"Content-Type": "application/json"},
                           status=status)

    host_id = post(Register("host1", "", PROTOCOL_VERSION, facts), 200).json["host_id"]
    post(Heartbeat(host_id), 200)
    assert "is for host1, not for 'host2'" in post(Register("host2", "", PROTOCOL_VERSION, facts), 403).text
    spoofed = settling_test_app()(x509_app, extra_environ=forwarded(chain_of(host1), address="10.9.9.9"))
    refused = spoofed.post("/agent/v1/messages", encode(Heartbeat(host_id)),
                           headers={"Content-Type": "application/json"}, status=401)
    assert "Authorization: Bearer" in refused.text
