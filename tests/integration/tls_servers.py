"""The server as a site runs it for X.509: ``pserve`` of an ini file whose ``[server:main]`` is
gunicorn with TLS (production.ini's way), or plain HTTP behind Apache with mod_gridsite. Each
runs in its own process, on a free port, and is stopped (by its process id) at the end."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODULES = Path("/usr/lib/apache2/modules")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_section(db_url: str, **settings: str) -> str:
    values = {
        "use": "egg:occistack", "sqlalchemy.url": db_url, "occistack.worker": "none",
        "occistack.agents.inprocess": "", "occistack.drivers": "fake", "occistack.power": "none",
        "occistack.secret_key": TEST_SECRET_KEY, "occistack.catalog.revalidate_seconds": "0", **settings}
    return "[app:main]\n" + "".join(f"{key} = {value}\n" for key, value in values.items())


class Pserve:
    """``pserve <ini>`` in a process of its own, with this worktree's occistack first on the path."""

    def __init__(self, directory: Path, app: str, server: dict[str, str], url: str, verify: str | bool = False):
        self.ini = directory / f"served-{server['port']}.ini"
        self.ini.write_text(app + "\n[server:main]\n" + "".join(f"{k} = {v}\n" for k, v in server.items()))
        self.log = directory / f"served-{server['port']}.log"
        environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        with self.log.open("w") as log:
            self.process = subprocess.Popen([str(BIN / "pserve"), str(self.ini)], stdout=log, stderr=subprocess.STDOUT,
                                            env=environment, cwd=directory, start_new_session=True)
        self.url = url
        self._wait(verify)

    def _wait(self, verify) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pserve exited:\n{self.log.read_text()[-3000:]}")
            try:
                requests.get(f"{self.url}/-/", verify=verify, timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise AssertionError(f"the server did not answer within 60 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def gunicorn_tls(directory: Path, app: str, certificate: Path, key: Path, ca_dir: Path, ca_file: Path) -> Pserve:
    port = free_port()
    return Pserve(directory, app, {
        "use": "egg:gunicorn#main", "host": "127.0.0.1", "port": str(port), "workers": "1",
        "worker_class": "occistack.serve.GuardedThreadWorker", "threads": "8", "timeout": "60",
        "certfile": str(certificate),
        "keyfile": str(key), "ca_certs": str(ca_dir), "ssl_context": "occistack.serve.client_certificate_tls",
    }, f"https://localhost:{port}", verify=str(ca_file))


class Apache:
    """Apache with mod_ssl and mod_gridsite terminating TLS in front of ``backend``, forwarding
    the client's certificate and chain in headers, as a site would configure it."""

    def __init__(self, directory: Path, backend: str, certificate: Path, key: Path, ca_dir: Path):
        self.root = directory / "apache"
        for sub in ("run", "logs", "sessions"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        chain = "".join(f'  RequestHeader set X-SSL-Client-Chain-{n} "%{{SSL_CLIENT_CERT_CHAIN_{n}}}s"\n'
                        for n in range(5))
        self.config = self.root / "httpd.conf"
        self.config.write_text(f"""ServerRoot {self.root}
PidFile {self.root}/run/httpd.pid
ServerName localhost
ErrorLog {self.root}/logs/error.log
LogLevel info ssl:info
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule ssl_module {MODULES}/mod_ssl.so
LoadModule socache_shmcb_module {MODULES}/mod_socache_shmcb.so
LoadModule proxy_module {MODULES}/mod_proxy.so
LoadModule proxy_http_module {MODULES}/mod_proxy_http.so
LoadModule headers_module {MODULES}/mod_headers.so
LoadModule gridsite_module {MODULES}/mod_gridsite.so
Mutex file:{self.root}/run
DefaultRuntimeDir {self.root}/run
GridSiteSessionsDir {self.root}/sessions
Listen 127.0.0.1:{self.port}
<VirtualHost 127.0.0.1:{self.port}>
  SSLEngine on
  SSLCertificateFile {certificate}
  SSLCertificateKeyFile {key}
  SSLCACertificatePath {ca_dir}
  SSLVerifyClient optional
  SSLVerifyDepth 10
  SSLOptions +StdEnvVars +ExportCertData
  GridSiteEnvs on
  GridSiteGSIProxyLimit 5
  <Location />
    GridSiteAuth off
  </Location>
  RequestHeader set X-SSL-Client-Verify "%{{SSL_CLIENT_VERIFY}}s"
  RequestHeader set X-SSL-Client-Cert "%{{SSL_CLIENT_CERT}}s"
{chain}  ProxyPass / {backend}/
  ProxyPassReverse / {backend}/
</VirtualHost>
""")
        done = subprocess.run([apache_binary(), "-f", str(self.config), "-k", "start"], capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError(f"apache2 did not start: {done.stdout}{done.stderr}{self.error_log()}")
        self.url = f"https://localhost:{self.port}"

    def error_log(self) -> str:
        log = self.root / "logs" / "error.log"
        return log.read_text()[-3000:] if log.exists() else ""

    def stop(self) -> None:
        pid_file = self.root / "run" / "httpd.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)


def apache_binary() -> str:
    from tests.conftest import missing_component

    found = shutil.which("apache2") or ("/usr/sbin/apache2" if Path("/usr/sbin/apache2").exists() else None)
    if found is None:
        missing_component("apache2 is not installed (scripts/system-packages.sh installs it)")
    if not (MODULES / "mod_gridsite.so").exists():
        missing_component("mod_gridsite is not installed (Debian package gridsite; scripts/system-packages.sh)")
    return found
