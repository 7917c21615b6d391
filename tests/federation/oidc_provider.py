"""The real OpenID Connect provider of the OIDC tests (npm's oidc-provider, provider/), started
on a free loopback port and stopped after; its npm packages are installed from the lock file
the first time (``npm ci``), never committed.

Used by the integration tests and by bench/auth.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests
from authlib.integrations.requests_client import OAuth2Session

PROVIDER = Path(__file__).resolve().parent / "provider"
#: The audience of the resource server these tests play: what its tokens carry in aud.
AUDIENCE = "https://occi.test/"
OTHER_AUDIENCE = "https://elsewhere.test/"


class ProviderUnavailable(Exception):
    """node, npm or the npm packages are missing, or the provider would not start."""


def install() -> None:
    """``npm ci`` in provider/ unless its packages are there already."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise ProviderUnavailable("node and npm are needed to run the OIDC provider (Debian: apt-get install nodejs "
                                  "npm; oidc-provider 9 wants node 20 or later)")
    if (PROVIDER / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise ProviderUnavailable(f"npm ci of the OIDC provider failed:\n{done.stderr[-2000:]}")


class OidcProvider:
    """One provider process. ``keys`` are private JWKs (joserfc keys); the first signs."""

    def __init__(self, workdir: Path, keys: list, clients: list[dict], port: int | None = None):
        self.workdir = workdir
        self.keys = list(keys)
        self.clients = clients
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        install()
        config = self.workdir / f"op-{self.port}.json"
        config.write_text(json.dumps({
            "port": self.port, "keys": [key.as_dict(private=True) for key in self.keys],
            "audiences": [AUDIENCE, OTHER_AUDIENCE], "clients": self.clients}))
        log = open(self.workdir / f"op-{self.port}.log", "ab")
        self._process = subprocess.Popen(["node", str(PROVIDER / "provider.mjs")], cwd=PROVIDER, stdout=log,
                                         stderr=subprocess.STDOUT, env={**os.environ, "OP_CONFIG": str(config)})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ProviderUnavailable(f"the OIDC provider exited with {self._process.returncode}:\n"
                                          + (self.workdir / f"op-{self.port}.log").read_text()[-2000:])
            try:
                requests.get(self.url + "/.well-known/openid-configuration", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise ProviderUnavailable("the OIDC provider did not answer within 30 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:  # ours, by its own handle
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self, keys: list) -> None:
        """The same issuer (same port, same clients) serving other keys: a key rotation."""
        self.stop()
        self.keys = list(keys)
        self.start()

    def token(self, client_id: str, resource: str | None = None) -> str:
        """An access token by the client-credentials grant, fetched as a client does (authlib)."""
        secret = next(client["client_secret"] for client in self.clients if client["client_id"] == client_id)
        extra = {"resource": resource} if resource else {}
        with OAuth2Session(client_id, secret, scope="compute", token_endpoint_auth_method="client_secret_basic") as oauth:
            return oauth.fetch_token(self.url + "/token", grant_type="client_credentials", **extra)["access_token"]


def client(client_id: str, claims: dict | None = None, **options) -> dict:
    return {"client_id": client_id, "client_secret": f"{client_id}-secret", "claims": claims or {}, **options}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]



# --- a provider to try occistack with: python -m tests.federation.oidc_provider [--port N] -----------

#: The clients of the provider the README's Authentication section uses.
README_CLIENTS = [
    client("fedcloud-operator",
           {"eduperson_entitlement": ["urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu"]}),
    client("stranger", {"groups": ["other.vo"]}),
]


def main() -> None:
    import argparse
    import signal
    import sys
    import tempfile

    from joserfc.jwk import RSAKey

    parser = argparse.ArgumentParser(description="Serve a real OIDC provider (client-credentials JWTs) to try "
                                                 "occistack's OIDC authentication with.")
    parser.add_argument("--port", type=int, default=47301)
    port = parser.parse_args().port
    key = RSAKey.generate_key(2048, parameters={"kid": "demo-1", "use": "sig", "alg": "RS256"}, private=True)
    # Stopped by a signal as by Ctrl-C: the provider process goes with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory() as workdir:
        provider = OidcProvider(Path(workdir), [key], README_CLIENTS, port=port)
        provider.start()
        print(f"OIDC provider at {provider.url}, tokens for the audience {AUDIENCE}; clients (secret = "
              f"<client>-secret): {', '.join(c['client_id'] for c in README_CLIENTS)}. Ctrl-C stops it.", flush=True)
        try:
            provider._process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            provider.stop()


if __name__ == "__main__":
    main()
