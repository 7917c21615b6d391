"""Lifecycle states, the transition tables that are the only way between them, and their OCCI
names.

As in CloudStack's StateMachine2, a state changes by an *event*; the table says which events are
legal in which state and where they lead, and the change is persisted with a conditional UPDATE
(``WHERE state = :expected``) so that two writers can never both move one resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Mapping, Protocol


class VmState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    REBOOTING = "rebooting"
    SUSPENDING = "suspending"
    SUSPENDED = "suspended"
    DESTROYING = "destroying"
    ERROR = "error"
    #: moving to another host (live, or cold for a stopped guest); see plane/tenant/migration.py.
    MIGRATING = "migrating"


class VolumeState(StrEnum):
    CREATING = "creating"
    ONLINE = "online"
    OFFLINE = "offline"
    DESTROYING = "destroying"
    ERROR = "error"


class NetworkState(StrEnum):
    CREATING = "creating"
    ACTIVE = "active"
    INACTIVE = "inactive"
    DESTROYING = "destroying"
    ERROR = "error"


class LinkState(StrEnum):
    """Shared by network interfaces and storage links."""

    ATTACHING = "attaching"
    ACTIVE = "active"
    INACTIVE = "inactive"
    DETACHING = "detaching"
    ERROR = "error"


class Event(StrEnum):
    DEPLOY = "deploy"
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    SUSPEND = "suspend"
    DESTROY = "destroy"
    CREATE = "create"
    ONLINE = "online"
    OFFLINE = "offline"
    UP = "up"
    DOWN = "down"
    ATTACH = "attach"
    DETACH = "detach"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # What a host's report shows happened without us (reconciliation): a guest powered off
    # from inside, started or paused by hand on the host, or gone altogether.
    FOUND_RUNNING = "found_running"
    FOUND_STOPPED = "found_stopped"
    FOUND_SUSPENDED = "found_suspended"
    FOUND_ABSENT = "found_absent"
    # Its host failed and was fenced: the guest is deployed again on another host.
    HA_RESTART = "ha_restart"
    # An administrator (or a host's maintenance) moves the guest to another host.
    MIGRATE = "migrate"
    #: a cold move of a stopped guest is over (done or not): it is stopped, wherever it is.
    MIGRATED_STOPPED = "migrated_stopped"


class IllegalTransition(Exception):
    """An event that the resource's current state does not allow."""

    def __init__(self, what: str, state: str, event: Event, allowed: list[str]):
        self.state = state
        self.event = event
        self.allowed = allowed
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(f"cannot {event.value} the {what} while it is {state}; possible now: {allowed_text}")


class StaleState(Exception):
    """The conditional UPDATE found another state than the one read: someone else moved first."""


class StateTable(Protocol):
    """What every transition table offers, whatever its states are rendered as: the one thing
    plane/transitions.py's conditional UPDATE needs to move a row."""

    what: str
    transitions: Mapping[tuple[StrEnum, StrEnum], StrEnum]

    def next_state(self, state: StrEnum, event: StrEnum) -> StrEnum: ...

    def allows(self, state: StrEnum, event: StrEnum) -> bool: ...


@dataclass(frozen=True)
class TransitionTable:
    """(state, event) → next state, plus each state's OCCI name."""

    what: str
    transitions: Mapping[tuple[StrEnum, Event], StrEnum]
    occi_names: Mapping[StrEnum, str]
    #: the "…ing" state an operation passes through, and the event that ends it well.
    user_events: tuple[Event, ...] = ()

    def next_state(self, state: StrEnum, event: Event) -> StrEnum:
        try:
            return self.transitions[(state, event)]
        except KeyError:
            raise IllegalTransition(self.what, self.occi_names.get(state, str(state)), event,
                                    [e.value for e in self.events_allowed(state)]) from None

    def allows(self, state: StrEnum, event: Event) -> bool:
        return (state, event) in self.transitions

    def events_allowed(self, state: StrEnum) -> list[Event]:
        return [event for event in self.user_events if (state, event) in self.transitions]

    def occi_state(self, state: StrEnum | str) -> str:
        return self.occi_names[state]  # type: ignore[index]


S, E = VmState, Event
VM_TRANSITIONS = TransitionTable(
    "compute",
    {
        (S.STARTING, E.SUCCEEDED): S.RUNNING,
        (S.STARTING, E.FAILED): S.ERROR,
        (S.STOPPED, E.START): S.STARTING,
        (S.SUSPENDED, E.START): S.STARTING,
        (S.ERROR, E.START): S.STARTING,
        (S.RUNNING, E.STOP): S.STOPPING,
        (S.STOPPING, E.SUCCEEDED): S.STOPPED,
        (S.STOPPING, E.FAILED): S.ERROR,
        (S.ERROR, E.STOP): S.STOPPING,
        (S.RUNNING, E.RESTART): S.REBOOTING,
        (S.REBOOTING, E.SUCCEEDED): S.RUNNING,
        (S.REBOOTING, E.FAILED): S.ERROR,
        (S.RUNNING, E.SUSPEND): S.SUSPENDING,
        (S.SUSPENDING, E.SUCCEEDED): S.SUSPENDED,
        (S.SUSPENDING, E.FAILED): S.ERROR,
        (S.RUNNING, E.DESTROY): S.DESTROYING,
        (S.STOPPED, E.DESTROY): S.DESTROYING,
        (S.SUSPENDED, E.DESTROY): S.DESTROYING,
        (S.ERROR, E.DESTROY): S.DESTROYING,
        # A delete is accepted in every state (issue 12): it waits for the step under way, and
        # a step that was cancelled before it ran leaves its "…ing" state behind it.
        (S.STARTING, E.DESTROY): S.DESTROYING,
        (S.STOPPING, E.DESTROY): S.DESTROYING,
        (S.REBOOTING, E.DESTROY): S.DESTROYING,
        (S.SUSPENDING, E.DESTROY): S.DESTROYING,
        (S.DESTROYING, E.FAILED): S.ERROR,
        (S.RUNNING, E.FOUND_STOPPED): S.STOPPED,
        (S.SUSPENDED, E.FOUND_STOPPED): S.STOPPED,
        (S.STOPPED, E.FOUND_RUNNING): S.RUNNING,
        (S.SUSPENDED, E.FOUND_RUNNING): S.RUNNING,
        (S.RUNNING, E.FOUND_SUSPENDED): S.SUSPENDED,
        (S.RUNNING, E.FOUND_ABSENT): S.ERROR,
        (S.STOPPED, E.FOUND_ABSENT): S.ERROR,
        (S.SUSPENDED, E.FOUND_ABSENT): S.ERROR,
        (S.RUNNING, E.HA_RESTART): S.STARTING,
        (S.SUSPENDED, E.HA_RESTART): S.STARTING,
        # A migration ends where it began: a running guest runs (on the target when it
        # succeeded, still on the source when it failed -- the job's message says which), a
        # stopped one stays stopped. A failed migration is no error of the guest's.
        (S.RUNNING, E.MIGRATE): S.MIGRATING,
        (S.STOPPED, E.MIGRATE): S.MIGRATING,
        (S.MIGRATING, E.SUCCEEDED): S.RUNNING,
        (S.MIGRATING, E.FAILED): S.RUNNING,
        (S.MIGRATING, E.MIGRATED_STOPPED): S.STOPPED,
        (S.MIGRATING, E.DESTROY): S.DESTROYING,
    },
    {
        S.STARTING: "inactive", S.RUNNING: "active", S.STOPPING: "active", S.STOPPED: "inactive",
        S.REBOOTING: "active", S.SUSPENDING: "active", S.SUSPENDED: "suspended",
        S.DESTROYING: "inactive", S.ERROR: "error", S.MIGRATING: "active",
    },
    user_events=(E.START, E.STOP, E.RESTART, E.SUSPEND),
)

V = VolumeState
VOLUME_TRANSITIONS = TransitionTable(
    "storage",
    {
        (V.CREATING, E.SUCCEEDED): V.ONLINE,
        (V.CREATING, E.FAILED): V.ERROR,
        (V.OFFLINE, E.ONLINE): V.ONLINE,
        (V.ERROR, E.ONLINE): V.ONLINE,
        (V.ONLINE, E.OFFLINE): V.OFFLINE,
        (V.ONLINE, E.DESTROY): V.DESTROYING,
        (V.OFFLINE, E.DESTROY): V.DESTROYING,
        (V.ERROR, E.DESTROY): V.DESTROYING,
        (V.CREATING, E.DESTROY): V.DESTROYING,
        (V.DESTROYING, E.FAILED): V.ERROR,
    },
    {V.CREATING: "offline", V.ONLINE: "online", V.OFFLINE: "offline", V.DESTROYING: "offline",
     V.ERROR: "error"},
    user_events=(E.ONLINE, E.OFFLINE),
)

N = NetworkState
NETWORK_TRANSITIONS = TransitionTable(
    "network",
    {
        (N.CREATING, E.SUCCEEDED): N.ACTIVE,
        (N.CREATING, E.FAILED): N.ERROR,
        (N.INACTIVE, E.UP): N.ACTIVE,
        (N.ERROR, E.UP): N.ACTIVE,
        (N.ACTIVE, E.DOWN): N.INACTIVE,
        (N.ACTIVE, E.DESTROY): N.DESTROYING,
        (N.INACTIVE, E.DESTROY): N.DESTROYING,
        (N.ERROR, E.DESTROY): N.DESTROYING,
        (N.CREATING, E.DESTROY): N.DESTROYING,
        (N.DESTROYING, E.FAILED): N.ERROR,
    },
    {N.CREATING: "inactive", N.ACTIVE: "active", N.INACTIVE: "inactive", N.DESTROYING: "inactive",
     N.ERROR: "error"},
    user_events=(E.UP, E.DOWN),
)

L = LinkState
LINK_TRANSITIONS = TransitionTable(
    "link",
    {
        (L.ATTACHING, E.SUCCEEDED): L.ACTIVE,
        (L.ATTACHING, E.FAILED): L.ERROR,
        (L.ACTIVE, E.DETACH): L.DETACHING,
        (L.INACTIVE, E.DETACH): L.DETACHING,
        (L.ERROR, E.DETACH): L.DETACHING,
        (L.ATTACHING, E.DETACH): L.DETACHING,
        (L.DETACHING, E.FAILED): L.ERROR,
    },
    {L.ATTACHING: "inactive", L.ACTIVE: "active", L.INACTIVE: "inactive", L.DETACHING: "inactive",
     L.ERROR: "error"},
)


# --- the infrastructure ----------------------------------------------------------------------

class HostStatus(StrEnum):
    """A host's connection health, from its agent (CloudStack's Status)."""

    CONNECTING = "connecting"
    UP = "up"
    DISCONNECTED = "disconnected"
    ALERT = "alert"
    DOWN = "down"


class ResourceState(StrEnum):
    """What the administrator allows a host to do (CloudStack's ResourceState)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    PREPARE_FOR_MAINTENANCE = "prepare_for_maintenance"
    MAINTENANCE = "maintenance"


class StoragePoolState(StrEnum):
    UP = "up"
    DISABLED = "disabled"
    MAINTENANCE = "maintenance"


class StoragePoolEvent(StrEnum):
    ENABLE = "enable"
    DISABLE = "disable"
    MAINTENANCE = "maintenance"
    CANCEL_MAINTENANCE = "cancel-maintenance"


class HostEvent(StrEnum):
    REGISTERED = "registered"
    HEARTBEAT = "heartbeat"
    HEARTBEATS_MISSED = "heartbeats_missed"
    FENCED = "fenced"
    DISABLE = "disable"
    ENABLE = "enable"
    PREPARE_MAINTENANCE = "prepare_maintenance"
    MAINTENANCE_READY = "maintenance_ready"
    CANCEL_MAINTENANCE = "cancel_maintenance"
    # A bare-metal node has no agent: its BMC answering a power-status read is its sign of life.
    BMC_ANSWERED = "bmc_answered"
    BMC_FAILED = "bmc_failed"


@dataclass(frozen=True)
class PlainTable:
    """(state, event) → next state, for states that have no OCCI rendering."""

    what: str
    transitions: Mapping[tuple[StrEnum, StrEnum], StrEnum]

    def next_state(self, state: StrEnum, event: StrEnum) -> StrEnum:
        try:
            return self.transitions[(state, event)]
        except KeyError:
            allowed = [e.value for e in self.events_allowed(state)]
            raise IllegalTransition(self.what, str(state), event, allowed) from None  # type: ignore[arg-type]

    def allows(self, state: StrEnum, event: StrEnum) -> bool:
        return (state, event) in self.transitions

    def events_allowed(self, state: StrEnum, *, moving_only: bool = False) -> list[StrEnum]:
        """The events legal in ``state``, in the table's order; with ``moving_only``, only those
        that lead to another state (an "enable" of what is enabled already is legal, and moves
        nothing)."""
        return [event for (source, event), target in self.transitions.items()
                if source == state and not (moving_only and target == state)]


H, HE = HostStatus, HostEvent
HOST_STATUS_TRANSITIONS = PlainTable("host", {
    (H.CONNECTING, HE.REGISTERED): H.UP,
    (H.UP, HE.REGISTERED): H.UP,
    (H.DISCONNECTED, HE.REGISTERED): H.UP,
    (H.ALERT, HE.REGISTERED): H.UP,
    (H.DOWN, HE.REGISTERED): H.UP,
    (H.UP, HE.HEARTBEAT): H.UP,
    (H.DISCONNECTED, HE.HEARTBEAT): H.UP,
    (H.ALERT, HE.HEARTBEAT): H.UP,
    # Missed heartbeats: first Disconnected, then Alert; Down only once fenced (issue 5's HA).
    (H.UP, HE.HEARTBEATS_MISSED): H.DISCONNECTED,
    (H.CONNECTING, HE.HEARTBEATS_MISSED): H.DISCONNECTED,
    (H.DISCONNECTED, HE.HEARTBEATS_MISSED): H.ALERT,
    (H.ALERT, HE.FENCED): H.DOWN,
    (H.DISCONNECTED, HE.FENCED): H.DOWN,
    # Bare-metal nodes: Up while their BMC answers, Disconnected when it stopped (or refused us).
    **{(status, HE.BMC_ANSWERED): H.UP for status in H},
    (H.UP, HE.BMC_FAILED): H.DISCONNECTED,
    (H.CONNECTING, HE.BMC_FAILED): H.CONNECTING,
    (H.DISCONNECTED, HE.BMC_FAILED): H.DISCONNECTED,
    (H.ALERT, HE.BMC_FAILED): H.ALERT,
    (H.DOWN, HE.BMC_FAILED): H.DOWN,
})

R = ResourceState
RESOURCE_STATE_TRANSITIONS = PlainTable("host", {
    (R.ENABLED, HE.DISABLE): R.DISABLED,
    (R.DISABLED, HE.ENABLE): R.ENABLED,
    (R.ENABLED, HE.PREPARE_MAINTENANCE): R.PREPARE_FOR_MAINTENANCE,
    (R.DISABLED, HE.PREPARE_MAINTENANCE): R.PREPARE_FOR_MAINTENANCE,
    (R.PREPARE_FOR_MAINTENANCE, HE.MAINTENANCE_READY): R.MAINTENANCE,
    (R.PREPARE_FOR_MAINTENANCE, HE.CANCEL_MAINTENANCE): R.ENABLED,
    (R.MAINTENANCE, HE.CANCEL_MAINTENANCE): R.ENABLED,
})


P, PE = StoragePoolState, StoragePoolEvent
#: An administrator's changes to a primary storage pool; each event's value is the change's name
#: in the admin API and the CLI. Enabling an enabled pool (disabling a disabled one, putting one
#: in maintenance twice) is legal and moves nothing. Placement uses only pools that are up; what
#: is already on a pool stays there whatever its state.
STORAGE_POOL_TRANSITIONS = PlainTable("primary storage pool", {
    (P.DISABLED, PE.ENABLE): P.UP,
    (P.UP, PE.ENABLE): P.UP,
    (P.UP, PE.DISABLE): P.DISABLED,
    (P.DISABLED, PE.DISABLE): P.DISABLED,
    (P.UP, PE.MAINTENANCE): P.MAINTENANCE,
    (P.DISABLED, PE.MAINTENANCE): P.MAINTENANCE,
    (P.MAINTENANCE, PE.MAINTENANCE): P.MAINTENANCE,
    (P.MAINTENANCE, PE.CANCEL_MAINTENANCE): P.UP,
})


# --- jobs ------------------------------------------------------------------------------------

class JobState(StrEnum):
    #: behind an unfinished job of the same resource; released when that one ends.
    HELD = "held"
    #: waiting for a worker (new, or its agents have answered and it goes on).
    QUEUED = "queued"
    #: a worker holds it (only inside that worker's transaction, on PostgreSQL).
    RUNNING = "running"
    #: its commands are with the host agents; their answers requeue it.
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    #: superseded before it started: its resource was deleted meanwhile.
    CANCELLED = "cancelled"


class JobEvent(StrEnum):
    RELEASE = "release"
    CLAIM = "claim"
    WAIT = "wait"
    ANSWERED = "answered"
    RETRY = "retry"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"


J, JE = JobState, JobEvent
JOB_TRANSITIONS = PlainTable("job", {
    (J.HELD, JE.RELEASE): J.QUEUED,
    (J.QUEUED, JE.CLAIM): J.RUNNING,
    (J.RUNNING, JE.WAIT): J.WAITING,
    (J.RUNNING, JE.RETRY): J.QUEUED,
    (J.RUNNING, JE.COMPLETE): J.DONE,
    (J.RUNNING, JE.FAIL): J.FAILED,
    (J.WAITING, JE.ANSWERED): J.QUEUED,
    # A job whose agent never answers is failed by the sweeper.
    (J.WAITING, JE.FAIL): J.FAILED,
    # A delete supersedes what its resource had not started yet.
    (J.HELD, JE.CANCEL): J.CANCELLED,
    (J.QUEUED, JE.CANCEL): J.CANCELLED,
    # ... and a first step whose commands no host has fetched yet (a create deleted at once).
    (J.WAITING, JE.CANCEL): J.CANCELLED,
})


class CommandState(StrEnum):
    """A command for a host agent, one of a job step's."""

    PENDING = "pending"
    #: fetched by its host's agent; fetched again if its answer is overdue.
    DELIVERED = "delivered"
    DONE = "done"
    #: the agent answered a failure, no answer came in time, or a delete took it back.
    FAILED = "failed"


class CommandEvent(StrEnum):
    DELIVER = "deliver"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    WITHDRAWN = "withdrawn"


C, CE = CommandState, CommandEvent
#: The gateway moves commands in sets, by statements built from this table (a fetch delivers
#: several, an answer moves the command it names; plane/transitions.py's set_move); an answered
#: command never changes again, so a late answer changes nothing.
COMMAND_TRANSITIONS = PlainTable("agent command", {
    (C.PENDING, CE.DELIVER): C.DELIVERED,
    (C.DELIVERED, CE.DELIVER): C.DELIVERED,
    (C.PENDING, CE.SUCCEEDED): C.DONE,
    (C.DELIVERED, CE.SUCCEEDED): C.DONE,
    (C.PENDING, CE.FAILED): C.FAILED,
    (C.DELIVERED, CE.FAILED): C.FAILED,
    (C.PENDING, CE.TIMED_OUT): C.FAILED,
    (C.DELIVERED, CE.TIMED_OUT): C.FAILED,
    # Only while no agent has it: one already fetched runs its course.
    (C.PENDING, CE.WITHDRAWN): C.FAILED,
})
