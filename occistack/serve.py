"""How the server is served.

The paste server runner of the embedded default: waitress, on a port the command line can
change (``pserve development.ini http_port=8080``). PasteDeploy never lets a command-line
variable override a value the ini file sets, so the ini file does not set ``http_port``; this
runner takes it when given and the ``port`` option otherwise.

And, for gunicorn: the TLS context for client certificates (``ssl_context =
occistack.serve.client_certificate_tls`` in ``[server:main]``; production.ini shows it whole) and
the thread worker that keeps answering when clients hold connections open without sending
(``worker_class = occistack.serve.GuardedThreadWorker``; see its docstring).
"""

from __future__ import annotations

import errno
import io
import logging
import os
import selectors
import ssl
import time
from functools import partial
from pathlib import Path

import waitress

from occistack.api.orchestration import start_plane_after_fork

log = logging.getLogger(__name__)


def waitress_runner(wsgi_app, global_conf, host: str = "127.0.0.1", port: str = "6543", **options):
    port = global_conf.get("http_port") or port
    waitress.serve(wsgi_app, host=host, port=int(port), **options)


def client_certificate_tls(config, default_ssl_context_factory) -> ssl.SSLContext:
    """gunicorn's ``ssl_context`` hook: TLS that asks for a client certificate and accepts RFC 3820
    proxies, which OpenSSL refuses unless told (``X509_V_FLAG_ALLOW_PROXY_CERTS``; the
    environment variable of older OpenSSLs does nothing in 3.x).

    gunicorn's ``ca_certs`` may name a file or, as grid sites keep them, a directory of CA
    certificates (``/etc/grid-security/certificates``), all of which are loaded. A client
    certificate is optional unless ``cert_reqs = 2``: OCCI clients may authenticate otherwise,
    and one that sends no certificate is answered by the application with the methods it
    accepts rather than cut off in the handshake. A presented certificate that does not verify
    (untrusted, expired, a broken proxy) still fails the handshake; revocation is the
    application's to check (federation/x509.py), from CRLs it re-reads as fetch-crl renews them.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile=config.certfile, keyfile=config.keyfile)
    authorities = Path(config.ca_certs) if config.ca_certs else None
    if authorities is None:
        raise ValueError("client certificates need ca_certs: the CA certificates (a file or a directory)")
    files = sorted(path for path in authorities.iterdir() if _is_certificate_file(path)) if authorities.is_dir() \
        else [authorities]
    loaded = 0
    for path in files:
        try:
            context.load_verify_locations(cafile=str(path))
            loaded += 1
        except (ssl.SSLError, OSError) as error:
            log.warning("not a CA certificate file, skipped: %s (%s)", path, error)
    if not loaded:
        raise ValueError(f"no CA certificate could be loaded from {authorities}")
    context.verify_mode = ssl.CERT_REQUIRED if config.cert_reqs == ssl.CERT_REQUIRED else ssl.CERT_OPTIONAL
    context.verify_flags |= ssl.VERIFY_ALLOW_PROXY_CERTS
    # Python 3.13 turns strict RFC 5280 checks on by default; grid CAs and proxies predate them.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    if config.ciphers:
        context.set_ciphers(config.ciphers)
    return context


def _is_certificate_file(path: Path) -> bool:
    stem, dot, suffix = path.name.rpartition(".")
    return path.is_file() and bool(dot) and (suffix in ("pem", "crt", "cer") or (suffix.isdigit() and len(stem) == 8))


# --- gunicorn: a thread worker slow clients cannot starve ---------------------------------------

#: How long a connection may take to deliver one whole request -- its TLS handshake, request line,
#: headers and body -- from its first byte (a new connection: from its opening); then it is closed.
REQUEST_READ_SECONDS = float(os.environ.get("OCCISTACK_REQUEST_READ_SECONDS", "20"))
#: Requests up to this size are gathered in memory before a thread sees them; the rest of a larger
#: body is read by the thread. OCCI requests and agent messages are far smaller; the bound keeps
#: ``worker_connections`` clients from holding more than this much memory each.
GATHERED_BYTES = 1024 * 1024
#: How long one TLS context serves new connections before it is made again (it loads the CA
#: certificates: too slow to do for each connection in the worker's loop).
TLS_CONTEXT_SECONDS = 60.0

try:
    from gunicorn import http as _gunicorn_http
    from gunicorn import sock as _gunicorn_sock
    from gunicorn.workers import gthread as _gthread
except ImportError:  # pragma: no cover - gunicorn is a dependency; waitress-only sites may lack it
    _gthread = None


if _gthread is not None:
    class GuardedThreadWorker(_gthread.ThreadWorker):
        """gunicorn's gthread worker, which a few clients without credentials cannot stop from
        answering everyone else.

        gthread gives each new connection to a thread at once, and a thread reads its request
        with blocking reads: 300 connections that send nothing hold the threads for minutes,
        and 20 clients sending a request a byte a second hold 20 threads for as long as they
        like. This worker reads in its event loop instead, without blocking: the TLS handshake,
        then the request's bytes as they come, and hands the connection to a thread only when a
        whole request (headers and body) is in -- so threads only ever run the application.
        A connection that has not delivered a whole request ``REQUEST_READ_SECONDS`` after it
        opened (or, kept alive, after it went quiet ``keepalive`` seconds, or after its next
        request began) is closed. ``worker_connections`` caps the connections per worker.

        A fronting proxy with its own client timeouts remains the production recommendation
        (docs/configuration.md, "Running in production: limits and timeouts").
        """

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._tls_context = None
            self._tls_context_made = 0.0

        def load_wsgi(self):
            """The application was made in the master; its plane starts here, in the process
            that serves (api/orchestration.py, ``start_plane``)."""
            super().load_wsgi()
            if hasattr(self.wsgi, "registry"):
                start_plane_after_fork(self.wsgi)

        # New connections and kept-alive ones wait in the poller, costing no thread.

        def accept(self, listener):
            try:
                client, address = listener.accept()
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    return
                raise
            self.nr_conns += 1
            conn = _gthread.TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
            conn.gathered, conn.tls, conn.continued = bytearray(), None, False
            self._wait_for_request(conn, time.monotonic() + REQUEST_READ_SECONDS)

        def on_client_socket_readable(self, conn, client):
            # A kept-alive connection's next request begins: gather it too, within the deadline.
            self.poller.unregister(client)
            self.keepalived_conns.remove(conn)
            conn.gathered, conn.continued = bytearray(), False
            self._wait_for_request(conn, time.monotonic() + REQUEST_READ_SECONDS)
            self._gather(conn, client)

        def _wait_for_request(self, conn, deadline: float) -> None:
            conn.timeout = deadline
            self.pending_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._gather, conn))

        def _gather(self, conn, client):
            """Read what has arrived, without blocking; hand the connection to a thread once a
            whole request is in."""
            try:
                if self.cfg.is_ssl and conn.parser is None and not self._handshake(conn):
                    return
                source = conn.tls if conn.tls is not None else conn.sock
                while len(conn.gathered) <= GATHERED_BYTES:
                    try:
                        data = source.recv(65536)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                        break
                    if not data:
                        raise ConnectionAbortedError("the client closed the connection")
                    conn.gathered += data
                buffered = conn.parser.unreader.buf.getvalue() if conn.parser is not None else b""
                if len(conn.gathered) <= GATHERED_BYTES and not request_is_complete(buffered + conn.gathered):
                    if not conn.continued and expects_continue(buffered + conn.gathered):
                        # The client waits for this before it sends the body (curl does for any
                        # body over 1 KiB); gunicorn's own 100 follows later, which clients allow.
                        source.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                        conn.continued = True
                    return
            except (OSError, ssl.SSLError, ValueError):
                self._drop(conn)
                return
            except Exception:  # noqa: BLE001 - one connection's trouble must not end the worker
                self.log.exception("dropping a connection from %s", conn.client)
                self._drop(conn)
                return
            self.poller.unregister(client)
            self.pending_conns.remove(conn)
            self._hand_over(conn, buffered)

        def _handshake(self, conn) -> bool:
            if conn.tls is None:
                conn.tls = self._context().wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False,
                                                       suppress_ragged_eofs=self.cfg.suppress_ragged_eofs)
            try:
                conn.tls.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return False
            return True

        def _hand_over(self, conn, buffered: bytes) -> None:
            if conn.parser is None:
                if conn.tls is not None:
                    conn.sock = conn.tls
                conn.parser = _gunicorn_http.get_parser(self.cfg, conn.sock, conn.client)
                conn.initialized = True
            unreader = conn.parser.unreader
            unreader.buf = io.BytesIO()
            unreader.unread(buffered + bytes(conn.gathered))
            conn.gathered, conn.data_ready = bytearray(), True
            self.enqueue_req(conn)

        def _drop(self, conn) -> None:
            try:
                self.poller.unregister(conn.sock)
            except (OSError, KeyError, ValueError):
                pass
            if conn in self.pending_conns:
                self.pending_conns.remove(conn)
                self.nr_conns -= 1
            if conn.tls is not None and conn.sock is not conn.tls:
                # Wrapping detached the plain socket: the descriptor is the TLS socket's now.
                conn.sock = conn.tls
            conn.close()

        def murder_pending(self):
            # Deadlines differ (new, kept-alive), so the queue is not in deadline order: look at all.
            # A stopping worker does not wait for connections that have sent nothing yet.
            now = time.monotonic()
            for conn in [conn for conn in self.pending_conns
                         if conn.timeout <= now or (not self.alive and not conn.gathered)]:
                self._drop(conn)

        def _context(self) -> ssl.SSLContext:
            if self._tls_context is None or time.monotonic() - self._tls_context_made > TLS_CONTEXT_SECONDS:
                self._tls_context = _gunicorn_sock.ssl_context(self.cfg)
                self._tls_context_made = time.monotonic()
            return self._tls_context


def request_is_complete(data: bytes) -> bool:
    """Whether ``data`` holds a whole HTTP/1.x request: its headers, and its body as long as its
    Content-Length says or to the last chunk. Anything unparseable counts as complete: the
    thread's parser answers it with 400."""
    head = _head(data)
    if head is None:
        return False
    end, headers = head
    body = len(data) - end - 4
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return data.endswith(b"0\r\n\r\n")
    length = headers.get(b"content-length")
    if length is None:
        return True
    try:
        return body >= int(length)
    except ValueError:
        return True


def expects_continue(data: bytes) -> bool:
    """Whether the request whose head ``data`` holds waits for ``100 Continue``."""
    head = _head(data)
    return head is not None and head[1].get(b"expect", b"").strip().lower() == b"100-continue"


def _head(data: bytes) -> tuple[int, dict[bytes, bytes]] | None:
    """Where the head of the request in ``data`` ends, and its fields (lower-case names)."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    fields = {}
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    return end, fields
