"""The wire messages between a host agent and the management server (stdlib only).

Both sides import this module and nothing else of each other: the agent (``hostagent``) runs
on a host with no database, the gateway (``plane.agents.gateway``) runs beside it. Every
message is a frozen dataclass that travels as a JSON object with a ``type`` member, so a
message that crossed a socket and one that stayed in the process are the same bytes.

The exchange: the agent *registers* (its facts, its token, the protocol version it speaks;
the server's reply states the server's), then sends *heartbeats*, *fetches* its pending
commands (the server may hold the request open until some arrive: a long poll) and *answers*
each one; while a long command runs (a template download) it may send its *progress*. A
command may be delivered more than once (after a reconnect); the agent answers a repeated
command id from its memory of the first run instead of running it again.

What a command asks and what its answer says are typed too: one frozen dataclass per command
(:class:`DeployGuest`, :class:`PowerGuest`, ...) and per answer (:class:`GuestState`,
:class:`Done`, ...). A :class:`Command` carries a command as its wire ``name`` and its fields as
``payload`` -- the form the server keeps it in (``agent_commands``) until an agent fetches it --
and :func:`encode_command`, :func:`decode_command`, :func:`encode_result` and
:func:`decode_result` are the one place either form becomes the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from occistack.hostagent.typed_json import Mismatch, Most, build, plain, prepare

#: Version 2: commands and answers are typed (the fields of the classes below), and the
#: server states its version in Registered.
PROTOCOL_VERSION = 2


class ProtocolError(ValueError):
    """A message that is not one of ours, or is missing what it needs."""


class VersionMismatch(ProtocolError):
    """The two sides speak different versions of this protocol."""


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
    #: the version the server speaks; an agent speaking another one stops (see check_version).
    protocol_version: int = PROTOCOL_VERSION


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
    """One command as it travels: ``name`` is a command class's ``wire_name``, ``payload`` its
    fields (see decode_command)."""

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
    #: the answer's fields (see encode_result), for a command that succeeded.
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


def check_version(spoken: int, them: str, us: str = "this side") -> None:
    """VersionMismatch saying who speaks what, unless ``spoken`` (by ``them``) is ours."""
    if spoken != PROTOCOL_VERSION:
        raise VersionMismatch(f"{us} speaks agent protocol {PROTOCOL_VERSION}; {them} speaks {spoken}: "
                              "upgrade one of them")


# --- answers ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Done:
    """The command was carried out; there is nothing more to say."""


@dataclass(frozen=True, slots=True)
class GuestState:
    """The guest's state once the command was carried out: running, stopped, suspended."""

    state: str


@dataclass(frozen=True, slots=True)
class SnapshotSaved:
    """A saved image; copied to secondary storage (``destination``), its checksum and size
    there, else (left on the host) neither."""

    checksum: str | None = None
    size_gib: float | None = None


@dataclass(frozen=True, slots=True)
class TemplateDownloaded:
    size_gib: float


# --- commands --------------------------------------------------------------------------------------
# Each names itself on the wire (``wire_name``) and the answer it is given (``answer_type``).

@dataclass(frozen=True, slots=True)
class GuestDefinition:
    """What the hypervisor defines (drivers.base.GuestSpec, which this module cannot import)."""

    name: str
    cores: int
    memory_mib: int
    image: str
    architecture: str = "x64"
    hostname: str | None = None
    user_data: str | None = None
    ssh_public_key: str | None = None
    nics: tuple[tuple[str, str], ...] = ()  # (mac, network name)
    disks: tuple[tuple[str, str], ...] = ()  # (volume name, device)
    #: (kernel, initrd, command line) host files to boot from instead of a disk.
    direct_boot: tuple[str, str | None, str | None] | None = None


@dataclass(frozen=True, slots=True)
class GuestNetwork:
    """A guest network a host implements: its VLAN, and where its subnet has a DHCP server the
    host runs (the host is the network's virtual router), the subnet and that server's address."""

    name: str
    vlan: int | None = None
    cidr: str | None = None
    dhcp_server: str | None = None
    gateway: str | None = None


@dataclass(frozen=True, slots=True)
class VolumeAttachment:
    name: str
    device: str


@dataclass(frozen=True, slots=True)
class RootDisk:
    """Where the host's storage gets a template's image the first time (``source`` in
    secondary storage, verified against ``checksum``) to make the guest's root disk from."""

    template: str
    source: str
    checksum: str
    size_gib: float


@dataclass(frozen=True, slots=True)
class DeployGuest:
    wire_name: ClassVar[str] = "deploy_guest"
    answer_type: ClassVar[type] = GuestState

    guest: GuestDefinition
    networks: tuple[GuestNetwork, ...] = ()
    volumes: tuple[VolumeAttachment, ...] = ()
    #: the NICs' allocated addresses, by MAC.
    addresses: dict[str, str] = field(default_factory=dict)
    root_disk: RootDisk | None = None


@dataclass(frozen=True, slots=True)
class PowerGuest:
    wire_name: ClassVar[str] = "power_guest"
    answer_type: ClassVar[type] = GuestState

    name: str
    #: one of drivers.base.POWER_MOVES.
    operation: str


@dataclass(frozen=True, slots=True)
class DestroyGuest:
    wire_name: ClassVar[str] = "destroy_guest"
    answer_type: ClassVar[type] = Done

    name: str
    volumes: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()
    #: networks the host may stop implementing once the guest is gone.
    networks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SnapshotGuest:
    wire_name: ClassVar[str] = "snapshot_guest"
    answer_type: ClassVar[type] = SnapshotSaved

    name: str
    image: str
    #: the server's own note, read back with the answer.
    template_id: int | None = None
    #: where in secondary storage the image goes; None keeps it on this host.
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class CreateVolume:
    wire_name: ClassVar[str] = "create_volume"
    answer_type: ClassVar[type] = Done

    name: str
    size_gib: float
    #: a snapshot in secondary storage (nfs:// or file:// URL) the new volume starts as a copy
    #: of, verified against ``checksum``; None for an empty volume.
    source: str | None = None
    checksum: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotVolume:
    """A point-in-time copy of a volume -- or, with ``root_of``, of that guest's root disk --
    stored in secondary storage at ``destination``. The agent reports progress 50 once the
    copy is taken (a running guest's disk chain is short again) and it starts copying it out."""

    wire_name: ClassVar[str] = "snapshot_volume"
    answer_type: ClassVar[type] = SnapshotSaved

    volume: str | None
    destination: str
    root_of: str | None = None


@dataclass(frozen=True, slots=True)
class RevertVolume:
    """Overwrite a volume (or, with ``root_of``, that guest's root disk) with the snapshot at
    ``source``, verified against ``checksum``. No running guest may be using it."""

    wire_name: ClassVar[str] = "revert_volume"
    answer_type: ClassVar[type] = Done

    volume: str | None
    source: str
    checksum: str
    root_of: str | None = None


@dataclass(frozen=True, slots=True)
class ResizeVolume:
    wire_name: ClassVar[str] = "resize_volume"
    answer_type: ClassVar[type] = Done

    name: str
    size_gib: float


@dataclass(frozen=True, slots=True)
class DeleteVolume:
    wire_name: ClassVar[str] = "delete_volume"
    answer_type: ClassVar[type] = Done

    name: str


@dataclass(frozen=True, slots=True)
class AttachVolume:
    wire_name: ClassVar[str] = "attach_volume"
    answer_type: ClassVar[type] = Done

    guest: str
    volume: str
    device: str


@dataclass(frozen=True, slots=True)
class DetachVolume:
    wire_name: ClassVar[str] = "detach_volume"
    answer_type: ClassVar[type] = Done

    guest: str
    volume: str


@dataclass(frozen=True, slots=True)
class PlugNic:
    wire_name: ClassVar[str] = "plug_nic"
    answer_type: ClassVar[type] = Done

    guest: str
    network: GuestNetwork
    mac: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class UnplugNic:
    wire_name: ClassVar[str] = "unplug_nic"
    answer_type: ClassVar[type] = Done

    guest: str
    mac: str


@dataclass(frozen=True, slots=True)
class DownloadTemplate:
    wire_name: ClassVar[str] = "download_template"
    answer_type: ClassVar[type] = TemplateDownloaded

    url: str
    #: ``<algorithm>:<hex>``
    checksum: str
    destination: str
    #: the template's name, for the agent's log.
    template: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveSecondaryFile:
    wire_name: ClassVar[str] = "remove_secondary_file"
    answer_type: ClassVar[type] = Done

    destination: str


@dataclass(frozen=True, slots=True)
class ReceiveGuest:
    """Sent to the target of a migration before the guest moves: implement the guest's networks
    here, and write its config drive where the source has it (hosts of a cluster share one
    layout), so that its devices find what they name when it arrives. Its NICs are plugged
    (PlugNic) once it has arrived and the source has unplugged them."""

    wire_name: ClassVar[str] = "receive_guest"
    answer_type: ClassVar[type] = Done

    guest: GuestDefinition
    networks: tuple[GuestNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class MigrateGuest:
    """Sent to the source of a migration: move the guest to the host at ``target_address``
    (named ``target_host``), then let go of what it held here (NICs, config drive, networks no
    guest uses any more). ``live``: the guest keeps running while its memory is copied; else a
    running guest is stopped, moved and started on the target, a stopped one moved as it is.
    ``copy_storage``: the root disk is on this host's own storage and is copied along (block
    migration); otherwise both hosts reach it (shared storage)."""

    wire_name: ClassVar[str] = "migrate_guest"
    answer_type: ClassVar[type] = GuestState

    name: str
    target_host: Annotated[str, Most(128)]
    target_address: Annotated[str, Most(255)]
    live: bool = True
    copy_storage: bool = False
    macs: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()


HostCommand = (DeployGuest | PowerGuest | DestroyGuest | SnapshotGuest | CreateVolume | ResizeVolume
                | DeleteVolume | AttachVolume | DetachVolume | PlugNic | UnplugNic | DownloadTemplate
                | RemoveSecondaryFile | SnapshotVolume | RevertVolume | ReceiveGuest | MigrateGuest)
HostAnswer = Done | GuestState | SnapshotSaved | TemplateDownloaded

#: wire name → command class: what an agent can be asked to do.
COMMAND_TYPES: dict[str, type] = {cls.wire_name: cls for cls in HostCommand.__args__}
COMMANDS = tuple(COMMAND_TYPES)
ANSWER_TYPES: tuple[type, ...] = HostAnswer.__args__


def encode_command(command: HostCommand) -> tuple[str, dict[str, Any]]:
    """The command's wire name and payload, checked as an agent will check it: a field of the
    wrong type is a ProtocolError here, where the command is built, not on a host."""
    if type(command) not in _COMMAND_CLASSES:
        raise ProtocolError(f"{type(command).__name__} is not an agent command; the commands are: "
                            f"{', '.join(cls.__name__ for cls in _COMMAND_CLASSES)}")
    payload = plain(command)
    _checked(type(command), payload)
    return command.wire_name, payload


def decode_command(name: str, payload: dict[str, Any]) -> HostCommand:
    """The typed command of a wire name and payload; ProtocolError for an unknown name, a field
    the command has not (a misspelling), a missing one, or one of the wrong type."""
    cls = COMMAND_TYPES.get(name)
    if cls is None:
        raise ProtocolError(f"no agent command is named {str(name)[:40]!r} in protocol {PROTOCOL_VERSION}; "
                            f"the commands are: {', '.join(COMMANDS)}")
    return _checked(cls, payload)


def encode_result(answer: HostAnswer) -> dict[str, Any]:
    """An answer's fields, as Answer.result carries them."""
    if type(answer) not in ANSWER_TYPES:
        raise ProtocolError(f"{type(answer).__name__} is not an agent answer")
    return plain(answer)


def decode_result(command: type, result: dict[str, Any] | None) -> HostAnswer:
    """The typed answer to a command of class ``command`` from Answer.result; ProtocolError
    when it is not the answer that command is given."""
    return _checked(command.answer_type, result or {})


def _checked(cls: type, document):
    try:
        return build(cls, document)
    except Mismatch as mismatch:
        raise ProtocolError(mismatch.where(cls)) from None


# --- messages as JSON ------------------------------------------------------------------------------

_TYPES = {cls.__name__: cls for cls in (Register, Registered, Heartbeat, Fetch, Command, Commands, Answer,
                                         Answers, Progress, Accepted)}
_COMMAND_CLASSES = frozenset(COMMAND_TYPES.values())
prepare(*_TYPES.values(), HostFacts, *_COMMAND_CLASSES, *ANSWER_TYPES)  # a field no rule checks fails at import


def encode(message) -> str:
    """A message as JSON text, with its ``type``."""
    document = plain(message)
    document["type"] = type(message).__name__
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


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
    return _checked(_TYPES[document.pop("type")], document)
