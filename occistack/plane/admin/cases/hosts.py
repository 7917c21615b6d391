"""Hosts as the faces ask for them: adding one to a cluster, what the administrator allows it
to do (enabled, disabled, maintenance), and the BMC HA fences it through."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from occistack.plane.admin import hosts
from occistack.plane.admin.cases.common import UNCHANGED, Unchanged, actor_of, admin_dispatcher, changes_of, sealer_of
from occistack.plane.admin.common import Ref
from occistack.plane.admin.lookup import find_host
from occistack.plane.admin.records.hosts import AddedHostRecord, HostRecord, host_record, host_records
from occistack.plane.context import PlaneContext


@dataclass(frozen=True)
class NewHost:
    cluster: Ref
    name: str
    #: the management address its agent connects from (an IP address or a resolvable name).
    address: str
    #: cores in all (every socket's), and the speed of one.
    cpu_cores: int
    cpu_mhz: int
    memory_mib: int
    cpu_sockets: int = 1
    #: None: the global settings hosts.cpu_overcommit and hosts.memory_overcommit (1 for a node
    #: of a BareMetal cluster).
    cpu_overcommit: float | None = None
    memory_overcommit: float | None = None
    #: host tags offerings can ask for: a list, or comma-separated text.
    tags: str | list[str] | None = None
    #: the cluster's pod and zone: needed when the cluster is named by name.
    pod: Ref | None = None
    zone: Ref | None = None


@dataclass(frozen=True)
class HostChanges:
    """What may change of a host (hosts.update_host says why the rest may not)."""

    #: host tags offerings can ask for: a list, or comma-separated text; None clears them.
    tags: str | list[str] | None | Unchanged = UNCHANGED
    cpu_overcommit: float | Unchanged = UNCHANGED
    memory_overcommit: float | Unchanged = UNCHANGED


@dataclass(frozen=True)
class HostFilter:
    zone: Ref | None = None
    pod: Ref | None = None
    cluster: Ref | None = None


@dataclass(frozen=True)
class HostBmc:
    """A host's BMC (IPMI over LAN); the password is kept sealed with the site's key."""

    address: str
    username: str
    password: str
    port: int = 623


class HostAction(StrEnum):
    ENABLE = "enable"
    #: placement puts nothing new on a disabled host; what runs there keeps running.
    DISABLE = "disable"
    #: into maintenance at once when no virtual machine is on the host, else once every one has
    #: been migrated away (given again, it retries those still there).
    MAINTENANCE = "maintenance"
    CANCEL_MAINTENANCE = "cancel-maintenance"
    #: forget the BMC: HA can then no longer fence the host, nor restart its VMs elsewhere.
    CLEAR_BMC = "clear-bmc"


_ACTIONS = {
    HostAction.ENABLE: hosts.enable_host,
    HostAction.DISABLE: hosts.disable_host,
    HostAction.MAINTENANCE: hosts.prepare_host_maintenance,
    HostAction.CANCEL_MAINTENANCE: hosts.cancel_host_maintenance,
    HostAction.CLEAR_BMC: hosts.clear_host_bmc,
}


def add_host(ctx: PlaneContext, new: NewHost) -> AddedHostRecord:
    """The host with the token its agent authenticates with (shown this once; a bare-metal node
    runs no agent and gets none)."""
    added = hosts.add_host(ctx.session, cluster=new.cluster, name=new.name, address=new.address,
                           cpu_cores=new.cpu_cores, cpu_mhz=new.cpu_mhz, memory_mib=new.memory_mib,
                           cpu_sockets=new.cpu_sockets, cpu_overcommit=new.cpu_overcommit,
                           memory_overcommit=new.memory_overcommit, tags=new.tags, pod=new.pod, zone=new.zone,
                           actor=actor_of(ctx), default_overcommit=(
                               ctx.services.tunables.value(ctx.session, "hosts.cpu_overcommit"),
                               ctx.services.tunables.value(ctx.session, "hosts.memory_overcommit")))
    return AddedHostRecord(host_record(ctx.session, added.host), added.agent_token)


def list_hosts(ctx: PlaneContext, where: HostFilter = HostFilter()) -> list[HostRecord]:
    return host_records(ctx.session, hosts.list_hosts(ctx.session, zone=where.zone, pod=where.pod,
                                                      cluster=where.cluster))


def show_host(ctx: PlaneContext, host: Ref) -> HostRecord:
    return host_record(ctx.session, find_host(ctx.session, host))


def update_host(ctx: PlaneContext, host: Ref, changes: HostChanges) -> HostRecord:
    return host_record(ctx.session, hosts.update_host(ctx.session, host, **changes_of("host", changes),
                                                      actor=actor_of(ctx)))


def act_on_host(ctx: PlaneContext, host: Ref, action: HostAction) -> HostRecord:
    if HostAction(action) == HostAction.MAINTENANCE:
        # Its guests are migrated away: jobs of the cloud's, charged to no project.
        return host_record(ctx.session, hosts.prepare_host_maintenance(
            ctx.session, host, actor=actor_of(ctx), placement=ctx.placement, dispatcher=admin_dispatcher(ctx)))
    return host_record(ctx.session, _ACTIONS[HostAction(action)](ctx.session, host, actor=actor_of(ctx)))


def set_host_bmc(ctx: PlaneContext, host: Ref, bmc: HostBmc) -> HostRecord:
    """Record the host's BMC. A bare-metal node is switched on and off through it: a job then
    checks that the BMC answers, and the node is Up once it has."""
    return host_record(ctx.session, hosts.set_host_bmc(
        ctx.session, host, address=bmc.address, username=bmc.username, password=bmc.password, port=bmc.port,
        sealer=sealer_of(ctx), dispatcher=admin_dispatcher(ctx), actor=actor_of(ctx)))


def remove_host(ctx: PlaneContext, host: Ref) -> None:
    hosts.remove_host(ctx.session, host, actor=actor_of(ctx))
