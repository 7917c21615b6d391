"""A real Keystone for the tests: the ``keystone`` package of PyPI with SQLite and fernet tokens,
served by gunicorn on a free loopback port, and stopped after.

Keystone pins its own versions of the oslo libraries, SQLAlchemy and more, so it lives in a
virtual environment of its own, built here on first use under the user's cache directory
(``$OCCISTACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/occistack``, else ``~/.cache/occistack``)
and shared by every checkout; never in the project's venv, never committed. Each server gets
a scratch directory with its configuration, database and keys.

``python -m tests.federation.keystone_server`` serves one to try occistack with (the README's
Authentication section does); ``--install`` only builds the environment.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

KEYSTONE = "keystone==30.0.0"
ADMIN_PASSWORD = "keystone-admin-secret"
REGION = "RegionOne"


def cache_dir() -> Path:
    configured = os.environ.get("OCCISTACK_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "occistack"


def venv_dir() -> Path:
    return cache_dir() / ("venv-" + KEYSTONE.replace("==", "-"))


class KeystoneUnavailable(Exception):
    """The environment could not be built, or Keystone would not start."""


def install() -> Path:
    """The bin directory of Keystone's environment, built if it is not there yet. A lock keeps
    two test processes from building it at once; a marker written last tells a finished
    environment from one whose build was interrupted (which is built again)."""
    venv = venv_dir()
    if (venv / ".complete").exists():
        return venv / "bin"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / (venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / ".complete").exists():
            return venv / "bin"
        shutil.rmtree(venv, ignore_errors=True)
        steps = ([sys.executable, "-m", "venv", str(venv)],
                 [str(venv / "bin" / "pip"), "install", "--quiet", "--no-cache-dir", KEYSTONE, "gunicorn"])
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                raise KeystoneUnavailable(f"building Keystone's environment timed out: {' '.join(step)}") from None
            if done.returncode != 0:
                raise KeystoneUnavailable(f"building Keystone's environment failed ({' '.join(step)}):\n"
                                          f"{done.stderr[-2000:]}")
        (venv / ".complete").write_text(KEYSTONE + "\n")
    return venv / "bin"


# keystone-manage and the WSGI application read this; the paths are the server's scratch dir.
_CONFIG = """\
[DEFAULT]
log_file = {workdir}/keystone.log
[database]
connection = sqlite:///{workdir}/keystone.db
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = {workdir}/fernet-keys
[credential]
key_repository = {workdir}/credential-keys
"""

# oslo.config would read gunicorn's command line as its own and exit with 2 in every worker.
_WSGI_MODULE = """\
import sys
sys.argv = sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402,F401
"""


class KeystoneServer:
    """One Keystone: bootstrapped with the user ``admin`` (password ADMIN_PASSWORD) in the
    project ``admin``, and the roles admin, member and reader."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth_url = self.url + "/v3"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        bin_dir = install()
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "keystone.conf"
        config.write_text(_CONFIG.format(workdir=self.workdir))
        (self.workdir / "ks_wsgi.py").write_text(_WSGI_MODULE)
        manage = [str(bin_dir / "keystone-manage"), "--config-file", str(config)]
        owner = ["--keystone-user", _user(), "--keystone-group", _group()]
        for step in (["db_sync"], ["fernet_setup", *owner], ["credential_setup", *owner],
                     ["bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-region-id", REGION,
                      "--bootstrap-admin-url", self.auth_url, "--bootstrap-public-url", self.auth_url,
                      "--bootstrap-internal-url", self.auth_url]):
            done = subprocess.run(manage + step, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise KeystoneUnavailable(f"keystone-manage {step[0]} failed:\n{done.stderr[-2000:]}")
        log = open(self.workdir / "gunicorn.log", "ab")
        self._process = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--chdir", str(self.workdir), "-b", f"127.0.0.1:{self.port}", "-w", "1",
             "--threads", "4", "ks_wsgi:application"],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(config), "PYTHONWARNINGS": "ignore"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise KeystoneUnavailable(f"Keystone exited with {self._process.returncode}:\n"
                                          + (self.workdir / "gunicorn.log").read_text()[-2000:])
            try:
                if requests.get(self.auth_url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise KeystoneUnavailable("Keystone did not answer within 60 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:  # ours, by its own handle
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def admin_session(self):
        """A keystoneauth session as the bootstrap admin, scoped to the project admin."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        return session.Session(auth=v3.Password(
            auth_url=self.auth_url, username="admin", password=ADMIN_PASSWORD, project_name="admin",
            user_domain_id="default", project_domain_id="default"))


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _group() -> str:
    import grp

    return grp.getgrgid(os.getgid()).gr_name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a Keystone to try occistack with: python -m tests.federation.keystone_server [--port N] -----------

#: What the README's example finds in the Keystone it starts.
DEMO_PROJECT, DEMO_USER, DEMO_PASSWORD = "occi-tenant", "bob", "bob-secret"


def add_demo_user(server: KeystoneServer) -> None:
    from keystoneclient.v3 import client

    admin = client.Client(session=server.admin_session())
    member = next(role for role in admin.roles.list() if role.name == "member")
    project = admin.projects.create(name=DEMO_PROJECT, domain="default")
    user = admin.users.create(name=DEMO_USER, password=DEMO_PASSWORD, domain="default", default_project=project)
    admin.roles.grant(member, user=user, project=project)


def main() -> None:
    import argparse
    import signal
    import tempfile

    parser = argparse.ArgumentParser(description="Serve a real Keystone (SQLite, fernet tokens) with the member "
                                                 f"{DEMO_USER} of the project {DEMO_PROJECT}, to try occistack's "
                                                 "Keystone authentication with; or only build its environment.")
    parser.add_argument("--port", type=int, default=47500)
    parser.add_argument("--install", action="store_true", help="build the environment and exit")
    arguments = parser.parse_args()
    if arguments.install:
        print(install())
        return
    # Stopped by a signal as by Ctrl-C: the Keystone process goes with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory() as workdir:
        server = KeystoneServer(Path(workdir), port=arguments.port)
        try:
            server.start()
            add_demo_user(server)
            print(f"Keystone at {server.auth_url}: admin (password {ADMIN_PASSWORD}) in the project admin; "
                  f"{DEMO_USER} (password {DEMO_PASSWORD}) a member of {DEMO_PROJECT}. Ctrl-C stops it.", flush=True)
            server._process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()


if __name__ == "__main__":
    main()
