"""A stand-in issuer over real HTTP on a loopback port: its discovery document, its JWKS and a
userinfo endpoint that knows the opaque tokens the test hands it. For the server's paths that
the npm provider cannot take (userinfo of opaque tokens, an issuer going down)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInIssuer:
    def __init__(self):
        self.keys: list = []
        self.userinfo: dict[str, dict] = {}
        self.requests: list[str] = []
        self.down = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandInIssuer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                issuer.requests.append(self.path)
                if issuer.down:
                    return self._answer(503, {"error": "down for maintenance"})
                if self.path == "/.well-known/openid-configuration":
                    return self._answer(200, {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks",
                                              "userinfo_endpoint": issuer.url + "/userinfo"})
                if self.path == "/jwks":
                    return self._answer(200, {"keys": [key.as_dict(private=False) for key in issuer.keys]})
                if self.path == "/userinfo":
                    token = self.headers.get("Authorization", "")[7:]
                    claims = issuer.userinfo.get(token)
                    return self._answer(200, claims) if claims else self._answer(401, {"error": "invalid_token"})
                return self._answer(404, {"error": "not found"})

            def _answer(self, status: int, document: dict) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        return Handler
