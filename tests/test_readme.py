"""The README's walkthrough, run verbatim against a real server started as `make run` starts
it (pserve, waitress, the embedded default), on a scratch database and a free port."""

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
