"""Apache with mod_gridsite as the TLS terminator in front of the server (the one terminator that
accepts RFC 3820 proxies): it forwards the client's certificate and chain in headers, which the
server believes because they come from Apache's address, and verifies again itself."""

from __future__ import annotations

import pytest
import requests

from tests.federation.pki import Grid, pem
from tests.integration.tls_servers import Apache, Pserve, app_section, apache_binary, free_port

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

RULES = """
rules:
  - match: {issuer: x509, vo: vo.example, vo_role: operator}
    project: operators
"""


@pytest.fixture
def behind_apache(db_url, demo_data, tmp_path):
    apache_binary()  # fails under CI, skips elsewhere, when Apache or mod_gridsite is missing
    grid = Grid(tmp_path)
    (tmp_path / "mapping.yaml").write_text(RULES)
    (tmp_path / "ca.pem").write_bytes(pem(grid.ca.certificate))
    port = free_port()
    app = app_section(db_url, **{
        "occistack.x509.ca_dir": str(grid.ca_dir), "occistack.x509.vomsdir": str(grid.vomsdir),
        "occistack.x509.reload_seconds": "0", "occistack.mapping_file": str(tmp_path / "mapping.yaml"),
        "occistack.x509.trusted_proxies": "127.0.0.1", "occistack.public_url": "https://localhost"})
    backend = Pserve(tmp_path, app, {"use": "egg:gunicorn#main", "host": "127.0.0.1", "port": str(port),
                                     "workers": "1", "worker_class": "occistack.serve.GuardedThreadWorker",
                                     "threads": "4"},
                     f"http://127.0.0.1:{port}")
    certificate, key = grid.server.write_pair(tmp_path, "hostcert")
    apache = None
    try:
        apache = Apache(tmp_path, backend.url, certificate, key, grid.ca_dir)
        yield grid, apache, tmp_path
    finally:
        if apache is not None:
            apache.stop()
        backend.stop()


def test_voms_proxies_through_apache_with_mod_gridsite(behind_apache):
    grid, apache, tmp_path = behind_apache

    def get(cert):
        return requests.get(f"{apache.url}/-/", cert=cert, verify=str(tmp_path / "ca.pem"), timeout=30,
                            headers={"Accept": "text/plain"})

    voms = grid.voms_proxy(grid.alice, "vo.example", ["/vo.example/Role=operator"])
    accepted = get(str(voms))
    assert accepted.status_code == 200, f"{accepted.text}\n{apache.error_log()}"
    assert accepted.text.startswith("Category: entity;")

    plain = get(str(grid.alice.proxy().write(tmp_path / "plain.pem")))
    assert plain.status_code == 403 and "presented subject '/C=EU/O=Test Grid/CN=Alice Tester'" in plain.text

    rita = grid.ca.issue("Rita Revoked")
    grid.revoke(rita)
    revoked = get(str(grid.voms_proxy(rita, "vo.example", ["/vo.example/Role=operator"])))
    assert revoked.status_code == 401 and "was revoked by its CA" in revoked.text

    wrong_vo = get(str(grid.voms_proxy(grid.alice, "other.vo", ["/other.vo/Role=operator"])))
    assert wrong_vo.status_code == 401 and "VO 'other.vo', which this site does not trust" in wrong_vo.text

    nothing = get(None)
    assert nothing.status_code == 401 and "authentication required" in nothing.text
