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
# receiver can use as typed (a host_id is an int the database can hold, a token is text). The
# annotations are turned into checking functions once, at import: messages are on the agents'
# hot path, and most of them are well formed.

#: Ids are keys of the database's rows: positive 64-bit integers. Other whole numbers (counts,
#: sizes, versions) are non-negative and 64-bit as well.
LARGEST_INTEGER = 2 ** 63 - 1
#: How deep a JSON value may nest inside a payload or result; no command's comes near.
DEEPEST_VALUE = 32


class _Mismatch(Exception):
    """A value that does not fit; ``path`` grows with each enclosing field on the way out."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []


def _build(cls, document):
    """The message ``cls`` from its JSON object, each field checked; ProtocolError naming the
    field that is wrong (``Answers.answers[2].command_id``) and what it accepts."""
    try:
        return _build_checked(cls, document)
    except _Mismatch as mismatch:
        raise ProtocolError(f"{cls.__name__}{''.join(reversed(mismatch.path))} {mismatch.problem}") from None


def _build_checked(cls, document):
    if type(document) is not dict:
        raise _mismatch(f"an object ({cls.__name__})", document)
    checkers = _CHECKERS[cls]
    values = {}
    for name, value in document.items():
        checker = checkers.get(name)
        if checker is None:
            raise _Mismatch(f"has no field {str(name)[:40]!r}; its fields are: {', '.join(checkers)}")
        try:
            values[name] = checker(value)
        except _Mismatch as mismatch:
            mismatch.path.append("." + name)
            raise
    missing = _REQUIRED[cls].difference(values)
    if missing:
        raise _Mismatch(f"lacks the field {', '.join(sorted(missing))}")
    return cls(**values)


def _checker(annotation, is_id: bool = False):
    """The function that checks a JSON value against ``annotation`` and returns it as that type
    (tuples from arrays, messages from objects), raising _Mismatch otherwise."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):  # only ever "X | None"
        (inner,) = (_checker(argument, is_id) for argument in arguments if argument is not type(None))
        return lambda value: None if value is None else inner(value)
    if origin is Annotated:
        return _bounded(_checker(arguments[0], is_id), arguments[1].limit)
    if annotation is Any:
        return _checked_json
    if annotation is bool:
        return _checked_bool
    if annotation is int:
        return _checked_id if is_id else _checked_count
    if annotation is float:
        return _checked_float
    if annotation is str:
        return _checked_text
    if origin is tuple:  # tuple[X, ...]
        return _array_of(_checker(arguments[0]))
    if origin is dict:  # dict[str, X]; JSON's keys are text already
        return _object_of(_checker(arguments[1]))
    if annotation in _MESSAGE_TYPES:
        return lambda value: _build_checked(annotation, value)
    raise TypeError(f"no rule checks a {annotation!r}: teach protocol._checker")  # at import, for a new type


def _bounded(inner, limit: int):
    def checked(value):
        value = inner(value)
        if isinstance(value, str) and len(value) > limit:
            raise _mismatch(f"at most {limit} characters long", value)
        if isinstance(value, int) and value > limit:
            raise _mismatch(f"a whole number of at most {limit}", value)
        return value
    return checked


def _checked_bool(value):
    if value is True or value is False:
        return value
    raise _mismatch("true or false", value)


def _checked_id(value):
    if type(value) is int and 1 <= value <= LARGEST_INTEGER:
        return value
    raise _mismatch(f"a whole number from 1 to {LARGEST_INTEGER}", value)


def _checked_count(value):
    if type(value) is int and 0 <= value <= LARGEST_INTEGER:
        return value
    raise _mismatch(f"a whole number from 0 to {LARGEST_INTEGER}", value)


def _checked_float(value):
    if type(value) in (int, float) and 0 <= value < math.inf:  # NaN compares false
        return float(value)
    raise _mismatch("a finite number of at least 0", value)


def _checked_text(value):
    if type(value) is str and _storable(value):
        return value
    raise _mismatch("text (whole characters, no NUL)", value)


def _array_of(item):
    def checked(value):
        if type(value) is not list:
            raise _mismatch("an array", value)
        items = []
        for index, element in enumerate(value):
            try:
                items.append(item(element))
            except _Mismatch as mismatch:
                mismatch.path.append(f"[{index}]")
                raise
        return tuple(items)
    return checked


def _object_of(item):
    def checked(value):
        if type(value) is not dict:
            raise _mismatch("an object", value)
        members = {}
        for key, element in value.items():
            try:
                members[_checked_text(key)] = item(element)
            except _Mismatch as mismatch:
                mismatch.path.append(f"[{key[:40]!r}]")
                raise
        return members
    return checked


def _checked_json(value):
    """A free-form value (a payload, a result): JSON nested at most DEEPEST_VALUE deep, without
    NUL characters (no database column holds one) or numbers beyond 64 bits."""
    pending = [(value, 0)]
    while pending:  # a loop, not recursion: the value may nest as deep as the JSON parser allowed
        item, depth = pending.pop()
        kind = type(item)
        if kind is str:
            if not _storable(item):
                raise _Mismatch("holds a NUL character or a lone UTF-16 surrogate, which no value may hold")
        elif kind is dict or kind is list:
            if depth >= DEEPEST_VALUE:
                raise _Mismatch(f"nests deeper than {DEEPEST_VALUE} levels")
            elements = (element for pair in item.items() for element in pair) if kind is dict else item
            pending.extend((element, depth + 1) for element in elements)
        elif kind is int:
            if not -LARGEST_INTEGER - 1 <= item <= LARGEST_INTEGER:
                raise _Mismatch(f"holds the number {item}, beyond 64 bits")
        elif kind is float:
            if not math.isfinite(item):
                raise _Mismatch(f"holds {item}, which is not a finite number")
        elif item is not None and kind is not bool:
            raise _Mismatch(f"holds a {kind.__name__}, which JSON has not")
    return value


def _storable(text: str) -> bool:
    """Text without NUL and without a lone surrogate (a JSON "\\ud800", which cannot be encoded)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _mismatch(accepted: str, value) -> _Mismatch:
    shown = repr(value) if type(value) in (str, int, float) else None
    if shown is not None and len(shown) > 40:
        shown = shown[:37] + "..."
    return _Mismatch(f"must be {accepted}; got {shown or _json_kind(value)}")


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


_REQUIRED = {cls: frozenset(item.name for item in fields(cls) if item.default is MISSING
                            and item.default_factory is MISSING) for cls in _MESSAGE_TYPES}
_CHECKERS = {cls: {name: _checker(hint, is_id=name == "id" or name.endswith("_id"))
                   for name, hint in typing.get_type_hints(cls, include_extras=True).items()}
             for cls in _MESSAGE_TYPES}
