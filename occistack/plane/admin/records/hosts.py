"""Records of hosts (hypervisor hosts and bare-metal nodes): what they have, what placement has
reserved on them, their state and their BMC -- never the hash of the agent's token, nor the
sealed BMC password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from occistack.model import Cluster, Host, VirtualMachine
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class HostRecord:
    id: int
    name: str
    zone_id: int
    pod_id: int
    cluster_id: int
    address: str
    hypervisor: str
    hypervisor_version: str | None
    #: connection health, from the agent's heartbeats (model.states.HostStatus).
    status: str
    #: what the administrator allows (model.states.ResourceState).
    resource_state: str
    cpu_sockets: int
    cpu_cores: int
    cpu_mhz: int
    memory_mib: int
    cpu_overcommit: float
    memory_overcommit: float
    #: comma-separated host tags.
    tags: str
    cpu_used_mhz: int
    memory_used_mib: int
    last_heartbeat: datetime | None
    agent_version: str | None
    state_message: str | None
    bmc_address: str | None
    bmc_port: int
    bmc_username: str | None
    fence_attempted_at: datetime | None
    created_at: datetime
    cluster_name: str = related()
    #: virtual machines on the host: during a maintenance, the guests left to move.
    guests: int = related()

    @property
    def cpu_total_mhz(self) -> int:
        return self.cpu_cores * self.cpu_mhz


@dataclass(frozen=True, slots=True)
class AddedHostRecord:
    host: HostRecord
    #: the secret the host's agent authenticates with, shown this once (only its hash is kept);
    #: None for a bare-metal node, which runs no agent.
    agent_token: str | None


def host_records(session: Session, hosts: Iterable[Host]) -> list[HostRecord]:
    hosts = list(hosts)
    clusters = names_by_id(session, Cluster.name, (host.cluster_id for host in hosts))
    guests = dict(session.execute(
        select(VirtualMachine.host_id, func.count()).where(VirtualMachine.host_id.in_([host.id for host in hosts]))
        .group_by(VirtualMachine.host_id)).all()) if hosts else {}
    return [from_row(HostRecord, host, cluster_name=clusters[host.cluster_id], guests=guests.get(host.id, 0))
            for host in hosts]


def host_record(session: Session, host: Host) -> HostRecord:
    return host_records(session, [host])[0]
