"""The wire messages between a host agent and the management server (stdlib only).

Both sides import this module and nothing else of each other: the agent (``hostagent``) runs
on a host with no database, the gateway (``orchestrator.gateway``) runs beside it. Every
message is a frozen dataclass that travels as a JSON object with a ``type`` member, so a
message that crossed a socket and one that stayed in the process are the same bytes.

The exchange: the agent *registers* (its facts, its token, the protocol version), then sends
*heartbeats*, *fetches* its pending commands (the server may hold the request open until
some arrive: a long poll) and *answers* each one; while a long command runs (a template
download) it may send its *progress*. A command may be delivered more than once
(after a reconnect); the agent answers a repeated command id from its memory of the first
run instead of running it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

PROTOCOL_VERSION = 1

#: What an agent can be asked to do; payloads are described in hostagent/agent.py.
COMMANDS = (
    "deploy_guest", "power_guest", "destroy_guest", "snapshot_guest",
    "create_volume", "resize_volume", "delete_volume", "attach_volume", "detach_volume",
    "plug_nic", "unplug_nic", "download_template", "remove_secondary_file",
)


class ProtocolError(ValueError):
    """A message that is not one of ours, or is missing what it needs."""


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the agent found on its host, sent at registration."""

    cpu_sockets: int
    cpu_cores: int
    cpu_mhz: int
    memory_mib: int
    hypervisor: str = "KVM"
    hypervisor_version: str | None = None
    bridges: tuple[str, ...] = ()
    storage_pools: tuple[str, ...] = ()
    agent_version: str | None = None


@dataclass(frozen=True, slots=True)
class Register:
    host_name: str
    token: str
    protocol_version: int
    facts: HostFacts


@dataclass(frozen=True, slots=True)
class Registered:
    host_id: int
    heartbeat_seconds: float
    #: how long a fetch may be held open waiting for commands.
    poll_seconds: float


@dataclass(frozen=True, slots=True)
class Heartbeat:
    host_id: int
    #: guest name → running/stopped/suspended of every guest on the host, for reconciliation;
    #: None when the agent's hypervisor cannot list them (nothing is reconciled then).
    guests: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Fetch:
    host_id: int
    limit: int = 20
    wait_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Command:
    id: int
    name: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Commands:
    commands: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    host_id: int
    command_id: int
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    #: why it failed, fit to become a resource's state message.
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Answers:
    """The answers to everything one fetch delivered, sent together: one round trip (and one
    transaction on the server) for a batch of commands."""

    host_id: int
    answers: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a long command (a template download) has come, sent while it runs: ``percent``
    of the whole, 0-100. The server shows it; an unknown or finished command's is ignored."""

    host_id: int
    command_id: int
    percent: int


@dataclass(frozen=True, slots=True)
class Accepted:
    """The server's reply to a heartbeat or an answer."""

    ok: bool = True


_TYPES = {cls.__name__: cls for cls in (Register, Registered, Heartbeat, Fetch, Command, Commands, Answer,
                                         Answers, Progress, Accepted)}
_MESSAGE_TYPES = frozenset((*_TYPES.values(), HostFacts))
_FIELD_NAMES = {cls: tuple(item.name for item in fields(cls)) for cls in _MESSAGE_TYPES}


def encode(message) -> str:
    """A message as JSON text, with its ``type``."""
    document = _plain(message)
    document["type"] = type(message).__name__
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def _plain(message) -> dict[str, Any]:
    """A message's fields as JSON values. (dataclasses.asdict does this too, deep-copying every
    payload on the way; messages only nest messages, in tuples.)"""
    document = {}
    for name in _FIELD_NAMES[type(message)]:
        value = getattr(message, name)
        if type(value) in _MESSAGE_TYPES:
            value = _plain(value)
        elif type(value) is tuple and value and type(value[0]) in _MESSAGE_TYPES:
            value = [_plain(item) for item in value]
        document[name] = value
    return document


def decode(text: str | bytes):
    """The message a JSON text carries; ProtocolError for anything else."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProtocolError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("type") not in _TYPES:
        raise ProtocolError(f"not a message of protocol {PROTOCOL_VERSION}: expected an object whose type is "
                            f"one of {', '.join(_TYPES)}")
    return _build(_TYPES[document.pop("type")], document)


def _build(cls, document: dict[str, Any]):
    names = {item.name for item in fields(cls)}
    unknown = set(document) - names
    if unknown:
        raise ProtocolError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    values = dict(document)
    if cls is Register and isinstance(values.get("facts"), dict):
        facts = dict(values["facts"])
        facts["bridges"] = tuple(facts.get("bridges", ()))
        facts["storage_pools"] = tuple(facts.get("storage_pools", ()))
        values["facts"] = _build(HostFacts, facts)
    if cls is Commands:
        values["commands"] = tuple(_build(Command, dict(item)) for item in values.get("commands", ()))
    if cls is Answers:
        values["answers"] = tuple(_build(Answer, dict(item)) for item in values.get("answers", ()))
    try:
        return cls(**values)
    except TypeError as error:
        raise ProtocolError(f"{cls.__name__}: {error}") from None
