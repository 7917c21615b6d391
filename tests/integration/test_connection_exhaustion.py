"""Connections cannot be exhausted without credentials (issue 12, point 8): while 300
connections sit idle, or 20 clients send a request body a byte a second, another client's
``GET /-/`` is answered within two seconds -- by waitress as development.ini's
``[server:main]`` configures it, and by gunicorn with TLS as production.ini's does (one worker,
to spare the machine; the limits are per worker).

The servers are the project's own: ``pserve`` of an ini file whose server section is copied
from development.ini or production.ini (only the address, the certificate paths and the number
of workers changed), in processes of their own on free ports, stopped by their ids.
"""

from __future__ import annotations

import configparser
import socket
import ssl
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.conftest import migrate
from tests.federation.pki import Grid, pem
from tests.integration.tls_servers import Pserve, app_section, free_port

ROOT = Path(__file__).resolve().parents[2]
IDLE_CONNECTIONS = 300
SLOW_CLIENTS = 20
#: What "still answered" means.
ANSWER_SECONDS = 2.0


def server_section(ini: str, name: str, **changes: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / ini)
    section = dict(parser[f"server:{name}"])
    section.pop("bind", None)
    section.update(changes)
    return section


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    migrate(url)
    return url


@pytest.fixture
def waitress_server(database, tmp_path):
    port = free_port()
    section = server_section("development.ini", "main", host="127.0.0.1", port=str(port))
    assert section["use"] == "egg:occistack#main"  # the project's waitress runner
    server = Pserve(tmp_path, app_section(database), section, f"http://127.0.0.1:{port}")
    try:
        yield "127.0.0.1", port, None
    finally:
        server.stop()


def start_gunicorn(database: str, tmp_path: Path) -> tuple[Pserve, ssl.SSLContext]:
    grid = Grid(tmp_path)
    certificate, key = grid.server.write_pair(tmp_path, "hostcert")
    (tmp_path / "ca.pem").write_bytes(pem(grid.ca.certificate))
    port = free_port()
    section = server_section("production.ini", "main", host="127.0.0.1", port=str(port), workers="1",
                             certfile=str(certificate), keyfile=str(key), ca_certs=str(grid.ca_dir))
    assert section["worker_class"] == "occistack.serve.GuardedThreadWorker"
    server = Pserve(tmp_path, app_section(database), section, f"https://localhost:{port}",
                    verify=str(tmp_path / "ca.pem"))
    server.port = port
    return server, ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))


@pytest.fixture
def gunicorn_server(database, tmp_path):
    server, context = start_gunicorn(database, tmp_path)
    try:
        yield "localhost", server.port, context
    finally:
        server.stop()


def answered_within(host: str, port: int, context: ssl.SSLContext | None, seconds: float) -> float:
    """Time a plain ``GET /-/`` to its whole status line; fail if it takes longer than ``seconds``."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=seconds) as raw:
        connection = context.wrap_socket(raw, server_hostname=host) if context else raw
        connection.settimeout(max(0.1, seconds - (time.monotonic() - started)))
        connection.sendall(f"GET /-/ HTTP/1.1\r\nHost: {host}\r\nAccept: text/plain\r\n"
                           "Connection: close\r\n\r\n".encode())
        status = connection.recv(64)
    took = time.monotonic() - started
    assert status.startswith((b"HTTP/1.1 200", b"HTTP/1.1 401")), status
    assert took < seconds, f"answered after {took:.2f} s"
    return took


@contextmanager
def idle_connections(host: str, port: int, count: int):
    """``count`` TCP connections that send nothing at all."""
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(socket.create_connection((host, port), timeout=5))
        yield


@contextmanager
def slow_body_clients(host: str, port: int, context: ssl.SSLContext | None, count: int):
    """``count`` clients that send their headers, then a body of 10,000 bytes one byte a second."""
    stop = threading.Event()
    connections = []
    for _ in range(count):
        raw = socket.create_connection((host, port), timeout=10)
        connection = context.wrap_socket(raw, server_hostname=host) if context else raw
        connection.sendall(f"POST /compute/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
                           "Content-Length: 10000\r\n\r\n".encode())
        connections.append(connection)

    def trickle():
        while not stop.wait(1.0):
            for connection in connections:
                try:
                    connection.sendall(b"x")
                except OSError:
                    pass  # the server gave up on it: so much the better

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield connections
    finally:
        stop.set()
        sender.join(5)
        for connection in connections:
            connection.close()


def under_load(server, load) -> list[float]:
    host, port, context = server
    answered_within(host, port, context, ANSWER_SECONDS)  # warm: the first answer builds caches
    with load(host, port, context):
        time.sleep(1.5)  # the load is in place; the slow clients have sent their first bytes
        return [answered_within(host, port, context, ANSWER_SECONDS) for _ in range(3)]


@pytest.mark.timeout(60)
def test_waitress_answers_while_300_connections_sit_idle(waitress_server):
    under_load(waitress_server, lambda host, port, _context: idle_connections(host, port, IDLE_CONNECTIONS))


@pytest.mark.timeout(60)
def test_waitress_answers_while_20_clients_send_a_byte_a_second(waitress_server):
    under_load(waitress_server, lambda host, port, context: slow_body_clients(host, port, context, SLOW_CLIENTS))


@pytest.mark.timeout(60)
def test_gunicorn_with_tls_answers_while_300_connections_sit_idle(gunicorn_server):
    under_load(gunicorn_server, lambda host, port, _context: idle_connections(host, port, IDLE_CONNECTIONS))


@pytest.mark.timeout(60)
def test_gunicorn_with_tls_answers_while_20_clients_send_a_byte_a_second(gunicorn_server):
    under_load(gunicorn_server, lambda host, port, context: slow_body_clients(host, port, context, SLOW_CLIENTS))


@pytest.mark.timeout(60)
def test_gunicorn_answers_expect_100_continue_before_the_body_and_then_the_request(gunicorn_server):
    """curl sends ``Expect: 100-continue`` with any body over 1 KiB and waits for the 100 before
    sending it: the worker, which waits for whole requests, must say 100 itself."""
    host, port, context = gunicorn_server
    with socket.create_connection((host, port), timeout=5) as raw:
        connection = context.wrap_socket(raw, server_hostname=host)
        connection.sendall(f"POST /compute/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
                           "Expect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n".encode())
        connection.settimeout(1.0)
        assert connection.recv(64).startswith(b"HTTP/1.1 100 Continue")
        connection.settimeout(10)
        connection.sendall(b"hello")
        answer = b""
        while b"HTTP/1.1 401" not in answer:
            chunk = connection.recv(4096)
            assert chunk, answer
            answer += chunk


@pytest.mark.parametrize("request_bytes, complete", [
    (b"GET /-/ HTTP/1.1\r\nHost: a\r\n\r\n", True),
    (b"GET /-/ HTTP/1.1\r\nHost: a\r\n", False),
    (b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabc", False),
    (b"POST / HTTP/1.1\r\ncontent-length: 4\r\n\r\nabcd", True),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", False),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", True),
    (b"POST / HTTP/1.1\r\nContent-Length: lots\r\n\r\n", True),  # the parser refuses it
])
def test_a_request_is_handed_to_a_thread_once_complete(request_bytes, complete):
    from occistack.serve import request_is_complete

    assert request_is_complete(request_bytes) is complete


@pytest.mark.timeout(60)
def test_gunicorn_closes_a_connection_that_sends_no_whole_request_in_time(database, tmp_path, monkeypatch):
    """The deadline, shortened for the test: TLS clients whose bodies never complete are cut
    off -- their connections closed (they read the end of the stream)."""
    monkeypatch.setenv("OCCISTACK_REQUEST_READ_SECONDS", "2")
    server, context = start_gunicorn(database, tmp_path)
    try:
        with slow_body_clients("localhost", server.port, context, 5) as connections:
            time.sleep(4.5)
            for connection in connections:
                connection.settimeout(2)
                try:
                    assert connection.recv(64) == b""
                except (ConnectionResetError, ssl.SSLError):
                    pass  # closed while data was in flight: closed all the same
    finally:
        server.stop()


@pytest.mark.timeout(60)
def test_gunicorn_serves_a_body_larger_than_it_gathers(gunicorn_server):
    """What the worker gathers in its loop (a MiB) is handed over with the connection; the thread
    reads the rest of the body."""
    from occistack.serve import GATHERED_BYTES

    host, port, context = gunicorn_server
    body = b"x" * (2 * GATHERED_BYTES + 17)
    with socket.create_connection((host, port), timeout=10) as raw:
        connection = context.wrap_socket(raw, server_hostname=host)
        connection.sendall(f"POST /compute/ HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
                           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        connection.settimeout(20)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            assert chunk, answer
            answer += chunk
    assert answer.startswith((b"HTTP/1.1 401", b"HTTP/1.1 413")), answer[:200]
