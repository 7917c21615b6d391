"""The server's end of the agents' channel: one gateway call per message, each in its own
transaction, and the long poll of a fetch.

Both transports end here: the in-process agents of the embedded default
(``local_agents.LocalChannel``) and remote ``occistack-agent`` processes over HTTP
(``api/agents/channel.py``). Over HTTP every message also carries the host's credential -- a
verified host certificate (production) or the host's token (development) -- and a message is
accepted only for the host that credential belongs to: an agent can speak only for its own
host. A certificate belongs to the host whose name it carries (federation.x509.host_names).
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from occistack.hostagent.protocol import Answer, Answers, Fetch, Heartbeat, Progress, Register
from occistack.model import Host
from occistack.model.contention import run_retrying
from occistack.model.session import read_only_session
from occistack.plane.agents import gateway
from occistack.plane.listener import PostgresListener
from occistack.plane.wakeups import COMMANDS_CHANNEL, Notifier

#: How long a verified (host, token) pair is trusted without reading the host again: the delay
#: before a revoked or rotated token stops working for an agent already connected.
TOKEN_TRUST_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class HostCertificate:
    """A client certificate the transport verified: whose it is, and the host names it carries
    (lower case)."""

    subject: str
    host_names: frozenset[str]
    fingerprint: bytes


class AgentChannel:
    def __init__(self, session_factory: sessionmaker[Session], settings: gateway.GatewaySettings,
                 commands: Notifier | None = None, advance=None, on_progress=None):
        self.session_factory = session_factory
        self.settings = settings
        self.commands = commands
        #: runs a job's next step when its last answer comes in (Worker.continue_answered).
        self.advance = advance
        #: hands a command's progress to its job's handler (jobs.handlers.report_progress).
        self.on_progress = on_progress
        # One LISTEN connection per long-polling thread, kept for the thread's life.
        self._local = threading.local()
        self._trusted: dict[int, tuple[str, float]] = {}

    def handle(self, message, token: str | None = None, certificate: HostCertificate | None = None):
        """The reply to ``message``. With a ``certificate`` or a ``token`` (the HTTP transport),
        the message must be about the host that credential belongs to; without either the caller
        is trusted (in-process)."""
        if certificate is not None:
            self._authenticate_certificate(message, certificate)
        elif token is not None:
            self._authenticate(message, token)
        if isinstance(message, Fetch) and message.wait_seconds > 0 and self.commands is not None:
            return self._long_poll(message)
        return run_retrying(lambda: self._dispatch_in_transaction(message, certified=certificate is not None),
                            f"{type(message).__name__} of host {getattr(message, 'host_id', '?')}")

    def _dispatch_in_transaction(self, message, certified: bool):
        # One transaction per attempt: a deadlock or serialization failure ends it whole, and
        # run_retrying runs the message again (an answer is recorded once, by the attempt that
        # commits).
        with self.session_factory() as session, session.begin():
            return self._dispatch(session, message, certified=certified)

    def _authenticate_certificate(self, message, certificate: HostCertificate) -> None:
        if isinstance(message, Register):
            if message.host_name.lower() not in certificate.host_names:
                raise gateway.AgentUnauthenticated(_not_named(certificate, repr(message.host_name)))
            return  # the gateway checks that the host exists
        host_id = getattr(message, "host_id", None)
        if not isinstance(host_id, int):
            raise gateway.GatewayError(f"{type(message).__name__} names no host")
        key = b"certificate:" + certificate.fingerprint
        trusted = self._trusted.get(host_id)
        if trusted is not None and trusted[1] > time.monotonic() and trusted[0] == key:
            return
        with read_only_session(self.session_factory.kw["bind"]) as session:
            name = session.scalar(select(Host.name).where(Host.id == host_id))
        if name is None or name.lower() not in certificate.host_names:
            self._trusted.pop(host_id, None)
            raise gateway.AgentUnauthenticated(_not_named(certificate, f"host {host_id}"))
        self._trusted[host_id] = (key, time.monotonic() + TOKEN_TRUST_SECONDS)

    def _authenticate(self, message, token: str) -> None:
        if isinstance(message, Register):
            # As bytes: compare_digest refuses text that is not ASCII.
            if not hmac.compare_digest(message.token.encode(), token.encode("latin-1", "replace")):
                raise gateway.AgentUnauthenticated("the token of the Register message and the bearer token differ")
            return  # the gateway checks the token against the named host
        host_id = getattr(message, "host_id", None)
        if not isinstance(host_id, int):
            raise gateway.GatewayError(f"{type(message).__name__} names no host")
        presented = gateway.token_hash(token)
        trusted = self._trusted.get(host_id)
        if trusted is not None and trusted[1] > time.monotonic() and hmac.compare_digest(trusted[0], presented):
            return
        with read_only_session(self.session_factory.kw["bind"]) as session:
            stored = session.scalar(select(Host.agent_token_hash).where(Host.id == host_id))
        if not stored or not hmac.compare_digest(stored, presented):
            self._trusted.pop(host_id, None)
            # The same answer for an unknown host and a wrong token: ids cannot be probed.
            raise gateway.AgentUnauthenticated(f"this token does not belong to host {host_id}; an agent speaks "
                                               "only for the host whose token it holds")
        self._trusted[host_id] = (presented, time.monotonic() + TOKEN_TRUST_SECONDS)

    def _dispatch(self, session: Session, message, certified: bool = False):
        if isinstance(message, Register):
            return gateway.register(session, message, self.settings, certified=certified)
        if isinstance(message, Heartbeat):
            return gateway.heartbeat(session, message)
        if isinstance(message, Fetch):
            return gateway.fetch(session, message, self.settings)
        if isinstance(message, Answer):
            return gateway.answer(session, message, self.advance)
        if isinstance(message, Answers):
            return gateway.answer_all(session, message, self.advance)
        if isinstance(message, Progress):
            return gateway.progress(session, message, self.on_progress)
        raise gateway.GatewayError(f"agents do not send {type(message).__name__}")

    def _long_poll(self, message: Fetch):
        """Fetch until commands come or the wait is over. On PostgreSQL every commit that
        queues commands sends NOTIFY, which this thread's listener (LISTENing before the first
        fetch, so nothing slips between) waits for; otherwise this process's command notifier."""
        deadline = time.monotonic() + message.wait_seconds
        seen = self.commands.generation_of(message.host_id)
        listener = self._listener()
        while True:
            reply = run_retrying(lambda: self._dispatch_in_transaction(message, certified=False),
                                 f"Fetch of host {message.host_id}")
            remaining = deadline - time.monotonic()
            if reply.commands or remaining <= 0 or self.commands.closed:
                return reply
            if listener is not None:
                listener.wait(remaining, key=message.host_id)
            else:
                seen = self.commands.wait(seen, remaining, key=message.host_id)

    def _listener(self) -> PostgresListener | None:
        listener = getattr(self._local, "listener", None)
        if listener is None:
            listener = PostgresListener.for_engine(self.session_factory.kw["bind"], COMMANDS_CHANNEL)
            self._local.listener = listener
        return listener


def _not_named(certificate: HostCertificate, host: str) -> str:
    names = ", ".join(sorted(certificate.host_names)) or "no host name"
    return (f"the certificate of {certificate.subject} is for {names}, not for {host}; an agent speaks only for "
            "the host its certificate names (a DNS SubjectAltName, or the CN, equal to the host's name)")
