"""The agents' wire messages: whatever JSON arrives, decode returns a message whose every field
has its declared type (and range), or raises ProtocolError naming what was wrong -- nothing
else; and every well-formed message survives the trip through JSON unchanged."""

from __future__ import annotations

import copy
import json
import typing
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occistack.hostagent import protocol
from occistack.hostagent.typed_json import LARGEST_INTEGER
from occistack.hostagent.protocol import (
    LARGEST_COUNT,
    Accepted,
    Answer,
    Answers,
    Command,
    Commands,
    Fetch,
    Heartbeat,
    HostFacts,
    ProtocolError,
    Register,
    Registered,
    decode,
    encode,
)

PROPERTIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- well-formed messages -------------------------------------------------------------------------

ids = st.integers(1, LARGEST_INTEGER)
counts = st.integers(0, LARGEST_INTEGER)
seconds = st.floats(0, 1e6, allow_nan=False)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
json_leaves = st.one_of(st.none(), st.booleans(), st.integers(-LARGEST_INTEGER, LARGEST_INTEGER),
                        st.floats(allow_nan=False, allow_infinity=False), texts)
json_values = st.recursive(json_leaves, lambda children: st.one_of(st.lists(children, max_size=3),
                                                                   st.dictionaries(texts, children, max_size=3)),
                           max_leaves=10)
payloads = st.dictionaries(texts, json_values, max_size=4)

host_counts = st.integers(0, LARGEST_COUNT)
facts = st.builds(HostFacts, cpu_sockets=host_counts, cpu_cores=host_counts, cpu_mhz=host_counts,
                  memory_mib=host_counts, hypervisor=texts.map(lambda text: text[:16]),
                  hypervisor_version=st.none() | texts,
                  bridges=st.lists(texts, max_size=3).map(tuple), storage_pools=st.lists(texts, max_size=3).map(tuple),
                  agent_version=st.none() | texts)
answer = st.builds(Answer, host_id=ids, command_id=ids, ok=st.booleans(), result=payloads, error=st.none() | texts)
messages = st.one_of(
    st.builds(Register, host_name=texts, token=texts, protocol_version=counts, facts=facts),
    st.builds(Registered, host_id=ids, heartbeat_seconds=seconds, poll_seconds=seconds, protocol_version=counts),
    st.builds(Heartbeat, host_id=ids, guests=st.none() | st.dictionaries(texts, texts, max_size=3)),
    st.builds(Fetch, host_id=ids, limit=counts, wait_seconds=seconds),
    st.builds(Commands, commands=st.lists(st.builds(Command, id=ids, name=texts, payload=payloads),
                                          max_size=3).map(tuple)),
    answer,
    st.builds(Answers, host_id=ids, answers=st.lists(answer, max_size=3).map(tuple)),
    st.builds(Accepted, ok=st.booleans()),
)


@PROPERTIES
@given(messages)
def test_every_well_formed_message_survives_the_trip_through_json(message):
    assert decode(encode(message)) == message


# --- anything else ----------------------------------------------------------------------------------

ODD_VALUES = st.one_of(
    json_values, st.sampled_from([2 ** 63, 2 ** 70, -1, 0, 1e308, -0.0, "\x00", "\ud800", "x", [], {}, True,
                                  float("nan"), float("inf"), "9" * 40, [[[[[]]]]]]).map(copy.deepcopy),
)


@st.composite
def mutated_documents(draw):
    """A well-formed message's JSON with a few fields replaced, dropped or added."""
    document = json.loads(encode(draw(messages)))
    for _ in range(draw(st.integers(1, 3))):
        target = document
        # Now and then edit a nested message (facts, an answer, a command) instead.
        nested = [value for value in target.values() if isinstance(value, dict)] + \
            [item for value in target.values() if isinstance(value, list) for item in value if isinstance(item, dict)]
        if nested and draw(st.booleans()):
            target = draw(st.sampled_from(nested))
        edit = draw(st.sampled_from(("replace", "drop", "add")))
        names = sorted(target) or ["host_id"]
        name = draw(st.sampled_from(names))
        if edit == "replace":
            target[name] = draw(ODD_VALUES)
        elif edit == "drop":
            target.pop(name, None)
        else:
            target[draw(texts)] = draw(ODD_VALUES)
    return document


def assert_well_typed(message) -> None:
    """Every field of a decoded message holds a value of its declared type, recursively."""
    hints = typing.get_type_hints(type(message), include_extras=True)
    for item in fields(message):
        assert_of_type(getattr(message, item.name), hints[item.name], f"{type(message).__name__}.{item.name}")


def assert_of_type(value, annotation, where: str) -> None:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is not None and type(None) in arguments:
        if value is None:
            return
        (annotation,) = (argument for argument in arguments if argument is not type(None))
        origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        annotation, most = arguments
        assert_of_type(value, annotation, where)
        assert (len(value) if isinstance(value, str) else value) <= most.limit, where
        return
    if annotation is typing.Any:
        return
    if annotation is int:
        assert type(value) is int and 0 <= value <= LARGEST_INTEGER, where
    elif annotation is float:
        assert type(value) is float and value == value and value >= 0 and value != float("inf"), where
    elif annotation in (str, bool):
        assert type(value) is annotation, where
        if annotation is str:
            assert "\x00" not in value
            value.encode()
    elif origin is tuple:
        assert type(value) is tuple, where
        for item in value:
            assert_of_type(item, arguments[0], where + "[]")
    elif origin is dict:
        assert type(value) is dict, where
        for key, item in value.items():
            assert_of_type(key, str, where + " key")
            assert_of_type(item, arguments[1], where + "[]")
    else:
        assert type(value) is annotation, where
        assert_well_typed(value)


@PROPERTIES
@given(mutated_documents())
def test_a_mutated_message_is_refused_naming_the_field_or_well_typed(document):
    try:
        message = decode(json.dumps(document))
    except ProtocolError as error:
        assert str(error)
        return
    assert_well_typed(message)


@PROPERTIES
@given(st.one_of(json_values.map(json.dumps), st.text(max_size=200), st.binary(max_size=200),
                 st.fixed_dictionaries({"type": st.sampled_from(sorted(protocol._TYPES))},
                                       optional={"host_id": ODD_VALUES, "answers": ODD_VALUES,
                                                 "facts": ODD_VALUES, "commands": ODD_VALUES}).map(json.dumps)))
def test_anything_else_is_a_protocol_error(text):
    try:
        message = decode(text)
    except ProtocolError as error:
        assert str(error)
        return
    assert_well_typed(message)


@pytest.mark.parametrize("text", ["[" * 100_000, '{"type": "Fetch", "host_id": ' + "[" * 100_000,
                                  '{"type": "Heartbeat", "host_id": ' + "9" * 5000 + "}", b"\xff\xfe{}",
                                  '{"type": []}', '{"type": {"a": 1}}', '{"type": null}', "[]", '"Fetch"'])
def test_text_no_parser_can_hold_is_a_protocol_error(text):
    with pytest.raises(ProtocolError):
        decode(text)


# --- commands and answers ---------------------------------------------------------------------------

GUEST = protocol.GuestDefinition("i-1-2", 2, 2048, "debian-12", hostname="web.example.org", user_data="#!/bin/sh",
                                 ssh_public_key="ssh-ed25519 AAAA me", nics=(("52:54:00:00:00:01", "net-1"),),
                                 disks=(("vol-1", "vdb"),), direct_boot=("/boot/vmlinuz", None, "console=ttyS0"))
NETWORK = protocol.GuestNetwork("net-1", 100, cidr="10.1.0.0/24", dhcp_server="10.1.0.2", gateway="10.1.0.1")
#: One of every command, its fields filled (defaults too, where a value shows more).
EVERY_COMMAND = (
    protocol.DeployGuest(GUEST, networks=(NETWORK, protocol.GuestNetwork("net-2")),
                         volumes=(protocol.VolumeAttachment("vol-1", "vdb"),),
                         addresses={"52:54:00:00:00:01": "10.1.0.5"},
                         root_disk=protocol.RootDisk("template-3", "nfs://s/e/t.qcow2", "sha256:ab", 10.0)),
    protocol.PowerGuest("i-1-2", "stop"),
    protocol.DestroyGuest("i-1-2", volumes=("vol-1",), macs=("52:54:00:00:00:01",), networks=("net-1",)),
    protocol.SnapshotGuest("i-1-2", "saved-image", template_id=7, destination="nfs://s/e/saved.qcow2"),
    protocol.CreateVolume("vol-1", 1.5),
    protocol.ResizeVolume("vol-1", 3),
    protocol.DeleteVolume("vol-1"),
    protocol.AttachVolume("i-1-2", "vol-1", "vdb"),
    protocol.DetachVolume("i-1-2", "vol-1"),
    protocol.PlugNic("i-1-2", NETWORK, "52:54:00:00:00:02", address="10.1.0.6"),
    protocol.UnplugNic("i-1-2", "52:54:00:00:00:02"),
    protocol.DownloadTemplate("https://images.example.org/t.qcow2", "sha256:ab", "nfs://s/e/t.qcow2", template="t"),
    protocol.RemoveSecondaryFile("nfs://s/e/t.qcow2"),
    protocol.SnapshotVolume("vol-1", "nfs://s/e/snapshots/4.qcow2"),
    protocol.RevertVolume(None, "nfs://s/e/snapshots/4.qcow2", "sha256:ab", root_of="i-1-2"),
    protocol.CreateVolume("vol-2", 2.0, source="nfs://s/e/snapshots/4.qcow2", checksum="sha256:ab"),
    protocol.ReceiveGuest(GUEST, networks=(NETWORK,)),
    protocol.MigrateGuest("i-1-2", "host-b", "10.0.0.12", live=True, copy_storage=True,
                          macs=("52:54:00:00:00:01",), networks=("net-1",)),
)
EVERY_ANSWER = (protocol.Done(), protocol.GuestState("running"), protocol.SnapshotSaved("sha256:ab", 2.0),
                protocol.SnapshotSaved(), protocol.TemplateDownloaded(0.25))


def test_the_examples_cover_every_command_and_answer():
    assert {type(command) for command in EVERY_COMMAND} == set(protocol.COMMAND_TYPES.values())
    assert {type(answer) for answer in EVERY_ANSWER} == set(protocol.ANSWER_TYPES)
    assert {cls.answer_type for cls in protocol.COMMAND_TYPES.values()} <= set(protocol.ANSWER_TYPES)


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda command: type(command).__name__)
def test_every_command_survives_the_trip_to_the_agent(command):
    name, payload = protocol.encode_command(command)
    assert name == command.wire_name
    # Through the database's JSON column and the Commands message, as it really travels.
    [delivered] = decode(encode(Commands((Command(1, name, json.loads(json.dumps(payload))),)))).commands
    assert protocol.decode_command(delivered.name, delivered.payload) == command


@pytest.mark.parametrize("answer", EVERY_ANSWER, ids=lambda answer: type(answer).__name__)
def test_every_answer_survives_the_trip_to_the_server(answer):
    command = next(cls for cls in protocol.COMMAND_TYPES.values() if cls.answer_type is type(answer))
    [sent] = decode(encode(Answers(1, (Answer(1, 2, True, protocol.encode_result(answer)),)))).answers
    assert protocol.decode_result(command, sent.result) == answer


def test_a_misspelt_field_fails_where_the_command_is_built_and_where_it_is_read():
    with pytest.raises(TypeError, match="size_gb"):
        protocol.CreateVolume(name="vol-1", size_gb=1.0)
    _, payload = protocol.encode_command(protocol.DeployGuest(GUEST))
    payload["guest"]["memory_mb"] = payload["guest"].pop("memory_mib")
    with pytest.raises(ProtocolError, match=r"DeployGuest.guest has no field 'memory_mb'; its fields are: name, "
                                            r"cores, memory_mib"):
        protocol.decode_command("deploy_guest", payload)
    with pytest.raises(ProtocolError, match="GuestState has no field 'sate'"):
        protocol.decode_result(protocol.PowerGuest, {"sate": "running"})


def test_a_field_of_the_wrong_type_fails_where_the_command_is_sent():
    with pytest.raises(ProtocolError, match=r"DownloadTemplate.checksum must be text"):
        protocol.encode_command(protocol.DownloadTemplate("http://x/t", None, "nfs://s/e/t"))
    with pytest.raises(ProtocolError, match=r"DeployGuest.guest.nics\[0\] must be an array of 2 items"):
        protocol.encode_command(protocol.DeployGuest(protocol.GuestDefinition("g", 1, 64, "i", nics=(("mac",),))))
    with pytest.raises(ProtocolError, match="is not an agent command"):
        protocol.encode_command(Fetch(1))


def test_an_unknown_command_is_refused_naming_the_known_ones():
    with pytest.raises(ProtocolError, match=r"no agent command is named 'reboot_host' in protocol "
                                            rf"{protocol.PROTOCOL_VERSION}; the commands are: deploy_guest, "):
        protocol.decode_command("reboot_host", {})


def test_another_protocol_version_is_refused_on_either_side():
    protocol.check_version(protocol.PROTOCOL_VERSION, "the server")
    with pytest.raises(protocol.VersionMismatch, match=rf"this side speaks agent protocol {protocol.PROTOCOL_VERSION}; "
                                                       r"the management server speaks 1: upgrade one of them"):
        protocol.check_version(1, "the management server")
    # The server states its version when it accepts an agent; an agent of another one stops there.
    from occistack.drivers.fake import FakeDrivers
    from occistack.hostagent.agent import Agent

    facts = HostFacts(1, 2, 3, 4)
    agent = Agent("h1", "t", facts, FakeDrivers(), lambda message: Registered(5, 10.0, 20.0, protocol_version=1))
    with pytest.raises(protocol.VersionMismatch, match=rf"this agent speaks agent protocol {protocol.PROTOCOL_VERSION}; "
                                                       r"the management server speaks 1"):
        agent.register()
    assert agent.host_id is None
