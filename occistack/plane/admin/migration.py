"""Moving a guest to another host: what an administrator asks for (``occistack vm migrate``,
``POST /admin/vms/{id}/actions/migrate``) and what a host's maintenance does for each guest on it.

The rule, here: the compute must be a virtual machine (a bare-metal compute *is* its node) that
is running or stopped and not being deleted, with no other job of its under way; the target --
the one named, or the one placement picks -- must be another schedulable host of its hypervisor
with room for it, within its affinity group's rules, reaching the pool its root disk is in. The
target's CPU and memory are claimed now, so that nothing else takes them while the guest moves;
the compute is ``migrating`` until the job (plane/jobs/handlers/migration.py) ends: running (or
stopped) on the target, or, when the move failed, still where it was with the reason as its
state message.

How: a running guest moves live (its memory copied while it runs; it never reboots) unless the
administrator asks for a cold move (it is shut down, moved and started on the target); a
stopped one is moved cold. When its root disk is on storage only its host reaches (a ``filesystem``
pool: each host's own directory), the disk is copied along (block migration).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from occistack.model import Host, Job, StoragePool, VirtualMachine
from occistack.model.jobs import UNFINISHED
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.plane.dispatch import Dispatcher, Operation
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.events import record_event
from occistack.plane.placement.service import PlacementService
from occistack.plane.transitions import apply_event

MIGRATE_OPERATION = "migrate_vm"
#: Pools whose volumes only the host that wrote them reaches: their disks travel with the guest.
LOCAL_PROTOCOLS = frozenset({"filesystem"})


@dataclass(frozen=True, slots=True)
class StartedMigration:
    vm_id: str
    source_host_id: int
    target_host_id: int
    live: bool
    copy_storage: bool
    job_id: int | None


def migrate_vm(session: Session, vm: VirtualMachine, *, placement: PlacementService, dispatcher: Dispatcher,
               target: Host | None = None, actor: str = "system", reason: str | None = None,
               cold: bool = False) -> StartedMigration:
    """Start moving ``vm`` (to ``target``, or where placement finds room): the rule above.
    ``cold``: a running guest is shut down, moved and started again rather than moved live
    (where live migration cannot work: hosts whose CPUs differ, a guest with a device that
    cannot migrate, local disks on a hypervisor without block migration).
    Conflict when its state or a job of its forbids it now, InvalidRequest for a bare-metal
    compute or a target that is its own host, NoCapacity when no host (or not ``target``) can
    take it."""
    what = f"compute {vm.title or vm.id}"
    if vm.bare_metal:
        raise InvalidRequest(f"{what} is a bare-metal compute: it is its node, and cannot move to another one")
    if vm.delete_requested_at is not None:
        raise Conflict(f"{what} is being deleted; it does not move")
    if vm.host_id is None:
        raise Conflict(f"{what} is on no host (it never ran): there is nothing to move")
    if vm.state not in (VmState.RUNNING, VmState.STOPPED):
        raise Conflict(f"{what} is {vm.state}: only a running or a stopped compute can migrate; "
                       f"possible now: {', '.join(e.value for e in VM_TRANSITIONS.events_allowed(vm.state)) or 'nothing'}")
    if _busy(session, vm.id):
        raise Conflict(f"{what} has an operation under way; migrate it once that has ended")
    if target is not None and target.id == vm.host_id:
        raise InvalidRequest(f"{what} is on host {target.name!r} already; name another host, or none to let "
                             "placement choose")
    source_id = vm.host_id
    chosen = placement.claim_migration(session, vm, target.id if target is not None else None,
                                       target.name if target is not None else None)
    live = vm.state == VmState.RUNNING and not cold
    pool = session.get(StoragePool, vm.storage_pool_id) if vm.storage_pool_id is not None else None
    copy_storage = pool is not None and pool.protocol in LOCAL_PROTOCOLS
    was = vm.state
    apply_event(session, vm, VM_TRANSITIONS, Event.MIGRATE)
    job = dispatcher.submit(session, Operation(MIGRATE_OPERATION, vm.id, {
        "source_host_id": source_id, "target_host_id": chosen.host_id, "live": live,
        "copy_storage": copy_storage, "was": str(was)}))
    source, destination = session.get(Host, source_id), session.get(Host, chosen.host_id)
    record_event(session, "vm.migrate", "started", "compute", vm.id, actor=actor, project_id=vm.project_id,
                 job_id=getattr(job, "id", None),
                 description=f"{'live' if live else 'cold'} migration of {what} from host {source.name!r} to "
                             f"{destination.name!r}{' with its disks' if copy_storage else ''}"
                             f"{f' ({reason})' if reason else ''}")
    return StartedMigration(vm.id, source_id, chosen.host_id, live, copy_storage, getattr(job, "id", None))


def _busy(session: Session, vm_id: str) -> bool:
    return bool(session.scalar(select(exists().where(Job.entity_id == vm_id,
                                                     Job.state.in_([str(s) for s in UNFINISHED])))))


def guests_on(session: Session, host_id: int) -> list[VirtualMachine]:
    return list(session.scalars(select(VirtualMachine).where(VirtualMachine.host_id == host_id)
                                .order_by(VirtualMachine.id)))
