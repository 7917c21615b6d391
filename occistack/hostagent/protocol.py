"""The wire messages between a host agent and the management server (stdlib only).

Both sides import this module and nothing else of each other: the agent (``hostagent``) runs
on a host with no database, the gateway (``orchestrator.gateway``) runs beside it. Every
message is a frozen dataclass that travels as a JSON object with a ``type`` member, so a
message that crossed a socket and one that stayed in the process are the same bytes.

The exchange: the agent *registers* (its facts, its token, the protocol version), then sends
*heartbeats*, *fetches* its pending commands (the server may hold the request open until
some arrive: a long poll) and *answers* each one. A command may be delivered more than once
(after a reconnect); the agent answers a repeated command id from its memory of the first
run instead of running it again.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Annotated, Any

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
class Most:
    """A field's bound beyond its type (``Annotated[int, Most(n)]``): the largest whole number,
    or the most characters of text -- what the server keeps it in holds."""

    limit: int


#: Counts the server keeps in INTEGER columns.
LARGEST_COUNT = 2 ** 31 - 1


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the agent found on its host, sent at registration."""

    cpu_sockets: Annotated[int, Most(LARGEST_COUNT)]
    cpu_cores: Annotated[int, Most(LARGEST_COUNT)]
    cpu_mhz: Annotated[int, Most(LARGEST_COUNT)]
    memory_mib: Annotated[int, Most(LARGEST_COUNT)]
    hypervisor: Annotated[str, Most(16)] = "KVM"
    hypervisor_version: Annotated[str, Most(64)] | None = None
    bridges: tuple[str, ...] = ()
    storage_pools: tuple[str, ...] = ()
    agent_version: Annotated[str, Most(32)] | None = None


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
class Accepted:
    """The server's reply to a heartbeat or an answer."""

    ok: bool = True


_TYPES = {cls.__name__: cls for cls in (Register, Registered, Heartbeat, Fetch, Command, Commands, Answer,
                                         Answers, Accepted)}
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
    """The message a JSON text carries; ProtocolError for anything else, saying what was wrong."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProtocolError(f"not JSON: {error}") from None
    except RecursionError:
        raise ProtocolError("the JSON nests too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str) or document["type"] not in _TYPES:
        raise ProtocolError(f"not a message of protocol {PROTOCOL_VERSION}: expected an object whose type is "
                            f"one of {', '.join(_TYPES)}")
    return _build(_TYPES[document.pop("type")], document)


# --- checking a message against its typed definition -------------------------------------------------
#
# The field annotations of the dataclasses above are the messages' schema: each value is checked
# against its field's type before the message is built, so that a message that parsed is one the
# receiver can use as typed (a host_id is an int the database can hold, a token is text).

#: Ids are keys of the database's rows: positive 64-bit integers. Other whole numbers (counts,
#: sizes, versions) are non-negative and 64-bit as well.
LARGEST_INTEGER = 2 ** 63 - 1
#: How deep a JSON value may nest inside a payload or result; no command's comes near.
DEEPEST_VALUE = 32
_FIELD_TYPES = {cls: typing.get_type_hints(cls, include_extras=True) for cls in _MESSAGE_TYPES}
_REQUIRED = {cls: frozenset(item.name for item in fields(cls) if item.default is MISSING
                            and item.default_factory is MISSING) for cls in _MESSAGE_TYPES}


def _build(cls, document: dict[str, Any], where: str = ""):
    where = where or cls.__name__
    if not isinstance(document, dict):
        raise ProtocolError(f"{where} must be an object ({cls.__name__}), not {_json_kind(document)}")
    types = _FIELD_TYPES[cls]
    unknown = set(document) - set(types)
    if unknown:
        raise ProtocolError(f"{where} has no field {', '.join(sorted(map(str, unknown)))}; its fields are: "
                            f"{', '.join(types)}")
    missing = _REQUIRED[cls] - set(document)
    if missing:
        raise ProtocolError(f"{where} lacks the field {', '.join(sorted(missing))}")
    values = {name: _checked(f"{where}.{name}", types[name], value) for name, value in document.items()}
    return cls(**values)


def _checked(where: str, annotation, value):
    """``value`` as a value of ``annotation`` (tuples from JSON arrays, messages from objects);
    ProtocolError naming ``where`` and what it accepts otherwise."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):  # only ever "X | None"
        if value is None and type(None) in arguments:
            return None
        (annotation,) = (argument for argument in arguments if argument is not type(None))
        return _checked(where, annotation, value)
    if origin is Annotated:
        (annotation, most), checked = arguments, _checked(where, arguments[0], value)
        size = len(checked) if isinstance(checked, str) else checked
        if size > most.limit:
            raise _wrong(where, f"at most {most.limit} characters long" if isinstance(checked, str)
                         else f"a whole number of at most {most.limit}", value)
        return checked
    if annotation is Any:
        _check_json_value(where, value)
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _wrong(where, "true or false", value)
    if annotation is int:
        least = 1 if where.endswith((".id", "_id")) else 0
        if isinstance(value, int) and not isinstance(value, bool) and least <= value <= LARGEST_INTEGER:
            return value
        raise _wrong(where, f"a whole number from {least} to {LARGEST_INTEGER}", value)
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return float(value)
        raise _wrong(where, "a finite number of at least 0", value)
    if annotation is str:
        if isinstance(value, str) and "\x00" not in value and _whole_characters(value):
            return value
        raise _wrong(where, "text (whole characters, no NUL)", value)
    if origin is tuple:  # tuple[X, ...]
        if not isinstance(value, list):
            raise _wrong(where, "an array", value)
        return tuple(_checked(f"{where}[{index}]", arguments[0], item) for index, item in enumerate(value))
    if origin is dict:  # dict[str, X]; JSON's keys are text already
        if not isinstance(value, dict):
            raise _wrong(where, "an object", value)
        return {_checked(f"{where} key", str, key): _checked(f"{where}[{key!r}]", arguments[1], item)
                for key, item in value.items()}
    if annotation in _MESSAGE_TYPES:
        return _build(annotation, value, where)
    raise ProtocolError(f"{where}: no rule checks a {annotation!r}")  # a new field type: teach _checked


def _check_json_value(where: str, value) -> None:
    """A free-form value (a payload, a result): JSON nested at most DEEPEST_VALUE deep, without
    NUL characters (no database column holds one) or numbers beyond 64 bits."""
    pending = [(value, 0)]
    while pending:  # a loop, not recursion: the value may nest as deep as the JSON parser allowed
        item, depth = pending.pop()
        if depth > DEEPEST_VALUE:
            raise ProtocolError(f"{where} nests deeper than {DEEPEST_VALUE} levels")
        if isinstance(item, str):
            if "\x00" in item or not _whole_characters(item):
                raise ProtocolError(f"{where} holds a NUL character or a lone UTF-16 surrogate, which no value "
                                    "may hold")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -LARGEST_INTEGER - 1 <= item <= LARGEST_INTEGER:
                raise ProtocolError(f"{where} holds the number {item}, beyond 64 bits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ProtocolError(f"{where} holds {item}, which is not a finite number")
        elif isinstance(item, dict):
            pending.extend((element, depth + 1) for pair in item.items() for element in pair)
        elif isinstance(item, list):
            pending.extend((element, depth + 1) for element in item)
        else:
            raise ProtocolError(f"{where} holds a {type(item).__name__}, which JSON has not")


def _whole_characters(text: str) -> bool:
    """False for text with a lone surrogate (a JSON "\\ud800"), which cannot be encoded."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _wrong(where: str, accepted: str, value) -> ProtocolError:
    shown = repr(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if shown is not None and len(shown) > 40:
        shown = shown[:37] + "..."
    return ProtocolError(f"{where} must be {accepted}; got {shown or _json_kind(value)}")


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
