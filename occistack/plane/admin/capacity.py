"""The capacity report: per zone, how much of each resource is used out of how much there is,
and what the zone is built of, as the CloudStack dashboard shows them.

Totals count what placement may use: hosts whose resource state is enabled (memory and CPU
with their overcommit factors), primary storage that is up (with its overprovisioning),
secondary storage that is enabled. Used is what is reserved on those same hosts and pools, as
CloudStack leaves a disabled host's capacity out of both; the infrastructure counts include
everything. Every figure comes from an aggregate query (SUM or COUNT, grouped by zone), so the
report costs a few queries however many hosts there are.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from occistack.model import (
    Cluster,
    GuestVlan,
    Host,
    IpAllocation,
    IpRange,
    PhysicalNetwork,
    Pod,
    SecondaryStorage,
    StoragePool,
    VlanRange,
    Zone,
)
from occistack.model.states import HostStatus, ResourceState, StoragePoolState


@dataclass(frozen=True, slots=True)
class Usage:
    used: float
    total: float

    @property
    def free(self) -> float:
        return max(self.total - self.used, 0)

    @property
    def percent(self) -> float | None:
        """Used as a share of the total; None when there is none at all."""
        return round(100 * self.used / self.total, 1) if self.total else None

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.used + other.used, self.total + other.total)

    def as_dict(self) -> dict[str, Any]:
        return {"used": self.used, "total": self.total, "free": self.free, "percent": self.percent}


NOTHING = Usage(0, 0)
#: The resources of the report, in the dashboard's order, with the unit of each.
RESOURCES = {
    "memory_mib": "MiB", "cpu_mhz": "MHz", "primary_storage_gib": "GiB", "secondary_storage_gib": "GiB",
    "public_ips": "addresses", "management_ips": "addresses", "vlans": "VLANs",
}


@dataclass(frozen=True)
class ZoneCapacity:
    zone_id: int | None
    zone: str
    enabled: bool
    memory_mib: Usage = NOTHING
    cpu_mhz: Usage = NOTHING
    primary_storage_gib: Usage = NOTHING
    secondary_storage_gib: Usage = NOTHING
    public_ips: Usage = NOTHING
    management_ips: Usage = NOTHING
    vlans: Usage = NOTHING
    pods: int = 0
    clusters: int = 0
    #: every host status, with how many hosts of the zone have it.
    hosts: Mapping[str, int] = field(default_factory=lambda: {status.value: 0 for status in HostStatus})
    primary_pools: int = 0
    secondary_stores: int = 0

    @property
    def host_count(self) -> int:
        return sum(self.hosts.values())

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        for resource in RESOURCES:
            document[resource] = getattr(self, resource).as_dict()
        document["hosts"] = {"total": self.host_count, **self.hosts}
        return document


@dataclass(frozen=True)
class CapacityReport:
    zones: tuple[ZoneCapacity, ...]

    @property
    def cloud(self) -> ZoneCapacity:
        """The whole cloud, summed over its zones."""
        totals: dict[str, Any] = {resource: NOTHING for resource in RESOURCES}
        counts = {"pods": 0, "clusters": 0, "primary_pools": 0, "secondary_stores": 0}
        hosts = {status.value: 0 for status in HostStatus}
        for zone in self.zones:
            for resource in RESOURCES:
                totals[resource] = totals[resource] + getattr(zone, resource)
            for name in counts:
                counts[name] += getattr(zone, name)
            for status, number in zone.hosts.items():
                hosts[status] += number
        return ZoneCapacity(None, "all zones", True, **totals, **counts, hosts=hosts)

    def as_dict(self) -> dict[str, Any]:
        return {"zones": [zone.as_dict() for zone in self.zones], "cloud": {**self.cloud.as_dict(),
                                                                          "zones": len(self.zones)}}


def capacity_report(session: Session) -> CapacityReport:
    zones = session.execute(select(Zone.id, Zone.name, Zone.enabled).order_by(Zone.name)).all()
    figures: dict[int, dict[str, Any]] = {zone_id: {"hosts": {status.value: 0 for status in HostStatus}}
                                          for zone_id, _, _ in zones}

    def put(zone_id: int, name: str, value: Any) -> None:
        if zone_id in figures:
            figures[zone_id][name] = value

    host_enabled = Host.resource_state == ResourceState.ENABLED.value

    def if_enabled(value):
        return func.coalesce(func.sum(case((host_enabled, value), else_=0)), 0)

    for zone_id, memory_total, memory_used, cpu_total, cpu_used in session.execute(
            select(Host.zone_id, if_enabled(Host.memory_mib * Host.memory_overcommit), if_enabled(Host.memory_used_mib),
                   if_enabled(Host.cpu_cores * Host.cpu_mhz * Host.cpu_overcommit), if_enabled(Host.cpu_used_mhz))
            .group_by(Host.zone_id)):
        put(zone_id, "memory_mib", Usage(int(memory_used), math.floor(memory_total)))
        put(zone_id, "cpu_mhz", Usage(int(cpu_used), math.floor(cpu_total)))
    for zone_id, status, number in session.execute(
            select(Host.zone_id, Host.status, func.count()).group_by(Host.zone_id, Host.status)):
        if zone_id in figures:
            figures[zone_id]["hosts"][str(status)] = number

    pool_up = StoragePool.state == StoragePoolState.UP.value
    for zone_id, total, used, number in session.execute(
            select(StoragePool.zone_id,
                   func.coalesce(func.sum(case((pool_up, StoragePool.capacity_gib * StoragePool.overprovisioning),
                                               else_=0)), 0),
                   func.coalesce(func.sum(case((pool_up, StoragePool.used_gib), else_=0)), 0), func.count())
            .group_by(StoragePool.zone_id)):
        put(zone_id, "primary_storage_gib", Usage(_gib(used), _gib(total)))
        put(zone_id, "primary_pools", number)

    store_enabled = SecondaryStorage.enabled.is_(True)
    for zone_id, total, used, number in session.execute(
            select(SecondaryStorage.zone_id,
                   func.coalesce(func.sum(case((store_enabled, SecondaryStorage.capacity_gib), else_=0)), 0),
                   func.coalesce(func.sum(case((store_enabled, SecondaryStorage.used_gib), else_=0)), 0), func.count())
            .group_by(SecondaryStorage.zone_id)):
        put(zone_id, "secondary_storage_gib", Usage(_gib(used), _gib(total)))
        put(zone_id, "secondary_stores", number)

    addresses: dict[tuple[int, str], list[int]] = {}
    for zone_id, purpose, size in session.execute(
            select(IpRange.zone_id, IpRange.purpose, func.sum(IpRange.last_number - IpRange.first_number + 1))
            .group_by(IpRange.zone_id, IpRange.purpose)):
        addresses.setdefault((zone_id, purpose), [0, 0])[1] = int(size)
    for zone_id, purpose, number in session.execute(
            select(IpRange.zone_id, IpRange.purpose, func.count(IpAllocation.id))
            .join(IpAllocation, IpAllocation.range_id == IpRange.id).group_by(IpRange.zone_id, IpRange.purpose)):
        addresses.setdefault((zone_id, purpose), [0, 0])[0] = number
    for (zone_id, purpose), (used, total) in addresses.items():
        put(zone_id, f"{purpose}_ips", Usage(used, total))

    vlans: dict[int, list[int]] = {}
    for zone_id, size in session.execute(
            select(PhysicalNetwork.zone_id, func.sum(VlanRange.last_vlan - VlanRange.first_vlan + 1))
            .join(VlanRange, VlanRange.physical_network_id == PhysicalNetwork.id).group_by(PhysicalNetwork.zone_id)):
        vlans.setdefault(zone_id, [0, 0])[1] = int(size)
    for zone_id, number in session.execute(
            select(PhysicalNetwork.zone_id, func.count(GuestVlan.id))
            .join(GuestVlan, GuestVlan.physical_network_id == PhysicalNetwork.id).group_by(PhysicalNetwork.zone_id)):
        vlans.setdefault(zone_id, [0, 0])[0] = number
    for zone_id, (used, total) in vlans.items():
        put(zone_id, "vlans", Usage(used, total))

    for model, name in ((Pod, "pods"), (Cluster, "clusters")):
        for zone_id, number in session.execute(select(model.zone_id, func.count()).group_by(model.zone_id)):
            put(zone_id, name, number)

    return CapacityReport(tuple(ZoneCapacity(zone_id, name, bool(enabled), **figures[zone_id])
                                for zone_id, name, enabled in zones))


def _gib(value: float) -> float:
    return round(float(value), 2)
