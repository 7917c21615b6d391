"""Records of the cloud's skeleton: regions, zones, pods and clusters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import Cluster, Pod, Region, Zone
from occistack.plane.admin.public_networks import public_network_ids
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class RegionRecord:
    id: int
    name: str
    title: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ZoneRecord:
    id: int
    name: str
    title: str | None
    enabled: bool
    region_id: int | None
    network_type: str
    guest_cidr: str
    #: comma-separated DNS servers for guests.
    dns: str | None
    created_at: datetime
    #: the id of the zone's shared public network (None until its first public IP range).
    public_network_id: str | None = related()


@dataclass(frozen=True, slots=True)
class PodRecord:
    id: int
    zone_id: int
    name: str
    cidr: str
    gateway: str
    enabled: bool
    created_at: datetime
    zone_name: str = related()


@dataclass(frozen=True, slots=True)
class ClusterRecord:
    id: int
    zone_id: int
    pod_id: int
    name: str
    hypervisor: str
    enabled: bool
    created_at: datetime
    zone_name: str = related()
    pod_name: str = related()


def region_record(region: Region) -> RegionRecord:
    return from_row(RegionRecord, region)


def zone_records(session: Session, zones: Iterable[Zone]) -> list[ZoneRecord]:
    zones = list(zones)
    networks = public_network_ids(session, (zone.id for zone in zones))
    return [from_row(ZoneRecord, zone, public_network_id=networks.get(zone.id)) for zone in zones]


def zone_record(session: Session, zone: Zone) -> ZoneRecord:
    return zone_records(session, [zone])[0]


def pod_records(session: Session, pods: Iterable[Pod]) -> list[PodRecord]:
    pods = list(pods)
    zones = names_by_id(session, Zone.name, (pod.zone_id for pod in pods))
    return [from_row(PodRecord, pod, zone_name=zones[pod.zone_id]) for pod in pods]


def pod_record(session: Session, pod: Pod) -> PodRecord:
    return pod_records(session, [pod])[0]


def cluster_records(session: Session, clusters: Iterable[Cluster]) -> list[ClusterRecord]:
    clusters = list(clusters)
    zones = names_by_id(session, Zone.name, (cluster.zone_id for cluster in clusters))
    pods = names_by_id(session, Pod.name, (cluster.pod_id for cluster in clusters))
    return [from_row(ClusterRecord, cluster, zone_name=zones[cluster.zone_id], pod_name=pods[cluster.pod_id])
            for cluster in clusters]


def cluster_record(session: Session, cluster: Cluster) -> ClusterRecord:
    return cluster_records(session, [cluster])[0]
