"""VOMS proxies made by Debian's voms-proxy-fake: their attribute certificates parsed and verified
against a vomsdir (.lsc files) and the CA directory."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from occistack.federation import CertificateRefused, ChainVerifier, TrustStore, VomsVerifier
from occistack.federation.voms import VOMS_EXTENSION
from tests.federation.pki import Grid


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return Grid(tmp_path_factory.mktemp("voms"))


def attributes(grid: Grid, proxy_file, clock=None):
    chains = ChainVerifier(TrustStore(grid.ca_dir, reload_seconds=0))
    voms = VomsVerifier(grid.vomsdir, chains, **({"clock": clock} if clock else {}))
    return voms.attributes(chains.verify(x509.load_pem_x509_certificates(proxy_file.read_bytes())))


def refusal(grid: Grid, proxy_file) -> str:
    with pytest.raises(CertificateRefused) as refused:
        attributes(grid, proxy_file)
    return refused.value.message


def test_the_vo_and_fqans_of_a_voms_proxy(grid):
    proxy = grid.voms_proxy(grid.alice, "vo.example", ["/vo.example/Role=NULL/Capability=NULL",
                                                       "/vo.example/admins/Role=operator"])
    (found,) = attributes(grid, proxy)
    assert found.vo == "vo.example" and found.server == "voms.example.org:15000"
    assert found.fqans == ("/vo.example/Role=NULL/Capability=NULL", "/vo.example/admins/Role=operator")
    assert found.signer_dn == "/C=EU/O=Test Grid/CN=voms.example.org"


def test_a_plain_proxy_has_no_attributes(grid, tmp_path):
    assert attributes(grid, grid.alice.proxy().write(tmp_path / "plain.pem")) == ()


def test_a_vo_the_site_does_not_trust_is_refused(grid):
    proxy = grid.voms_proxy(grid.alice, "other.vo", ["/other.vo"])
    assert "VO 'other.vo', which this site does not trust (VOs with a directory in its vomsdir: vo.example)" \
        in refusal(grid, proxy)


def test_attributes_signed_by_a_server_the_lsc_does_not_name_are_refused(grid):
    rogue = grid.rogue_ca.issue("voms.example.org", dns_names=["voms.example.org"], server=True)
    message = refusal(grid, grid.voms_proxy(grid.alice, "vo.example", ["/vo.example"], rogue))
    assert "(issued by /C=EU/O=Test Grid/CN=Rogue CA), which" in message and ".lsc does not name" in message
    stranger = grid.ca.issue("voms.elsewhere.org", server=True)
    message = refusal(grid, grid.voms_proxy(grid.alice, "vo.example", ["/vo.example"], stranger))
    assert "signed by the server voms.elsewhere.org, which this site does not know as a server of vo.example" in message


def test_fqans_of_another_vo_are_refused(grid):
    proxy = grid.voms_proxy(grid.alice, "vo.example", ["/vo.example", "/atlas/Role=production"])
    assert "may vouch only for groups of vo.example, but its attributes say /atlas/Role=production" \
        in refusal(grid, proxy)


def test_expired_attributes_are_refused(grid):
    proxy = grid.voms_proxy(grid.alice, "vo.example", ["/vo.example"])
    later = lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=13)  # noqa: E731
    with pytest.raises(CertificateRefused, match="expired"):
        attributes(grid, proxy, clock=later)


def test_attributes_of_another_user_or_altered_are_refused(grid, tmp_path):
    bob = grid.ca.issue("Bob Borrower")
    bobs = x509.load_pem_x509_certificates(grid.voms_proxy(bob, "vo.example", ["/vo.example/admins"]).read_bytes())
    stolen = bobs[0].extensions.get_extension_for_oid(VOMS_EXTENSION)
    borrowed = grid.alice.proxy(extensions=[stolen]).write(tmp_path / "borrowed.pem")
    assert "issued to another certificate than the one presented" in refusal(grid, borrowed)

    altered_value = stolen.value.value.replace(b"/vo.example/admins", b"/vo.example/adminz")
    assert altered_value != stolen.value.value
    altered = x509.Extension(VOMS_EXTENSION, False, x509.UnrecognizedExtension(VOMS_EXTENSION, altered_value))
    forged = bob.proxy(extensions=[altered]).write(tmp_path / "forged.pem")
    assert "does not verify with the key of /C=EU/O=Test Grid/CN=voms.example.org" in refusal(grid, forged)


def test_a_revoked_voms_server_is_not_trusted(tmp_path):
    local = Grid(tmp_path)
    proxy = local.voms_proxy(local.alice, "vo.example", ["/vo.example"])
    local.revoke(local.voms_server)
    message = refusal(local, proxy)
    assert "the certificate of the VOMS server of vo.example is not trusted" in message and "was revoked" in message
