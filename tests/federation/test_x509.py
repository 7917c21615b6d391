"""Chains of certificates and RFC 3820 proxies, verified against a CA directory with CRLs: what
is accepted, what identity it proves, and why everything else is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from occistack.federation import CertificateRefused, ChainVerifier, TrustStore
from occistack.federation.x509 import dn_from_text, host_names
from tests.federation.pki import LIMITED, Authority, Grid, pem


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return Grid(tmp_path_factory.mktemp("grid"))


def verifier(grid: Grid, **options) -> ChainVerifier:
    return ChainVerifier(TrustStore(grid.ca_dir, reload_seconds=0, **options))


def chain(credential):
    return [credential.certificate, *credential.chain]


def refusal(grid, credential, **options) -> str:
    with pytest.raises(CertificateRefused) as refused:
        verifier(grid, **options).verify(chain(credential))
    return refused.value.message


def test_a_user_certificate_proves_its_dn(grid):
    verified = verifier(grid).verify(chain(grid.alice))
    assert verified.dn == "/C=EU/O=Test Grid/CN=Alice Tester"
    assert verified.issuer_dn == "/C=EU/O=Test Grid/CN=Test CA"
    assert verified.proxies == () and [dn for dn in map(lambda c: c.subject, verified.authorities)] == [grid.ca.name]


def test_a_proxy_and_a_proxy_of_a_proxy_prove_the_dn_of_the_user_certificate(grid):
    proxy = grid.alice.proxy()
    second = proxy.proxy(hours=1)
    for credential, proxies in ((proxy, 1), (second, 2)):
        verified = verifier(grid).verify(chain(credential))
        assert verified.dn == "/C=EU/O=Test Grid/CN=Alice Tester" and len(verified.proxies) == proxies
        assert verified.not_after <= credential.certificate.not_valid_after_utc


def test_expired_certificates_and_proxies_are_refused(grid):
    assert "expired at" in refusal(grid, grid.ca.issue("Old Timer", expired=True))
    message = refusal(grid, grid.alice.proxy(expired=True))
    assert "the proxy /C=EU/O=Test Grid/CN=Alice Tester/CN=" in message and "make a new proxy" in message


def test_a_certificate_of_a_ca_the_site_does_not_trust_is_refused(grid):
    stranger = grid.rogue_ca.issue("Mallory")
    message = refusal(grid, stranger.proxy())
    assert "issued by /C=EU/O=Test Grid/CN=Rogue CA, which is not a CA this site trusts" in message


def test_a_certificate_forged_in_a_trusted_ca_s_name_is_refused(grid):
    impostor = Authority("Test CA")  # same name, another key
    message = refusal(grid, impostor.issue("Alice Tester"))
    assert "that CA's key did not sign it" in message


def test_a_revoked_certificate_is_refused_once_the_crl_says_so(grid, tmp_path):
    local = Grid(tmp_path)
    bob = local.ca.issue("Bob Revoked")
    store = TrustStore(local.ca_dir, reload_seconds=0)
    assert ChainVerifier(store).verify(chain(bob.proxy())).dn.endswith("CN=Bob Revoked")
    local.revoke(bob)  # fetch-crl brings a new CRL: no restart needed
    with pytest.raises(CertificateRefused, match=r"CN=Bob Revoked \(serial [0-9A-F]+\) was revoked by its CA"):
        ChainVerifier(store).verify(chain(bob.proxy()))


def test_a_ca_without_a_current_crl_is_not_trusted_unless_the_site_says_so(tmp_path):
    local = Grid(tmp_path)
    local.write_ca_dir(expired_crl=True)
    assert "the CRL of the CA /C=EU/O=Test Grid/CN=Test CA expired at" in refusal(local, local.alice)
    for crl in local.ca_dir.glob("*.r0"):
        crl.unlink()
    assert "this site has no CRL of the CA /C=EU/O=Test Grid/CN=Test CA" in refusal(local, local.alice)
    assert verifier(local, require_crls=False).verify(chain(local.alice)).dn.endswith("CN=Alice Tester")


def test_limited_proxies_and_proxies_beyond_their_path_length_are_refused(grid):
    assert "policy limited (Globus)" in refusal(grid, grid.alice.proxy(language=LIMITED))
    no_children = grid.alice.proxy(path_length=0)
    assert "allows 0 proxies below it, but 1 were made" in refusal(grid, no_children.proxy())


def test_a_proxy_presented_with_someone_else_s_certificate_is_refused(grid):
    mallory = grid.ca.issue("Mallory")
    proxy = mallory.proxy()
    message = refusal(grid, type(proxy)(proxy.certificate, proxy.key, chain(grid.alice)))
    assert "was not signed by the certificate after it in the chain" in message


def test_only_proxies_without_their_user_certificate_are_refused(grid):
    proxy = grid.alice.proxy()
    with pytest.raises(CertificateRefused, match="only proxies"):
        verifier(grid).verify([proxy.certificate])


def test_intermediate_cas_come_with_the_chain_or_from_the_directory(tmp_path):
    local = Grid(tmp_path)
    intermediate = Authority("Test Intermediate CA", parent=local.ca)
    (local.ca_dir / "intermediate.r0").write_bytes(pem(intermediate.crl()))
    carol = intermediate.issue("Carol Deep")
    verified = verifier(local).verify(chain(carol.proxy()))
    assert [c.subject for c in verified.authorities] == [intermediate.name, local.ca.name]
    local.ca.revoke(type(carol)(intermediate.certificate, intermediate.key))
    local.write_ca_dir()
    assert "CN=Test Intermediate CA (serial" in refusal(local, carol)


def test_terminators_dns_are_read_in_either_form():
    assert dn_from_text("CN=Alice Tester,O=Test Grid,C=EU") == "/C=EU/O=Test Grid/CN=Alice Tester"
    assert dn_from_text("/C=EU/O=Test Grid/CN=Alice Tester") == "/C=EU/O=Test Grid/CN=Alice Tester"
    with pytest.raises(CertificateRefused, match="neither an RFC 4514 DN"):
        dn_from_text("=,=")


def test_host_names_are_the_dns_names_or_else_the_common_name(grid):
    assert host_names(grid.server.certificate) == {"localhost"}
    assert host_names(grid.ca.issue("KVM01.example.org").certificate) == {"kvm01.example.org"}
    assert host_names(grid.ca.issue("x", dns_names=["a.example", "B.example"]).certificate) == {"a.example",
                                                                                                "b.example"}


def test_the_clock_decides_validity(grid):
    later = ChainVerifier(TrustStore(grid.ca_dir), clock=lambda: dt.datetime.now(dt.timezone.utc)
                          + dt.timedelta(days=15))
    with pytest.raises(CertificateRefused, match="expired"):
        later.verify(chain(grid.alice))
