"""The cloud's skeleton, as the faces ask for it: regions, zones, pods and clusters.

Rows are named by id (the admin API) or by name (the command line); a pod's name is unique in
its zone and a cluster's in its pod, so those are found with their parents' references.
"""

from __future__ import annotations

from dataclasses import dataclass

from occistack.plane.admin import pods, public_networks, zones
from occistack.plane.admin.cases.common import UNCHANGED, Switch, Unchanged, actor_of, changes_of
from occistack.plane.admin.common import Ref, set_enabled
from occistack.plane.admin.lookup import find_cluster, find_pod, find_region, find_zone
from occistack.plane.admin.records.inventory import (
    ClusterRecord,
    PodRecord,
    RegionRecord,
    ZoneRecord,
    cluster_record,
    cluster_records,
    pod_record,
    pod_records,
    region_record,
    zone_record,
    zone_records,
)
from occistack.plane.context import PlaneContext


@dataclass(frozen=True)
class NewRegion:
    name: str
    title: str | None = None


@dataclass(frozen=True)
class RegionChanges:
    """What may change of a region (zones.update_region says why its name may not)."""

    title: str | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewZone:
    name: str
    title: str | None = None
    #: basic (one flat shared guest network) or advanced (isolated guest networks on VLANs).
    network_type: str = "advanced"
    #: the CIDR an isolated guest network gets when none is asked for (10.1.1.0/24 when None).
    guest_cidr: str | None = None
    #: DNS servers for guests: a list, or comma-separated text.
    dns: str | list[str] | None = None
    region: Ref | None = None
    enabled: bool = True


@dataclass(frozen=True)
class ZoneChanges:
    """What may change of a zone (zones.update_zone says why its name and network type may not)."""

    title: str | None | Unchanged = UNCHANGED
    guest_cidr: str | None | Unchanged = UNCHANGED
    dns: str | list[str] | None | Unchanged = UNCHANGED
    region: Ref | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewPod:
    zone: Ref
    name: str
    cidr: str
    gateway: str
    #: the pod's management IP range, given as both ends or not at all.
    management_first: str | None = None
    management_last: str | None = None


@dataclass(frozen=True)
class PodChanges:
    """What may change of a pod (pods.update_pod says when its subnet and gateway may not)."""

    name: str | Unchanged = UNCHANGED
    cidr: str | Unchanged = UNCHANGED
    gateway: str | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewCluster:
    pod: Ref
    name: str
    hypervisor: str = "KVM"
    #: the pod's zone: needed when the pod is named by name.
    zone: Ref | None = None


@dataclass(frozen=True)
class ClusterChanges:
    """What may change of a cluster (pods.update_cluster says when its hypervisor may not)."""

    name: str | Unchanged = UNCHANGED
    hypervisor: str | Unchanged = UNCHANGED


@dataclass(frozen=True)
class ClusterFilter:
    zone: Ref | None = None
    pod: Ref | None = None


# --- regions ----------------------------------------------------------------------------------------

def add_region(ctx: PlaneContext, new: NewRegion) -> RegionRecord:
    return region_record(zones.create_region(ctx.session, name=new.name, title=new.title, actor=actor_of(ctx)))


def list_regions(ctx: PlaneContext) -> list[RegionRecord]:
    return [region_record(region) for region in zones.list_regions(ctx.session)]


def show_region(ctx: PlaneContext, region: Ref) -> RegionRecord:
    return region_record(find_region(ctx.session, region))


def update_region(ctx: PlaneContext, region: Ref, changes: RegionChanges) -> RegionRecord:
    return region_record(zones.update_region(ctx.session, region, **changes_of("region", changes),
                                             actor=actor_of(ctx)))


def remove_region(ctx: PlaneContext, region: Ref) -> None:
    zones.remove_region(ctx.session, region, actor=actor_of(ctx))


# --- zones ------------------------------------------------------------------------------------------

def add_zone(ctx: PlaneContext, new: NewZone) -> ZoneRecord:
    return zone_record(ctx.session, zones.create_zone(
        ctx.session, name=new.name, title=new.title, network_type=new.network_type, guest_cidr=new.guest_cidr,
        dns=new.dns, region=new.region, enabled=new.enabled, actor=actor_of(ctx)))


def list_zones(ctx: PlaneContext) -> list[ZoneRecord]:
    return zone_records(ctx.session, zones.list_zones(ctx.session))


def show_zone(ctx: PlaneContext, zone: Ref) -> ZoneRecord:
    return zone_record(ctx.session, find_zone(ctx.session, zone))


def update_zone(ctx: PlaneContext, zone: Ref, changes: ZoneChanges) -> ZoneRecord:
    return zone_record(ctx.session, zones.update_zone(ctx.session, zone, **changes_of("zone", changes),
                                                      actor=actor_of(ctx)))


def act_on_zone(ctx: PlaneContext, zone: Ref, action: Switch) -> ZoneRecord:
    """Enable or disable a zone. A disabled zone is no longer offered as an availability zone
    and placement skips it; what runs there keeps running."""
    return zone_record(ctx.session, set_enabled(ctx.session, find_zone(ctx.session, zone), "zone",
                                                Switch(action) is Switch.ENABLE, actor_of(ctx)))


def remove_zone(ctx: PlaneContext, zone: Ref) -> None:
    zones.remove_zone(ctx.session, zone, actor=actor_of(ctx))


def add_zone_public_network(ctx: PlaneContext, zone: Ref) -> ZoneRecord:
    """Give a zone whose public IP ranges predate its public network one (a new range brings it);
    the zone, with its public network."""
    public_networks.create_public_network(ctx.session, zone, actor=actor_of(ctx))
    return show_zone(ctx, zone)


# --- pods -------------------------------------------------------------------------------------------

def add_pod(ctx: PlaneContext, new: NewPod) -> PodRecord:
    return pod_record(ctx.session, pods.create_pod(
        ctx.session, zone=new.zone, name=new.name, cidr=new.cidr, gateway=new.gateway,
        management_first=new.management_first, management_last=new.management_last, actor=actor_of(ctx)))


def list_pods(ctx: PlaneContext, zone: Ref | None = None) -> list[PodRecord]:
    return pod_records(ctx.session, pods.list_pods(ctx.session, zone=zone))


def show_pod(ctx: PlaneContext, pod: Ref, *, zone: Ref | None = None) -> PodRecord:
    return pod_record(ctx.session, find_pod(ctx.session, pod, zone=zone))


def update_pod(ctx: PlaneContext, pod: Ref, changes: PodChanges, *, zone: Ref | None = None) -> PodRecord:
    return pod_record(ctx.session, pods.update_pod(ctx.session, pod, zone=zone, **changes_of("pod", changes),
                                                   actor=actor_of(ctx)))


def act_on_pod(ctx: PlaneContext, pod: Ref, action: Switch, *, zone: Ref | None = None) -> PodRecord:
    return pod_record(ctx.session, set_enabled(ctx.session, find_pod(ctx.session, pod, zone=zone), "pod",
                                               Switch(action) is Switch.ENABLE, actor_of(ctx)))


def remove_pod(ctx: PlaneContext, pod: Ref, *, zone: Ref | None = None) -> None:
    """A pod goes with its management ranges; not while anything else is in it."""
    pods.remove_pod(ctx.session, pod, zone=zone, actor=actor_of(ctx))


# --- clusters ---------------------------------------------------------------------------------------

def add_cluster(ctx: PlaneContext, new: NewCluster) -> ClusterRecord:
    return cluster_record(ctx.session, pods.create_cluster(ctx.session, pod=new.pod, name=new.name,
                                                           hypervisor=new.hypervisor, zone=new.zone,
                                                           actor=actor_of(ctx)))


def list_clusters(ctx: PlaneContext, where: ClusterFilter = ClusterFilter()) -> list[ClusterRecord]:
    return cluster_records(ctx.session, pods.list_clusters(ctx.session, zone=where.zone, pod=where.pod))


def show_cluster(ctx: PlaneContext, cluster: Ref, *, pod: Ref | None = None,
                 zone: Ref | None = None) -> ClusterRecord:
    return cluster_record(ctx.session, find_cluster(ctx.session, cluster, pod=pod, zone=zone))


def update_cluster(ctx: PlaneContext, cluster: Ref, changes: ClusterChanges, *, pod: Ref | None = None,
                   zone: Ref | None = None) -> ClusterRecord:
    return cluster_record(ctx.session, pods.update_cluster(ctx.session, cluster, pod=pod, zone=zone,
                                                           **changes_of("cluster", changes), actor=actor_of(ctx)))


def act_on_cluster(ctx: PlaneContext, cluster: Ref, action: Switch, *, pod: Ref | None = None,
                   zone: Ref | None = None) -> ClusterRecord:
    return cluster_record(ctx.session, set_enabled(ctx.session, find_cluster(ctx.session, cluster, pod=pod, zone=zone),
                                                   "cluster", Switch(action) is Switch.ENABLE, actor_of(ctx)))


def remove_cluster(ctx: PlaneContext, cluster: Ref, *, pod: Ref | None = None, zone: Ref | None = None) -> None:
    pods.remove_cluster(ctx.session, cluster, pod=pod, zone=zone, actor=actor_of(ctx))
