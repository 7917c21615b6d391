"""Records of guests (any project's computes) as the administrator sees them: where each runs,
its state and what it has reserved -- never its user data or key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import Host, Project, VirtualMachine, Zone
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class VmRecord:
    id: str
    title: str | None
    project_id: int | None
    zone_id: int | None
    host_id: int | None
    #: model.states.VmState: running, stopped, migrating, ...
    state: str
    state_message: str | None
    cores: int
    memory_gib: float
    instance_name: str | None
    bare_metal: bool
    reserved_cpu_mhz: int
    reserved_memory_mib: int
    storage_pool_id: int | None
    host_name: str | None = related()
    zone_name: str | None = related()
    project_name: str | None = related()


def vm_records(session: Session, vms: Iterable[VirtualMachine]) -> list[VmRecord]:
    vms = list(vms)
    hosts = names_by_id(session, Host.name, (vm.host_id for vm in vms))
    zones = names_by_id(session, Zone.name, (vm.zone_id for vm in vms))
    projects = names_by_id(session, Project.name, (vm.project_id for vm in vms))
    return [from_row(VmRecord, vm, state=str(vm.state), host_name=hosts.get(vm.host_id),
                     zone_name=zones.get(vm.zone_id), project_name=projects.get(vm.project_id)) for vm in vms]


def vm_record(session: Session, vm: VirtualMachine) -> VmRecord:
    return vm_records(session, [vm])[0]
