"""Hosts: adding them to a cluster, and what the administrator allows them to do (enabled,
disabled, maintenance). Their connection health (``status``) is the agents' business and their
reserved capacity placement's; neither is touched here.

The resource state changes only through ``RESOURCE_STATE_TRANSITIONS``. Each change first locks
the host's row (``SELECT … FOR NO KEY UPDATE``, model/contention.py's ``ROW_LOCK``, which does
not wait for creates that inserted a VM on the host) and re-reads it, so two administrators, or an
administrator and the code that completes a maintenance, cannot both move one host; the change
itself is the conditional UPDATE every state moves by (plane/transitions.py), which also moves
the inventory generation, so placement's topology snapshot is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import BARE_METAL, Cluster, Host
from occistack.model.contention import ROW_LOCK
from occistack.model.states import HostEvent, ResourceState, VmState
from occistack.plane.dispatch import NODE_ENTITY, Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest, PlaneError
from occistack.plane.host_states import RESOURCE_STATE_WORDS, move_resource_state, virtual_machines_on
from occistack.plane.agents.gateway import new_agent_token
from occistack.plane.sealing import Sealer
from occistack.plane.admin.addresses import host_address, resolvable_host_address
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_name,
    check_number,
    check_text,
    check_whole,
    normalise_tags,
    record_change,
    refuse_duplicate,
    refuse_if_used,
)
from occistack.plane.admin.lookup import find_cluster, find_host, find_pod, find_zone
from occistack.plane.admin.migration import guests_on, migrate_vm
from occistack.plane.placement.service import PlacementService

@dataclass(frozen=True, slots=True)
class AddedHost:
    host: Host
    #: the secret the host's agent authenticates with; only its hash is kept, so this is the
    #: one time anyone sees it. None for a bare-metal node, which runs no agent.
    agent_token: str | None


def add_host(session: Session, *, cluster: Ref, name: str, address: str, cpu_cores: int, cpu_mhz: int,
             memory_mib: int, cpu_sockets: int = 1, cpu_overcommit: float | None = None,
             memory_overcommit: float | None = None, tags: str | list[str] | None = None, pod: Ref | None = None,
             zone: Ref | None = None, actor: Actor = SYSTEM,
             default_overcommit: tuple[float, float] = (1.0, 1.0)) -> AddedHost:
    """A host of a KVM cluster, whose agent registers with the token returned; or a node of a
    BareMetal cluster, which runs no agent: it becomes Up once its BMC has answered (see
    :func:`set_host_bmc`), and is never shared, so it takes no overcommit. An overcommit factor
    not given is ``default_overcommit``'s (CPU, memory) for a KVM host, 1 for a node."""
    the_cluster = find_cluster(session, cluster, pod=pod, zone=zone)
    check_name("host", name, longest=128)
    bare_metal = the_cluster.hypervisor == BARE_METAL
    if bare_metal:
        _refuse_bare_metal_overcommit(the_cluster.name, 1 if cpu_overcommit is None else cpu_overcommit,
                                      1 if memory_overcommit is None else memory_overcommit)
        cpu_overcommit = memory_overcommit = 1.0
    else:
        cpu_overcommit = default_overcommit[0] if cpu_overcommit is None else cpu_overcommit
        memory_overcommit = default_overcommit[1] if memory_overcommit is None else memory_overcommit
    refuse_duplicate(session, Host, "a host", [Host.name == name], f"named {name!r}")
    address = resolvable_host_address("the host address", address)
    holder = session.scalar(select(Host.name).where(Host.address == address).limit(1))
    if holder is not None:
        raise Conflict(f"host {holder!r} already has the address {address}; each host has an address of its own")
    host = Host(
        name=name, zone_id=the_cluster.zone_id, pod_id=the_cluster.pod_id, cluster_id=the_cluster.id,
        address=address, hypervisor=the_cluster.hypervisor,
        cpu_sockets=check_whole("the number of CPU sockets", cpu_sockets, 1),
        cpu_cores=check_whole("the number of CPU cores", cpu_cores, 1),
        cpu_mhz=check_whole("the CPU speed in MHz", cpu_mhz, 1),
        memory_mib=check_whole("the memory in MiB", memory_mib, 1),
        cpu_overcommit=_cpu_overcommit(cpu_overcommit), memory_overcommit=_memory_overcommit(memory_overcommit),
        tags=normalise_tags("host tags", tags),
    )
    token = None if bare_metal else new_agent_token(host)
    session.add(host)
    session.flush()
    record_change(session, actor, "host.add", "host", host.id,
                  f"{the_cluster.hypervisor} host {name!r} ({host.address}) in cluster {the_cluster.name!r}")
    return AddedHost(host, token)


def _refuse_bare_metal_overcommit(cluster_name: str, cpu_overcommit: float, memory_overcommit: float) -> None:
    if cpu_overcommit != 1 or memory_overcommit != 1:
        raise InvalidRequest(f"cluster {cluster_name!r} is a BareMetal cluster: its nodes are each given whole "
                             "to one compute, so their overcommit factors stay 1")


def _cpu_overcommit(factor: object) -> float:
    return check_number("the CPU overcommit factor", factor, minimum=1)


def _memory_overcommit(factor: object) -> float:
    return check_number("the memory overcommit factor", factor, minimum=1)


def update_host(session: Session, host: Ref, *, tags=UNCHANGED, cpu_overcommit=UNCHANGED,
                memory_overcommit=UNCHANGED, actor: Actor = SYSTEM) -> Host:
    """Change what placement reads of a host: its tags (None or empty: none) and its overcommit
    factors (a BareMetal node's stay 1). What runs there stays where it is, even when a lower
    factor leaves less room than it uses; the change moves the inventory generation, so every
    process's placement snapshot is rebuilt. The rest stays as added: the name is what the
    host's agent authenticates with, the address the machine that agent was installed on, the
    cluster (and so the pod, zone and hypervisor) what its guests and storage were set up for,
    and the CPUs and memory are what the agent reports at each connection (CloudStack's
    updateHost likewise changes tags and allocation, not identity)."""
    found = _locked(session, host)
    changed = {}
    if tags is not UNCHANGED:
        changed["tags"] = normalise_tags("host tags", tags)
    if cpu_overcommit is not UNCHANGED:
        changed["cpu_overcommit"] = _cpu_overcommit(cpu_overcommit)
    if memory_overcommit is not UNCHANGED:
        changed["memory_overcommit"] = _memory_overcommit(memory_overcommit)
    if found.hypervisor == BARE_METAL:
        _refuse_bare_metal_overcommit(session.get(Cluster, found.cluster_id).name,
                                      changed.get("cpu_overcommit", 1), changed.get("memory_overcommit", 1))
    apply_changes(session, found, "host", changed, actor)
    return found


def list_hosts(session: Session, *, zone: Ref | None = None, pod: Ref | None = None,
               cluster: Ref | None = None) -> list[Host]:
    query = select(Host).order_by(Host.zone_id, Host.pod_id, Host.cluster_id, Host.name)
    if cluster is not None:
        query = query.where(Host.cluster_id == find_cluster(session, cluster, pod=pod, zone=zone).id)
    elif pod is not None:
        query = query.where(Host.pod_id == find_pod(session, pod, zone=zone).id)
    elif zone is not None:
        query = query.where(Host.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


# --- the resource state ---------------------------------------------------------------------------

def enable_host(session: Session, host: Ref, *, actor: Actor = SYSTEM) -> Host:
    locked = _locked(session, host)
    if locked.resource_state == ResourceState.ENABLED:
        return locked
    return _move(session, locked, HostEvent.ENABLE, "host.enable", actor)


def disable_host(session: Session, host: Ref, *, actor: Actor = SYSTEM) -> Host:
    """Placement puts nothing new on a disabled host; what runs there keeps running."""
    locked = _locked(session, host)
    if locked.resource_state == ResourceState.DISABLED:
        return locked
    return _move(session, locked, HostEvent.DISABLE, "host.disable", actor)


def prepare_host_maintenance(session: Session, host: Ref, *, actor: Actor = SYSTEM,
                             placement: PlacementService | None = None,
                             dispatcher: Dispatcher | None = None) -> Host:
    """Into maintenance: at once when no virtual machine is on the host; otherwise the host
    waits in prepare_for_maintenance (placement avoids it) while every guest that can move is
    migrated away -- live when it runs, cold when it is stopped -- and the job that moves the
    last one completes the maintenance. Given again while the host prepares, it tries once more
    the guests still there (after a migration failed, or room was made elsewhere). Without a
    placement and a dispatcher (a caller that cannot start jobs) the guests are left to leave
    by themselves."""
    locked = _locked(session, host)
    if locked.resource_state != ResourceState.PREPARE_FOR_MAINTENANCE:
        _move(session, locked, HostEvent.PREPARE_MAINTENANCE, None, actor)
    remaining = virtual_machines_on(session, locked)
    if not remaining:
        return _move(session, locked, HostEvent.MAINTENANCE_READY, "host.maintenance", actor)
    moving, stuck = ([], []) if placement is None or dispatcher is None else \
        _evacuate(session, locked, placement, dispatcher, actor)
    told = (f"host {locked.name!r} prepares for maintenance: {remaining} virtual machine"
            f"{'' if remaining == 1 else 's'} still on it")
    if moving:
        told += f"; migrating {len(moving)} away"
    if stuck:
        told += f"; {len(stuck)} cannot move now: {'; '.join(stuck)}"
    record_change(session, actor, "host.maintenance", "host", locked.id, told, state="started")
    return locked


def _evacuate(session: Session, host: Host, placement: PlacementService, dispatcher: Dispatcher,
              actor: Actor) -> tuple[list[str], list[str]]:
    """Start a migration of every guest of ``host`` that is not moving already; the ids of
    those started, and why each other one could not be."""
    moving, stuck = [], []
    for vm in guests_on(session, host.id):
        if vm.state == VmState.MIGRATING:
            continue  # on its way already
        try:
            with session.begin_nested():  # a refusal must not undo the others' claims
                migrate_vm(session, vm, placement=placement, dispatcher=dispatcher, actor=actor.label,
                           reason=f"host {host.name!r} goes into maintenance")
            moving.append(vm.id)
        except PlaneError as refusal:
            stuck.append(f"compute {vm.title or vm.id}: {refusal}")
    return moving, stuck


def cancel_host_maintenance(session: Session, host: Ref, *, actor: Actor = SYSTEM) -> Host:
    return _move(session, _locked(session, host), HostEvent.CANCEL_MAINTENANCE, "host.cancel_maintenance", actor)


def _locked(session: Session, host: Ref) -> Host:
    found = find_host(session, host)
    return session.get(Host, found.id, with_for_update=ROW_LOCK, populate_existing=True)


def _move(session: Session, host: Host, event: HostEvent, action: str | None, actor: Actor) -> Host:
    target = move_resource_state(session, host, event)
    if action is not None:
        record_change(session, actor, action, "host", host.id,
                      f"host {host.name!r} is now {RESOURCE_STATE_WORDS[target]}")
    return host


def remove_host(session: Session, host: Ref, *, actor: Actor = SYSTEM) -> None:
    found = find_host(session, host)
    refuse_if_used(f"host {found.name!r}", {"virtual machine": virtual_machines_on(session, found)})
    session.delete(found)
    session.flush()
    record_change(session, actor, "host.remove", "host", found.id, f"host {found.name!r}")


def set_host_bmc(session: Session, host: Ref, *, address: str, username: str, password: str, sealer: Sealer,
                 port: int = 623, dispatcher: Dispatcher | None = None, actor: Actor = SYSTEM) -> Host:
    """Record the host's BMC (IPMI over LAN), the password sealed; HA fences the host through
    it when its agent stops answering. A bare-metal node is switched on and off through it, and
    has no agent: a job (submitted through ``dispatcher``, which a bare-metal node needs) reads
    its power state through the BMC, and the node is Up once the BMC has answered."""
    found = _locked(session, host)
    if found.hypervisor == BARE_METAL and dispatcher is None:
        raise ValueError("recording a bare-metal node's BMC needs a dispatcher for the job that checks it")
    found.bmc_address = host_address("the BMC address", address)
    found.bmc_port = check_whole("the BMC port", port, 1, 65535)
    found.bmc_username = check_text("the BMC user name", username, 64)
    found.bmc_password_sealed = sealer.seal(check_text("the BMC password", password, 255))
    session.flush()
    if found.hypervisor == BARE_METAL:
        record_change(session, actor, "host.bmc", "host", found.id,
                      f"bare-metal node {found.name!r} is switched through the BMC at {found.bmc_address}:"
                      f"{found.bmc_port}; checking that it answers")
        dispatcher.submit(session, Operation("check_bare_metal_node", NODE_ENTITY.format(found.id),
                                             {"host_id": found.id}))
        return found
    record_change(session, actor, "host.bmc", "host", found.id,
                  f"host {found.name!r} is fenced through the BMC at {found.bmc_address}:{found.bmc_port}")
    return found


def clear_host_bmc(session: Session, host: Ref, *, actor: Actor = SYSTEM) -> Host:
    """Forget the host's BMC: from now on HA cannot fence it, and so never restarts its VMs."""
    found = _locked(session, host)
    found.bmc_address = found.bmc_username = found.bmc_password_sealed = None
    session.flush()
    record_change(session, actor, "host.bmc", "host", found.id, f"host {found.name!r} has no BMC any more")
    return found
