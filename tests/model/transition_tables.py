"""Every transition table of occistack, with what its tests need to know about it beyond the
table itself: the states a row is created in, the states nothing leaves (and why), and the
states a row is in only while it is being taken down, which only a failure leaves.

A new stateful row gets a line here, and so the generic checks of test_transition_tables.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from occistack.model import states as s
from occistack.model import snapshots as snap
from occistack.model import template_states as t


@dataclass(frozen=True)
class TableSpec:
    name: str
    table: s.TransitionTable | s.PlainTable
    states: type[StrEnum]
    events: type[StrEnum]
    #: what the code creating such a row writes as its first state.
    initial: frozenset[StrEnum]
    #: states no event leaves: the row ends there (or is deleted there).
    terminal: frozenset[StrEnum] = frozenset()
    #: states a row is in while it is torn down: the teardown deletes it, or fails.
    teardown: frozenset[StrEnum] = frozenset()
    #: states of the enum that no move reaches, each with the reason it is kept.
    unreachable: dict[StrEnum, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


TABLES = (
    TableSpec("compute", s.VM_TRANSITIONS, s.VmState, s.Event, frozenset({s.VmState.STARTING}),
              teardown=frozenset({s.VmState.DESTROYING})),
    TableSpec("storage", s.VOLUME_TRANSITIONS, s.VolumeState, s.Event, frozenset({s.VolumeState.CREATING}),
              teardown=frozenset({s.VolumeState.DESTROYING})),
    TableSpec("network", s.NETWORK_TRANSITIONS, s.NetworkState, s.Event,
              # a public network is written active by the administrator who adds it
              frozenset({s.NetworkState.CREATING, s.NetworkState.ACTIVE}),
              teardown=frozenset({s.NetworkState.DESTROYING})),
    TableSpec("link", s.LINK_TRANSITIONS, s.LinkState, s.Event, frozenset({s.LinkState.ATTACHING}),
              teardown=frozenset({s.LinkState.DETACHING}),
              unreachable={s.LinkState.INACTIVE: "rendered as OCCI's 'inactive' link state; no move leads there "
                                                 "(a link has no down action), a detach leaves it"}),
    TableSpec("host status", s.HOST_STATUS_TRANSITIONS, s.HostStatus, s.HostEvent,
              frozenset({s.HostStatus.CONNECTING})),
    TableSpec("host resource state", s.RESOURCE_STATE_TRANSITIONS, s.ResourceState, s.HostEvent,
              frozenset({s.ResourceState.ENABLED})),
    TableSpec("primary storage pool", s.STORAGE_POOL_TRANSITIONS, s.StoragePoolState, s.StoragePoolEvent,
              frozenset({s.StoragePoolState.UP})),
    TableSpec("job", s.JOB_TRANSITIONS, s.JobState, s.JobEvent,
              # submit_waiting writes a job that has taken its first step already
              frozenset({s.JobState.HELD, s.JobState.QUEUED, s.JobState.WAITING}),
              terminal=frozenset({s.JobState.DONE, s.JobState.FAILED, s.JobState.CANCELLED})),
    TableSpec("agent command", s.COMMAND_TRANSITIONS, s.CommandState, s.CommandEvent,
              frozenset({s.CommandState.PENDING}),
              terminal=frozenset({s.CommandState.DONE, s.CommandState.FAILED})),
    TableSpec("template", t.TEMPLATE_TRANSITIONS, t.TemplateState, t.TemplateEvent,
              # registered (downloading), saved from a compute (pending), seeded by the demo (ready)
              frozenset({t.TemplateState.DOWNLOADING, t.TemplateState.PENDING, t.TemplateState.READY})),
    TableSpec("template copy", t.TEMPLATE_COPY_TRANSITIONS, t.TemplateCopyState, t.TemplateCopyEvent,
              frozenset({t.TemplateCopyState.PENDING, t.TemplateCopyState.READY}),
              terminal=frozenset({t.TemplateCopyState.READY})),
    TableSpec("snapshot", snap.SNAPSHOT_TRANSITIONS, snap.SnapshotState, snap.SnapshotEvent,
              frozenset({snap.SnapshotState.CREATING}),
              teardown=frozenset({snap.SnapshotState.DESTROYING})),
)


def sources(spec: TableSpec) -> set[StrEnum]:
    return {state for state, _ in spec.table.transitions}


def targets(spec: TableSpec) -> set[StrEnum]:
    return set(spec.table.transitions.values())


def leaving(spec: TableSpec, state: StrEnum) -> dict[StrEnum, StrEnum]:
    """The events that take ``state`` somewhere else, and where."""
    return {event: target for (source, event), target in spec.table.transitions.items()
            if source == state and target != state}


def reachable(spec: TableSpec) -> set[StrEnum]:
    found, frontier = set(spec.initial), list(spec.initial)
    while frontier:
        for target in leaving(spec, frontier.pop()).values():
            if target not in found:
                found.add(target)
                frontier.append(target)
    return found
