"""Placement against the database: the topology snapshot of this process, and claims.

Each process keeps one :class:`~.topology.Topology` snapshot, rebuilt when the inventory
generation moves (an administrator changed zones, pods, clusters, hosts or pools; checked at
most every ``revalidate_seconds``). A request plans on it in memory -- no request reads the
host table -- and then claims the chosen host with one conditional UPDATE
(:mod:`.capacity`). The database is the authority: a claim that fails (another process took
the room, the host went down) re-reads that one host into the snapshot and plans again; only
when the snapshot says nothing fits is it rebuilt once before the user is told, so room given
back by other processes is found. The snapshot follows this process's own claims and
releases, and forgets a claim whose transaction rolled back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from occistack.model import (
    BARE_METAL,
    AffinityGroup,
    Cluster,
    Host,
    InventoryGeneration,
    Pod,
    ServiceOffering,
    StoragePool,
    VirtualMachine,
    Volume,
    Zone,
)
from occistack.model.contention import ROW_LOCK
from occistack.model.session import INVENTORY_CHANGED
from occistack.model.states import HostStatus, ResourceState, StoragePoolState
from occistack.plane.placement import capacity
from occistack.plane.placement.planner import NoCapacity, Placement, plan
from occistack.plane.placement.requests import AvoidSet, PlacementRequest
from occistack.plane.tunables import Tunables
from occistack.plane.placement.topology import ClusterSnapshot, HostSnapshot, PodSnapshot, PoolSnapshot, Topology, ZoneSnapshot

#: MHz a virtual core is counted at when its offering names no speed.
DEFAULT_CORE_MHZ = 1000
_CLAIM_ATTEMPTS = 6
_PENDING = "occistack.placement_pending"


class PlacementService:
    def __init__(self, revalidate_seconds: float = 5.0, strategy: str = "first_fit",
                 capacity_threshold: float = 0.85, clock: Callable[[], float] = time.monotonic,
                 tunables: Tunables | None = None):
        self.revalidate_seconds = revalidate_seconds
        self.strategy = strategy
        #: the threshold when no ``tunables`` are given; with them, the global setting
        #: ``placement.capacity_threshold`` (changed at run time) decides.
        self.capacity_threshold = capacity_threshold
        self.tunables = tunables
        self._clock = clock
        self._lock = threading.RLock()
        self._topology: Topology | None = None
        self._generation: int | None = None
        self._checked_at = float("-inf")

    def attach(self, session_factory: sessionmaker) -> None:
        """Forget, in the snapshot, what a rolled-back transaction of this factory claimed."""

        @event.listens_for(session_factory, "after_rollback")
        def _undo(session):
            if session.in_nested_transaction():
                return  # a savepoint ended, not the transaction
            for kind, key, *amounts in session.info.pop(_PENDING, ()):
                self._forget(kind, key, *amounts)

        @event.listens_for(session_factory, "after_commit")
        def _keep(session):
            if session.in_nested_transaction():
                return  # a savepoint ended, not the transaction
            session.info.pop(_PENDING, None)
            if session.info.pop(INVENTORY_CHANGED, False):
                # This process changed the inventory (a host disabled, a cluster added): see it
                # at the next placement, not after revalidate_seconds.
                self.invalidate()

    # --- the snapshot ------------------------------------------------------------------------

    def topology(self, session: Session, force: bool = False) -> Topology:
        with self._lock:
            now = self._clock()
            if not force and self._topology is not None and now - self._checked_at < self.revalidate_seconds:
                return self._topology
            generation = session.scalar(select(InventoryGeneration.generation).where(InventoryGeneration.id == 1))
            if force or self._topology is None or generation != self._generation:
                self._topology = build_topology(session)
                self._generation = generation
            self._checked_at = now
            return self._topology

    def threshold(self, session: Session) -> float:
        """The capacity threshold in force now (a global setting may have changed it)."""
        if self.tunables is None:
            return self.capacity_threshold
        return float(self.tunables.value(session, "placement.capacity_threshold"))

    def invalidate(self) -> None:
        with self._lock:
            self._checked_at = float("-inf")
            self._generation = None

    # --- virtual machines --------------------------------------------------------------------

    def place_vm(self, session: Session, vm: VirtualMachine, *, zone_id: int | None, disk_gib: float,
                 avoid: AvoidSet = AvoidSet()) -> Placement:
        """Choose and claim a host (and a pool for the root disk) for ``vm`` and record the
        reservation on it; NoCapacity says why nothing fits. The host and storage tags come
        from the VM's service offering, the affinity rules from its affinity group."""
        return self.claim_vm(session, vm, self.plan_vm(session, vm, zone_id=zone_id, disk_gib=disk_gib, avoid=avoid))

    def plan_vm(self, session: Session, vm: VirtualMachine, *, zone_id: int | None, disk_gib: float,
                avoid: AvoidSet = AvoidSet()) -> PlannedVm:
        """Choose a host and pool for ``vm`` on the snapshot and write them on it, claiming
        nothing yet: :meth:`claim_vm` claims them, as late in the transaction as it can be.

        Why late: a claim's conditional UPDATE holds the host's and the pool's row locks until
        the transaction ends, and every create of a cluster claims the same pool. Claimed at
        the start of a create, the lock would be held through everything the create writes
        after it, and concurrent creates would queue for it one whole transaction at a time;
        claimed at the end, they queue only for the commit."""
        offering = session.get(ServiceOffering, vm.offering_id) if vm.offering_id is not None else None
        request = PlacementRequest(
            cpu_mhz=vm_cpu_mhz(vm), memory_mib=vm_memory_mib(vm), disk_gib=disk_gib, zone_id=zone_id,
            host_tags=_tags(offering.host_tags if offering else ""),
            storage_tags=_tags(offering.storage_tags if offering else ""), strategy=self.strategy,
            **_affinity(session, vm))
        planned = PlannedVm(request, avoid, self._plan(session, request, avoid))
        _reserve_on(vm, request, planned.placement)
        return planned

    def claim_vm(self, session: Session, vm: VirtualMachine, planned: PlannedVm) -> Placement:
        """Claim in the database what :meth:`plan_vm` chose; when that host or pool has no
        room any more (another process took it), plan again and claim another. The VM's
        placement columns say where it went."""
        placement = self._claim(session, planned.request, planned.avoid, first=planned.placement)
        if placement != planned.placement:
            _reserve_on(vm, planned.request, placement)
        return placement

    def place_whole_host(self, session: Session, vm: VirtualMachine, *, zone_id: int | None,
                         host_tags: frozenset[str] = frozenset()) -> Placement:
        """Choose and claim a whole bare-metal node for ``vm``: Up, enabled, with a BMC, held by
        nothing, and at least as big as the VM asks. Its whole CPU and memory are reserved on
        the VM (so that :meth:`release_vm` gives exactly them back); NoCapacity says why none."""
        request = PlacementRequest(
            cpu_mhz=vm_cpu_mhz(vm), memory_mib=vm_memory_mib(vm), zone_id=zone_id, host_tags=host_tags,
            hypervisor=BARE_METAL, whole_host=True, strategy=self.strategy)
        for _ in range(_CLAIM_ATTEMPTS):
            placement = self._plan(session, request, AvoidSet())
            usage = capacity.claim_whole_host(session, placement.host_id)
            if usage is None:
                self._refresh_host(session, placement.host_id)
                continue
            self._set_host_usage(placement.host_id, usage.cpu_used_mhz, usage.memory_used_mib)
            self._note(session, "host-claim", placement.host_id, usage.cpu_used_mhz, usage.memory_used_mib)
            vm.host_id, vm.storage_pool_id, vm.zone_id = placement.host_id, None, placement.zone_id
            vm.reserved_cpu_mhz, vm.reserved_memory_mib, vm.root_disk_gib = (
                usage.cpu_used_mhz, usage.memory_used_mib, 0.0)
            return placement
        raise NoCapacity("bare-metal nodes kept being taken under concurrent requests; try again")

    def move_vm(self, session: Session, vm: VirtualMachine, avoid_hosts: set[int]) -> Placement:
        """Release ``vm``'s host and pool and place it again on a host not in ``avoid_hosts``
        (a retry after a deploy failed there)."""
        disk, zone_id = vm.root_disk_gib, vm.zone_id
        self.release_vm(session, vm)
        return self.place_vm(session, vm, zone_id=zone_id, disk_gib=disk,
                             avoid=AvoidSet(hosts=frozenset(avoid_hosts)))

    def claim_migration(self, session: Session, vm: VirtualMachine, target_host_id: int | None = None,
                        target_name: str | None = None) -> Placement:
        """Choose a host for ``vm`` to move to -- ``target_host_id`` when given -- and claim its
        CPU and memory there; the VM keeps its reservation on its host until the move is done
        (:meth:`finish_migration`) or given up (:meth:`abandon_migration`). The same rules as a
        placement: a schedulable host of the VM's hypervisor with room, its offering's host
        tags, its affinity group's rules; and one that reaches the pool its root disk is in,
        which stays where it is. NoCapacity says why no host (or why not the one asked for)."""
        offering = session.get(ServiceOffering, vm.offering_id) if vm.offering_id is not None else None
        request = PlacementRequest(
            cpu_mhz=vm.reserved_cpu_mhz or vm_cpu_mhz(vm), memory_mib=vm.reserved_memory_mib or vm_memory_mib(vm),
            zone_id=vm.zone_id, host_tags=_tags(offering.host_tags if offering else ""), strategy=self.strategy,
            pool_id=vm.storage_pool_id, **_affinity(session, vm))
        avoid = AvoidSet(hosts=frozenset({vm.host_id} if vm.host_id is not None else ()))
        if target_host_id is not None:
            with self._lock:
                others = frozenset(self.topology(session).hosts) - {target_host_id}
            avoid = AvoidSet(hosts=others | avoid.hosts)
        try:
            return self._claim(session, request, avoid)
        except NoCapacity as refusal:
            if target_host_id is None:
                raise
            raise NoCapacity(f"host {target_name or target_host_id} cannot take it: {_why_not(refusal)}",
                             refusal.causes) from None

    def finish_migration(self, session: Session, vm: VirtualMachine, target_host_id: int) -> None:
        """The VM has moved: its source host gives back what it held, the target keeps what
        :meth:`claim_migration` claimed there."""
        capacity.release_host(session, vm.host_id, vm.reserved_cpu_mhz, vm.reserved_memory_mib)
        self._note(session, "host-release", vm.host_id, vm.reserved_cpu_mhz, vm.reserved_memory_mib)
        vm.host_id = target_host_id
        host = session.get(Host, target_host_id)
        if host is not None:
            vm.zone_id = host.zone_id

    def abandon_migration(self, session: Session, vm: VirtualMachine, target_host_id: int) -> None:
        """The VM did not move: the target gives back what :meth:`claim_migration` claimed."""
        capacity.release_host(session, target_host_id, vm.reserved_cpu_mhz, vm.reserved_memory_mib)
        self._note(session, "host-release", target_host_id, vm.reserved_cpu_mhz, vm.reserved_memory_mib)

    def resize_vm(self, session: Session, vm: VirtualMachine, cores: int, memory_gib: float) -> None:
        """Re-reserve a (stopped) VM's host for a new size: the difference is claimed or given
        back in one conditional UPDATE."""
        if vm.host_id is None:
            return
        per_core = vm_cpu_mhz(vm) // vm.cores if vm.cores else DEFAULT_CORE_MHZ
        cpu, memory = cores * per_core, int(round(memory_gib * 1024))
        delta_cpu, delta_memory = cpu - vm.reserved_cpu_mhz, memory - vm.reserved_memory_mib
        usage = capacity.claim_host(session, vm.host_id, delta_cpu, delta_memory)
        if usage is None:
            raise NoCapacity(f"its host has no room for {cores} cores and {memory_gib:g} GiB (or is not up); "
                             "choose a smaller size, or delete it and create a new compute")
        self._set_host_usage(vm.host_id, usage.cpu_used_mhz, usage.memory_used_mib)
        self._note(session, "host-claim", vm.host_id, delta_cpu, delta_memory)
        vm.reserved_cpu_mhz, vm.reserved_memory_mib = cpu, memory

    def release_vm(self, session: Session, vm: VirtualMachine) -> None:
        """Give back everything ``vm`` reserved; its placement columns are cleared."""
        capacity.release_host(session, vm.host_id, vm.reserved_cpu_mhz, vm.reserved_memory_mib)
        capacity.release_pool(session, vm.storage_pool_id, vm.root_disk_gib)
        self._note(session, "host-release", vm.host_id, vm.reserved_cpu_mhz, vm.reserved_memory_mib)
        self._note(session, "pool-release", vm.storage_pool_id, vm.root_disk_gib)
        vm.host_id, vm.storage_pool_id = None, None
        vm.reserved_cpu_mhz, vm.reserved_memory_mib, vm.root_disk_gib = 0, 0, 0.0

    # --- volumes -----------------------------------------------------------------------------

    def place_volume(self, session: Session, volume: Volume, zone_id: int | None,
                     storage_tags: frozenset[str] = frozenset()) -> int:
        """Choose and claim a primary storage pool for a new volume; its id."""
        threshold = self.threshold(session)
        for _ in range(_CLAIM_ATTEMPTS):
            with self._lock:
                topology = self.topology(session)
                pool = self._choose_pool(topology, volume.size_gib, zone_id, storage_tags, threshold)
            if pool is None:
                with self._lock:
                    topology = self.topology(session, force=True)
                    pool = self._choose_pool(topology, volume.size_gib, zone_id, storage_tags, threshold)
                if pool is None:
                    raise NoCapacity(f"no primary storage {'in this zone ' if zone_id else ''}has "
                                     f"{volume.size_gib:g} GiB free (below the "
                                     f"{threshold:.0%} threshold){_tags_text(storage_tags)}")
            used = capacity.claim_pool(session, pool.id, volume.size_gib)
            if used is None:
                self._refresh_pool(session, pool.id)
                continue
            self._set_pool_usage(pool.id, used)
            self._note(session, "pool-claim", pool.id, volume.size_gib)
            volume.storage_pool_id = pool.id
            volume.zone_id = pool.zone_id
            return pool.id
        raise NoCapacity("primary storage kept filling up under concurrent requests; try again")

    def grow_volume(self, session: Session, volume: Volume, new_size: float) -> None:
        """Claim the extra GiB of a resize on the volume's pool."""
        extra = new_size - volume.size_gib
        if extra <= 0 or volume.storage_pool_id is None:
            return
        used = capacity.claim_pool(session, volume.storage_pool_id, extra)
        if used is None:
            raise NoCapacity(f"its primary storage has no {extra:g} GiB free to grow it to {new_size:g} GiB")
        self._set_pool_usage(volume.storage_pool_id, used)
        self._note(session, "pool-claim", volume.storage_pool_id, extra)

    def release_storage(self, session: Session, pool_id: int | None, gib: float) -> None:
        capacity.release_pool(session, pool_id, gib)
        self._note(session, "pool-release", pool_id, gib)

    # --- internals ---------------------------------------------------------------------------

    def _plan(self, session: Session, request: PlacementRequest, avoid: AvoidSet) -> Placement:
        """Plan on the snapshot; when nothing fits there, once more on a fresh one, which may
        hold room that other processes gave back."""
        threshold = self.threshold(session)
        with self._lock:
            try:
                return plan(request, self.topology(session), avoid, threshold)
            except NoCapacity:
                return plan(request, self.topology(session, force=True), avoid, threshold)

    def _claim(self, session: Session, request: PlacementRequest, avoid: AvoidSet,
               first: Placement | None = None) -> Placement:
        for _ in range(_CLAIM_ATTEMPTS):
            placement, first = first or self._plan(session, request, avoid), None
            usage = capacity.claim_host(session, placement.host_id, request.cpu_mhz, request.memory_mib)
            if usage is None:
                self._refresh_host(session, placement.host_id)
                continue
            if placement.pool_id is not None and request.disk_gib:
                used = capacity.claim_pool(session, placement.pool_id, request.disk_gib)
                if used is None:
                    capacity.release_host(session, placement.host_id, request.cpu_mhz, request.memory_mib)
                    self._refresh_pool(session, placement.pool_id)
                    self._refresh_host(session, placement.host_id)
                    continue
                self._set_pool_usage(placement.pool_id, used)
                self._note(session, "pool-claim", placement.pool_id, request.disk_gib)
            self._set_host_usage(placement.host_id, usage.cpu_used_mhz, usage.memory_used_mib)
            self._note(session, "host-claim", placement.host_id, request.cpu_mhz, request.memory_mib)
            return placement
        raise NoCapacity("hosts kept filling up under concurrent requests; try again")

    def _choose_pool(self, topology: Topology, gib: float, zone_id: int | None,
                     tags: frozenset[str], threshold: float) -> PoolSnapshot | None:
        for pool in sorted(topology.pools.values(), key=lambda p: p.id):
            zone = topology.zones.get(pool.zone_id)
            if (zone is not None and zone.enabled and (zone_id is None or pool.zone_id == zone_id) and pool.usable
                    and tags <= pool.tags and pool.has_room_for(gib, threshold)):
                return pool
        return None

    def _note(self, session: Session, kind: str, key, *amounts) -> None:
        if key is None:
            return
        session.info.setdefault(_PENDING, []).append((kind, key, *amounts))
        if kind.endswith("release"):
            with self._lock:
                self._apply_release(kind, key, *amounts)

    def _apply_release(self, kind: str, key, *amounts) -> None:
        topology = self._topology
        if topology is None:
            return
        try:
            if kind == "host-release" and key in topology.hosts:
                host = topology.hosts[key]
                topology.set_usage(key, max(0, host.cpu_used_mhz - amounts[0]),
                                   max(0, host.memory_used_mib - amounts[1]))
            elif kind == "pool-release" and key in topology.pools:
                pool = topology.pools[key]
                topology.update_pool(pool.with_usage(max(0.0, pool.used_gib - amounts[0])))
        except (KeyError, ValueError):
            self.invalidate()

    def _forget(self, kind: str, key, *amounts) -> None:
        """Undo, in the snapshot, a claim or release whose transaction rolled back."""
        with self._lock:
            opposite = {"host-claim": "host-release", "pool-claim": "pool-release"}.get(kind)
            if opposite is not None:
                self._apply_release(opposite, key, *amounts)
            else:
                # A release that did not happen: the snapshot under-counts; re-read later.
                self.invalidate()

    def _set_host_usage(self, host_id: int, cpu: int, memory: int) -> None:
        with self._lock:
            topology = self._topology
            if topology is not None and host_id in topology.hosts:
                topology.set_usage(host_id, cpu, memory)

    def _set_pool_usage(self, pool_id: int, used: float) -> None:
        with self._lock:
            topology = self._topology
            if topology is not None and pool_id in topology.pools:
                topology.update_pool(topology.pools[pool_id].with_usage(used))

    def _refresh_host(self, session: Session, host_id: int) -> None:
        row = session.execute(_HOST_SELECT.where(Host.id == host_id)).first()
        with self._lock:
            if row is not None and self._topology is not None and host_id in self._topology.hosts:
                self._topology.update_host(host_snapshot(row))

    def _refresh_pool(self, session: Session, pool_id: int) -> None:
        pool = session.get(StoragePool, pool_id, populate_existing=True)
        with self._lock:
            if pool is not None and self._topology is not None and pool_id in self._topology.pools:
                self._topology.update_pool(pool_snapshot(pool))


# --- building snapshots ----------------------------------------------------------------------

_HOST_SELECT = select(Host.id, Host.name, Host.zone_id, Host.pod_id, Host.cluster_id, Host.cpu_cores, Host.cpu_mhz,
                      Host.memory_mib, Host.cpu_used_mhz, Host.memory_used_mib, Host.cpu_overcommit,
                      Host.memory_overcommit, Host.tags, Host.status, Host.resource_state, Host.hypervisor,
                      Host.bmc_address)


def build_topology(session: Session) -> Topology:
    zones = [ZoneSnapshot(zone.id, zone.name, zone.enabled) for zone in session.scalars(select(Zone))]
    pods = [PodSnapshot(pod.id, pod.zone_id, pod.name, pod.enabled) for pod in session.scalars(select(Pod))]
    clusters = [ClusterSnapshot(cluster.id, cluster.pod_id, cluster.zone_id, cluster.name, cluster.hypervisor,
                                cluster.enabled) for cluster in session.scalars(select(Cluster))]
    hosts = [host_snapshot(row) for row in session.execute(_HOST_SELECT)]
    pools = [pool_snapshot(pool) for pool in session.scalars(select(StoragePool))]
    return Topology(zones, pods, clusters, hosts, pools)


def host_snapshot(row) -> HostSnapshot:
    if row.status != HostStatus.UP:
        reason = str(row.status)
    elif row.resource_state != ResourceState.ENABLED:
        reason = {"maintenance": "in maintenance", "prepare_for_maintenance": "going into maintenance"}.get(
            str(row.resource_state), str(row.resource_state))
    elif row.hypervisor == BARE_METAL and not row.bmc_address:
        reason = "without a BMC"  # it could never be switched on
    else:
        reason = ""
    return HostSnapshot(
        id=row.id, name=row.name, zone_id=row.zone_id, pod_id=row.pod_id, cluster_id=row.cluster_id,
        cpu_total_mhz=row.cpu_cores * row.cpu_mhz, memory_total_mib=row.memory_mib,
        cpu_used_mhz=row.cpu_used_mhz, memory_used_mib=row.memory_used_mib, cpu_overcommit=row.cpu_overcommit,
        memory_overcommit=row.memory_overcommit, tags=_tags(row.tags), schedulable=not reason,
        unschedulable_reason=reason, cpu_cores=row.cpu_cores)


def pool_snapshot(pool: StoragePool) -> PoolSnapshot:
    usable = pool.state == StoragePoolState.UP
    return PoolSnapshot(id=pool.id, name=pool.name, zone_id=pool.zone_id, cluster_id=pool.cluster_id,
                        capacity_gib=pool.capacity_gib, used_gib=pool.used_gib, overprovisioning=pool.overprovisioning,
                        tags=_tags(pool.tags), usable=usable, unusable_reason="" if usable else str(pool.state))


@dataclass(frozen=True, slots=True)
class PlannedVm:
    """A VM's placement chosen on the snapshot and not yet claimed (see ``plan_vm``)."""

    request: PlacementRequest
    avoid: AvoidSet
    placement: Placement


def _reserve_on(vm: VirtualMachine, request: PlacementRequest, placement: Placement) -> None:
    vm.host_id, vm.storage_pool_id = placement.host_id, placement.pool_id
    vm.reserved_cpu_mhz, vm.reserved_memory_mib = request.cpu_mhz, request.memory_mib
    vm.root_disk_gib = request.disk_gib if placement.pool_id is not None else 0.0
    vm.zone_id = placement.zone_id


def vm_cpu_mhz(vm: VirtualMachine) -> int:
    per_core = int(round(vm.speed_ghz * 1000)) if vm.speed_ghz else DEFAULT_CORE_MHZ
    return vm.cores * per_core


def vm_memory_mib(vm: VirtualMachine) -> int:
    return int(round(vm.memory_gib * 1024))


def _affinity(session: Session, vm: VirtualMachine) -> dict:
    if vm.affinity_group_id is None:
        return {}
    # Locked: two members placed at once would both read the other's host as free. The lock
    # makes the second wait for the first's commit and then see where it went.
    group = session.get(AffinityGroup, vm.affinity_group_id, with_for_update=ROW_LOCK)
    hosts = frozenset(session.scalars(select(VirtualMachine.host_id).where(
        VirtualMachine.affinity_group_id == group.id, VirtualMachine.id != vm.id,
        VirtualMachine.host_id.is_not(None))))
    if group.kind == "host anti-affinity":
        return {"anti_affinity_host_ids": hosts}
    return {"affinity_host_ids": hosts}


def _why_not(refusal: NoCapacity) -> str:
    """A refusal's reason without what every other host was avoided for."""
    return getattr(refusal, "reason", None) or str(refusal)


def _tags(text: str | None) -> frozenset[str]:
    return frozenset(tag.strip() for tag in (text or "").split(",") if tag.strip())


def _tags_text(tags: frozenset[str]) -> str:
    return f" with the tags {', '.join(sorted(tags))}" if tags else ""
