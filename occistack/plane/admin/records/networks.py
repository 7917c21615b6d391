"""Records of a zone's networks: physical networks with their guest VLAN ranges, and IP ranges
(a zone's public ones, a pod's management ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import IpRange, PhysicalNetwork, Pod, VlanRange, Zone
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class VlanRangeRecord:
    """Guest VLAN ids a physical network may hand out, both ends included."""

    id: int
    physical_network_id: int
    first_vlan: int
    last_vlan: int

    @property
    def size(self) -> int:
        return self.last_vlan - self.first_vlan + 1


@dataclass(frozen=True, slots=True)
class PhysicalNetworkRecord:
    id: int
    zone_id: int
    name: str
    isolation: str
    #: of guest, public, management and storage.
    traffic_types: tuple[str, ...]
    bridge: str | None
    enabled: bool
    created_at: datetime
    zone_name: str = related()
    #: lowest first.
    vlan_ranges: tuple[VlanRangeRecord, ...] = related()


@dataclass(frozen=True, slots=True)
class IpRangeRecord:
    id: int
    zone_id: int
    #: the pod of a management range; None for a public one.
    pod_id: int | None
    #: public or management.
    purpose: str
    first_address: str
    last_address: str
    #: the bounds as numbers.
    first_number: int
    last_number: int
    gateway: str
    prefix_length: int
    vlan: int | None
    created_at: datetime
    zone_name: str = related()
    pod_name: str | None = related()

    @property
    def size(self) -> int:
        return self.last_number - self.first_number + 1


def vlan_range_record(vlan_range: VlanRange) -> VlanRangeRecord:
    return from_row(VlanRangeRecord, vlan_range)


def physical_network_records(session: Session, networks: Iterable[PhysicalNetwork]) -> list[PhysicalNetworkRecord]:
    networks = list(networks)
    zones = names_by_id(session, Zone.name, (network.zone_id for network in networks))
    ranges: dict[int, list[VlanRangeRecord]] = {}
    if networks:
        for vlan_range in session.scalars(select(VlanRange).where(
                VlanRange.physical_network_id.in_({network.id for network in networks}))
                .order_by(VlanRange.first_vlan)):
            ranges.setdefault(vlan_range.physical_network_id, []).append(vlan_range_record(vlan_range))
    return [from_row(PhysicalNetworkRecord, network, traffic_types=tuple(network.traffic_types.split(",")),
                     zone_name=zones[network.zone_id], vlan_ranges=tuple(ranges.get(network.id, ())))
            for network in networks]


def physical_network_record(session: Session, network: PhysicalNetwork) -> PhysicalNetworkRecord:
    return physical_network_records(session, [network])[0]


def ip_range_records(session: Session, ip_ranges: Iterable[IpRange]) -> list[IpRangeRecord]:
    ip_ranges = list(ip_ranges)
    zones = names_by_id(session, Zone.name, (ip_range.zone_id for ip_range in ip_ranges))
    pods = names_by_id(session, Pod.name, (ip_range.pod_id for ip_range in ip_ranges))
    return [from_row(IpRangeRecord, ip_range, zone_name=zones[ip_range.zone_id], pod_name=pods.get(ip_range.pod_id))
            for ip_range in ip_ranges]


def ip_range_record(session: Session, ip_range: IpRange) -> IpRangeRecord:
    return ip_range_records(session, [ip_range])[0]
