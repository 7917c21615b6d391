"""How a remote agent reaches the management server: HTTP(S), one message per POST.

One persistent connection (keep-alive), so a command's round trip costs no TCP or TLS
handshake; a long poll is an ordinary request the server holds open. With a CA file the
server's certificate is verified; with a certificate and key the agent also presents its host
certificate (mutual TLS), which is then its credential. With a token, every request carries it
as a bearer token.

Failures to reach the server raise :class:`ServerUnreachable` (the agent backs off and
reconnects); the server's refusals raise :class:`AgentRefused` with its message.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from occistack.hostagent.protocol import Fetch, decode, encode

MESSAGES_PATH = "/agent/v1/messages"


class ServerUnreachable(ConnectionError):
    """The management server could not be reached, or the connection broke."""


class AgentRefused(Exception):
    """The management server refused a message (wrong token, other protocol, bad message)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"the management server refused the message ({status}): {message}")
        self.status = status


@dataclass(frozen=True)
class TlsFiles:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


class HttpTransport:
    def __init__(self, server_url: str, token: str, tls: TlsFiles = TlsFiles(), timeout: float = 30.0):
        parts = urlsplit(server_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the server URL must be http://host:port or https://host:port, not {server_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.path = parts.path.rstrip("/") + MESSAGES_PATH
        self.token = token
        self.timeout = timeout
        self._tls = _client_context(tls) if parts.scheme == "https" else None
        self._connection: http.client.HTTPConnection | None = None
        # One request at a time on the one connection (heartbeats come from the same thread as
        # fetches in the agent, but a test or tool may share a transport).
        self._lock = threading.Lock()

    def __call__(self, message):
        body = encode(message).encode()
        # A long poll may be held for its whole wait: the socket must outlast it.
        timeout = self.timeout + (message.wait_seconds if isinstance(message, Fetch) else 0.0)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self._lock:
            try:
                connection = self._connect(timeout)
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.close()
                raise ServerUnreachable(f"cannot reach the management server at {self.host}:{self.port}: "
                                        f"{error}") from None
        if response.status != 200:
            raise AgentRefused(response.status, _error_text(payload))
        return decode(payload)

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._tls is not None:
                self._connection = http.client.HTTPSConnection(self.host, self.port, context=self._tls)
            else:
                self._connection = http.client.HTTPConnection(self.host, self.port)
        self._connection.timeout = timeout
        if self._connection.sock is not None:
            self._connection.sock.settimeout(timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _client_context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def _error_text(payload: bytes) -> str:
    """The message of the server's JSON error document, or its raw text."""
    try:
        document = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")[:500]
    if isinstance(document, dict):
        for key in ("message", "error", "description"):
            value = document.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"]
    return json.dumps(document)[:500]
