"""The README's walkthrough and the examples of docs/authentication.md, run verbatim against a
real server started as `make run` starts it (pserve, waitress, the embedded default), on a scratch
database and a free port."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import migrate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def walkthrough_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A walk through the OCCI API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's walkthrough")
    workdir = tmp_path_factory.mktemp("readme")
    ini = workdir / "walkthrough.ini"
    ini.write_text((ROOT / "development.ini").read_text().replace(
        "sqlite:///%(here)s/var/occistack.sqlite", f"sqlite:///{workdir}/walkthrough.sqlite"))
    # The schema as `occistack db upgrade` makes it (the same alembic upgrade, in this process: a
    # failure then shows its traceback here), then the demo data through the command line.
    migrate(f"sqlite:///{workdir}/walkthrough.sqlite")
    done = subprocess.run([BIN / "occistack", "-c", ini, "demo"], capture_output=True, text=True)
    assert done.returncode == 0, f"occistack demo failed:\n{done.stderr[-3000:]}"
    port = _free_port()
    server = subprocess.Popen([BIN / "pserve", ini, f"http_port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        _wait_until_serving(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_walkthrough_runs_verbatim(served):
    blocks = walkthrough_blocks()
    assert len(blocks) >= 7, "the walkthrough lost its steps"
    # Issue 12: the walkthrough's link-less compute still works once the user owns a private
    # network (it joins the zone's public network).
    _create_private_network(served)
    outputs = []
    for block in blocks:
        script = "set -euo pipefail\n" + block.replace("127.0.0.1:6543", f"127.0.0.1:{served}")
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"step failed:\n{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        outputs.append(done.stdout)
    discovery, _create, active, actions, link, _json, delete = outputs[:7]
    assert discovery.startswith('Category: entity; scheme="http://schemas.ogf.org/occi/core#"')
    assert 'occi.compute.state="active"' in active and 'occi.networkinterface.address="192.0.2.' in active
    assert actions.splitlines() == ['X-OCCI-Attribute: occi.compute.state="inactive"',
                                    'X-OCCI-Attribute: occi.compute.state="active"']
    assert "Link: </storage/walkthrough-disk>" in link
    assert delete.strip().endswith("404")


def _create_private_network(port: int) -> None:
    body = "\n".join(['Category: network; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
                      'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; '
                      'class="mixin"', 'X-OCCI-Attribute: occi.network.address="10.50.0.0/24"'])
    request = urllib.request.Request(f"http://127.0.0.1:{port}/network/", data=body.encode(), method="POST",
                                     headers={"Content-Type": "text/plain", "Authorization": "Basic ZGVtbzpkZW1v"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"pserve exited: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/", timeout=1)
        except urllib.error.HTTPError:
            return  # 401: it answers
        except OSError:
            time.sleep(0.2)
            continue
        return
    pytest.fail("pserve did not start serving within 30 s")


# --- the Authentication section ---------------------------------------------------------------------

def authentication_blocks(subsection: str | None = None) -> dict[str, list[str]]:
    """The examples of docs/authentication.md before its first section (Basic, OIDC and the
    built-in token service), or of one section."""
    page = (ROOT / "docs" / "authentication.md").read_text()
    if subsection is None:
        section = page.split("\n## ", 1)[0]
    else:
        section = page.split(f"\n## {subsection}\n", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, list[str]] = {"sh": [], "ini": [], "yaml": []}
    for language, body in re.findall(r"```(sh|ini|yaml)\n(.*?)```", section, flags=re.S):
        blocks[language].append(body)
    return blocks


def test_authentication_examples_run_verbatim(tmp_path):
    """Basic, OIDC and the built-in token service as the README shows them: its provider command,
    its settings and rules, its curl commands, against pserve on a scratch database (ports
    swapped for free ones)."""
    from tests.conftest import missing_component
    from tests.federation.oidc_provider import ProviderUnavailable, install

    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's examples")
    try:
        install()
    except ProviderUnavailable as problem:
        missing_component(str(problem))
    blocks = authentication_blocks()
    (start_provider,), (settings,), (rules,) = [blocks["sh"][1:2], blocks["ini"], blocks["yaml"]]
    server_port, provider_port = _free_port(), _free_port()

    def localised(text: str) -> str:
        return (text.replace("127.0.0.1:6543", f"127.0.0.1:{server_port}")
                .replace("47301", str(provider_port)).replace(".venv/bin/python", str(BIN / "python")))

    database = f"sqlite:///{tmp_path}/auth.sqlite"
    ini = tmp_path / "auth.ini"
    ini.write_text((ROOT / "development.ini").read_text().replace(
        "sqlite:///%(here)s/var/occistack.sqlite", database + "\n" + localised(settings)))
    (tmp_path / "mapping.yaml").write_text(rules)
    migrate(database)
    done = subprocess.run([BIN / "occistack", "-c", ini, "demo"], capture_output=True, text=True)
    assert done.returncode == 0, f"occistack demo failed:\n{done.stderr[-3000:]}"
    provider = subprocess.Popen(["bash", "-c", "exec " + localised(start_provider).strip()], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = subprocess.Popen([BIN / "pserve", ini, f"http_port={server_port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        assert "OIDC provider at" in provider.stdout.readline()
        _wait_until_serving(server_port, server)
        outputs = []
        for block in blocks["sh"][:1] + blocks["sh"][2:]:
            done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + localised(block)], capture_output=True,
                                  text=True, timeout=60, cwd=ROOT)
            assert done.returncode == 0, f"step failed:\n{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            outputs.append(done.stdout)
    finally:
        server.terminate()
        provider.terminate()
        server.wait(timeout=10)
        provider.wait(timeout=10)
    basic, bearer, refused, keystone = outputs
    assert basic.startswith("200\n") and "the user name or password is wrong" in basic
    assert bearer.startswith("200\n")
    stranger, elsewhere = refused.strip().split("\n", 1)
    assert "no mapping rule gives it a project here" in stranger and "other.vo" in stranger
    assert "meant for the audience 'https://elsewhere.test/'" in elsewhere
    challenge, *rest = keystone.replace("\r", "").splitlines()
    assert challenge.lower().startswith("www-authenticate: ")  # waitress writes Www-Authenticate
    assert challenge.partition(": ")[2] == f"Keystone uri='http://127.0.0.1:{server_port}/keystone'"
    assert rest == ["['demo']", "200"]


def test_external_keystone_example_runs_verbatim(tmp_path):
    """The README's external Keystone: its command starts a real Keystone, its settings and rules
    point pserve at it, its commands get a token there and use it."""
    from tests.conftest import missing_component
    from tests.federation.keystone_server import KeystoneUnavailable, install

    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's examples")
    try:
        install()
    except KeystoneUnavailable as problem:
        missing_component(str(problem))
    blocks = authentication_blocks("An external Keystone")
    (start_keystone, use_it), (settings,), (rules,) = blocks["sh"], blocks["ini"], blocks["yaml"]
    server_port, keystone_port = _free_port(), _free_port()

    def localised(text: str) -> str:
        return (text.replace("127.0.0.1:6543", f"127.0.0.1:{server_port}")
                .replace("47500", str(keystone_port)).replace(".venv/bin/python", str(BIN / "python")))

    database = f"sqlite:///{tmp_path}/keystone.sqlite"
    ini = tmp_path / "keystone.ini"
    ini.write_text((ROOT / "development.ini").read_text().replace(
        "sqlite:///%(here)s/var/occistack.sqlite", database + "\n" + localised(settings)))
    (tmp_path / "mapping.yaml").write_text(rules)
    migrate(database)
    done = subprocess.run([BIN / "occistack", "-c", ini, "demo"], capture_output=True, text=True)
    assert done.returncode == 0, f"occistack demo failed:\n{done.stderr[-3000:]}"
    keystone = subprocess.Popen(["bash", "-c", "exec " + localised(start_keystone).strip()], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = subprocess.Popen([BIN / "pserve", ini, f"http_port={server_port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        said = []
        for line in keystone.stdout:  # Keystone prints one line when it serves (or dies trying)
            said.append(line)
            if line.startswith("Keystone at"):
                break
        else:
            pytest.fail("the README's Keystone did not start:\n" + "".join(said)[-3000:])
        _wait_until_serving(server_port, server)
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + localised(use_it)], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, f"step failed:\n{use_it}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    finally:
        server.terminate()
        keystone.terminate()
        server.wait(timeout=10)
        keystone.wait(timeout=30)
    challenge, status, refusal = done.stdout.replace("\r", "").strip().split("\n")
    assert challenge.partition(": ")[2] == f"Keystone uri='http://127.0.0.1:{keystone_port}/v3'"
    assert status == "200"
    assert f"the Keystone at http://127.0.0.1:{keystone_port}/v3 does not accept the token" in refusal


def test_ldap_example_runs_verbatim(tmp_path):
    """docs/authentication.md's LDAP directory: its command starts the tests' slapd, its settings
    point pserve at it, its commands link a group and sign in as its members."""
    from tests.conftest import missing_component
    from tests.federation.slapd import slapd_binary

    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's examples")
    if slapd_binary() is None or shutil.which("ldapadd") is None:
        missing_component("OpenLDAP's slapd and ldapadd are not installed (scripts/system-packages.sh installs them)")
    blocks = authentication_blocks("An LDAP directory")
    (start_slapd, use_it), (settings,) = blocks["sh"], blocks["ini"]
    server_port, slapd_port = _free_port(), _free_port()
    ini = tmp_path / "ldap.ini"

    def localised(text: str) -> str:
        return (text.replace("127.0.0.1:6543", f"127.0.0.1:{server_port}").replace("47389", str(slapd_port))
                .replace(".venv/bin/python", str(BIN / "python"))
                .replace(".venv/bin/occistack", f"{BIN / 'occistack'} -c {ini}"))

    database = f"sqlite:///{tmp_path}/ldap.sqlite"
    ini.write_text((ROOT / "development.ini").read_text().replace(
        "sqlite:///%(here)s/var/occistack.sqlite", database + "\n" + localised(settings)))
    migrate(database)
    slapd = subprocess.Popen(["bash", "-c", "exec " + localised(start_slapd).strip()], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = subprocess.Popen([BIN / "pserve", ini, f"http_port={server_port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        said = slapd.stdout.readline()
        assert said.startswith("slapd at"), said + slapd.stdout.read()[-3000:]
        _wait_until_serving(server_port, server)
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + localised(use_it)], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, f"step failed:\n{use_it}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    finally:
        server.terminate()
        slapd.terminate()
        server.wait(timeout=10)
        slapd.wait(timeout=30)
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("created account physics")
    assert "200" in lines and any("the user name or password is wrong" in line for line in lines)
    assert any("'carol' is in no LDAP group linked to a project" in line for line in lines)
    assert lines[-1].split()[1:3] == ["alice", "physics"]


def test_x509_examples_run_verbatim(tmp_path):
    """Certificates and VOMS proxies as the README shows them: its test grid, its settings and
    rules, gunicorn with TLS from development.ini's [server:tls], its curl commands."""
    import os

    from tests.conftest import missing_component

    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the README's examples")
    if shutil.which("voms-proxy-fake") is None:
        missing_component("voms-proxy-fake is not installed (scripts/system-packages.sh installs voms-clients)")
    blocks = authentication_blocks("Client certificates and VOMS proxies")
    (make_grid, serve, requests), (settings,), (rules,) = blocks["sh"], blocks["ini"], blocks["yaml"]
    port = _free_port()

    def localised(text: str) -> str:
        return (text.replace("6443", str(port)).replace(".venv/bin/python", str(BIN / "python"))
                .replace(".venv/bin/pserve", str(BIN / "pserve")))

    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    database = f"sqlite:///{tmp_path}/x509.sqlite"
    ini = tmp_path / "development.ini"
    ini.write_text(localised((ROOT / "development.ini").read_text().replace(
        "sqlite:///%(here)s/var/occistack.sqlite", database + "\n" + settings)))
    (tmp_path / "mapping.yaml").write_text(rules)
    migrate(database)
    done = subprocess.run([BIN / "occistack", "-c", ini, "demo"], capture_output=True, text=True)
    assert done.returncode == 0, f"occistack demo failed:\n{done.stderr[-3000:]}"

    def run(block: str) -> str:
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + localised(block)], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path, env=environment)
        assert done.returncode == 0, f"step failed:\n{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        return done.stdout

    run(make_grid)
    server = subprocess.Popen(["bash", "-c", "exec " + localised(serve).strip().replace("development.ini", str(ini))],
                              cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"pserve exited: {server.stderr.read().decode()[-2000:]}")
            probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", "var/grid/ca.pem",
                                    f"https://localhost:{port}/-/"], cwd=tmp_path)
            if probe.returncode == 0:
                break
            assert time.monotonic() < deadline, "gunicorn did not serve TLS within 60 s"
            time.sleep(0.3)
        voms, plain, other_vo = run(requests).strip().split("\n")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert voms == "200"
    assert "no mapping rule gives it a project here" in plain and "CN=Alice Tester" in plain
    assert "the VO 'other.vo', which this site does not trust" in other_vo
