"""`make run` stopped and started again: pserve on a copy of development.ini (its own var/ and
port), a compute created over HTTP, the server killed, started again -- the compute is still
active, and stopping and starting it work (its guest is still defined on its simulated host)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import migrate
from tests.occi import TEXT, action, compute_body, path_of
from tests.test_readme import ROOT, _free_port, _wait_until_serving

pytestmark = pytest.mark.slow

AUTHORIZATION = "Basic " + base64.b64encode(b"demo:demo").decode()
#: The checkout's code first, so the server runs what is under test.
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(ROOT)}


class Served:
    """One pserve of the test's ini on a free port."""

    def __init__(self, ini, log):
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pyramid.scripts.pserve", str(ini), f"http_port={self.port}"], cwd=ini.parent,
            env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=log)
        _wait_until_serving(self.port, self.process)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=body.encode() if body is not None else None,
                                         headers={**TEXT, "Authorization": AUTHORIZATION})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def state_of(self, path: str) -> str:
        status, text, _headers = self.request("GET", path)
        assert status == 200, text
        return next(line.split("=", 1)[1].strip('"') for line in text.splitlines()
                    if line.startswith("X-OCCI-Attribute: occi.compute.state="))

    def wait_for(self, path: str, state: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while (found := self.state_of(path)) != state:
            assert found != "error" and time.monotonic() < deadline, \
                f"{path} is {found}, not {state}: {self.request('GET', path)[1]}"
            time.sleep(0.2)

    def act(self, path: str, name: str) -> None:
        status, text, _headers = self.request("POST", f"{path}?action={name}", action(name))
        assert status == 200, text

    def kill(self) -> None:
        """As `kill <pid>` does: SIGTERM, which Python does not turn into a clean exit."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def test_a_compute_is_active_again_after_pserve_restarts(tmp_path):
    ini = tmp_path / "development.ini"
    ini.write_text((ROOT / "development.ini").read_text())
    (tmp_path / "var").mkdir()
    migrate(f"sqlite:///{tmp_path}/var/occistack.sqlite")
    done = subprocess.run([sys.executable, "-m", "occistack.cli", "-c", str(ini), "demo"], cwd=tmp_path,
                          env=ENVIRONMENT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "pserve.log").open("w")

    server = Served(ini, log)
    try:
        status, text, headers = server.request("POST", "/compute/", compute_body(template="cirros-0.6"))
        assert status == 201, text
        compute = path_of(headers["Location"])
        server.wait_for(compute, "active")
    finally:
        server.kill()
    assert list((tmp_path / "var" / "simulated-hosts").glob("*/node.xml")), "no simulated node was kept in var/"

    server = Served(ini, log)
    try:
        time.sleep(2)  # the agents register and send their first heartbeat, which reconciles
        assert server.state_of(compute) == "active"
        server.act(compute, "stop")
        server.wait_for(compute, "inactive")
        server.act(compute, "start")
        server.wait_for(compute, "active")
        assert server.request("DELETE", compute)[0] == 200
    finally:
        server.kill()
        log.close()
