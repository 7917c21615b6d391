"""The administrator's view of guests: every project's computes, where they run, and what an
administrator may do to one -- move it to another host (``migrate``), or start, stop or restart
it through the very use case its owner's OCCI action goes through, so that the same rules hold.

``occistack vm list|show|migrate|start|stop|restart`` and ``/admin/vms`` call these. Kept beside
the tenants' lifecycle modules (as admin_deletes.py is) because the power actions are theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from occistack.model import VirtualMachine
from occistack.model.resources import ENTITY_ID_LENGTH
from occistack.model.states import VmState
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import Ref
from occistack.plane.admin.lookup import find_host, find_project, find_zone
from occistack.plane.admin.migration import migrate_vm
from occistack.plane.admin.records.vms import VmRecord, vm_record, vm_records
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.tenant.compute_actions import compute_action

#: What an administrator may do to any project's compute besides moving it.
LIFECYCLE_ACTIONS = ("start", "stop", "restart")


@dataclass(frozen=True)
class VmFilter:
    zone: Ref | None = None
    host: Ref | None = None
    project: Ref | None = None
    #: one of model.states.VmState's values (running, stopped, migrating, ...).
    state: str | None = None


@dataclass(frozen=True)
class VmMigration:
    #: the host to move to; None lets placement choose one with room.
    to: Ref | None = None
    #: shut a running guest down, move it and start it there, instead of moving it live.
    cold: bool = False


def list_vms(ctx: PlaneContext, where: VmFilter = VmFilter()) -> list[VmRecord]:
    query = select(VirtualMachine).order_by(VirtualMachine.created_at, VirtualMachine.id)
    if where.zone is not None:
        query = query.where(VirtualMachine.zone_id == find_zone(ctx.session, where.zone).id)
    if where.host is not None:
        query = query.where(VirtualMachine.host_id == find_host(ctx.session, where.host).id)
    if where.project is not None:
        query = query.where(VirtualMachine.project_id == find_project(ctx.session, where.project).id)
    if where.state is not None:
        states = [state.value for state in VmState]
        if where.state not in states:
            raise InvalidRequest(f"no compute state {where.state!r}; the states are: {', '.join(states)}")
        query = query.where(VirtualMachine.state == where.state)
    return vm_records(ctx.session, ctx.session.scalars(query))


def show_vm(ctx: PlaneContext, vm_id: str) -> VmRecord:
    return vm_record(ctx.session, _find(ctx, vm_id))


def migrate(ctx: PlaneContext, vm_id: str, request: VmMigration = VmMigration()) -> VmRecord:
    """Start moving the compute (see plane/admin/migration.py); the record says ``migrating``
    and the host it is still on until the job has moved it."""
    vm = _find(ctx, vm_id)
    target = find_host(ctx.session, request.to) if request.to is not None else None
    # The cloud's work, charged to no project: the plain dispatcher, as for a host's maintenance.
    migrate_vm(ctx.session, vm, placement=ctx.placement, dispatcher=ctx.services.dispatcher, target=target,
               actor=actor_of(ctx).label, cold=request.cold)
    return vm_record(ctx.session, vm)


def act_on_vm(ctx: PlaneContext, vm_id: str, action: str) -> VmRecord:
    """Start, stop or restart any project's compute, as its owner's OCCI action would."""
    if action not in LIFECYCLE_ACTIONS:
        raise InvalidRequest(f"computes have no administrator action {action!r}; the actions are: "
                             f"{', '.join(LIFECYCLE_ACTIONS)}, migrate")
    vm = _find(ctx, vm_id)
    actor = actor_of(ctx)
    # The job is the project's (it counts there), the event names the administrator.
    caller = Caller(user_id=actor.user_id, user_name=actor.label, project_id=vm.project_id)  # type: ignore[arg-type]
    compute_action(ctx.session, vm, action, None, ctx.acting_as(caller).dispatcher)
    return vm_record(ctx.session, vm)


def _find(ctx: PlaneContext, vm_id: str) -> VirtualMachine:
    # An id no entity can have is not looked up (a NUL byte would not even reach PostgreSQL).
    vm = ctx.session.get(VirtualMachine, vm_id) if len(vm_id) <= ENTITY_ID_LENGTH and vm_id.isprintable() else None
    if vm is None:
        raise NotFound(f"no compute {vm_id}")
    return vm
