"""Pods (racks sharing a management subnet) and clusters (hosts of one hypervisor sharing
primary storage): the two levels between a zone and its hosts."""

from __future__ import annotations

from ipaddress import IPv4Network

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import BARE_METAL, Cluster, Host, IpAllocation, IpRange, Pod, StoragePool
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.admin.addresses import add_management_range, gateway_of, ipv4_network
from occistack.plane.admin.common import (
    SYSTEM,
    Actor,
    Ref,
    check_choice,
    check_name,
    count,
    record_change,
    refuse_duplicate,
    refuse_if_used,
    set_enabled,
)
from occistack.plane.admin.lookup import find_cluster, find_pod, find_zone

HYPERVISORS = ("KVM", BARE_METAL)


def create_pod(session: Session, *, zone: Ref, name: str, cidr: str, gateway: str,
               management_first: str | None = None, management_last: str | None = None,
               actor: Actor = SYSTEM) -> Pod:
    """A pod with its management subnet and, when given, the management IP range inside it."""
    the_zone = find_zone(session, zone)
    check_name("pod", name)
    network = ipv4_network("the pod CIDR", cidr)
    gateway_of("pod", gateway, network)
    refuse_duplicate(session, Pod, "a pod", [Pod.zone_id == the_zone.id, Pod.name == name],
                     f"named {name!r}", f"in zone {the_zone.name!r}")
    for other in session.scalars(select(Pod).where(Pod.zone_id == the_zone.id)):
        if IPv4Network(other.cidr).overlaps(network):
            raise Conflict(f"the pod CIDR {network} overlaps {other.cidr} of pod {other.name!r} in zone "
                           f"{the_zone.name!r}; the pods of a zone need subnets of their own")
    # The other side of add_ip_range's rule: no public address inside a management subnet.
    public = session.scalar(select(IpRange).where(
        IpRange.purpose == "public", IpRange.first_number <= int(network.broadcast_address),
        IpRange.last_number >= int(network.network_address)).order_by(IpRange.first_number).limit(1))
    if public is not None:
        raise Conflict(f"the pod CIDR {network} contains the public IP range {public.first_address}-"
                       f"{public.last_address}; a management subnet holds no public addresses")
    if (management_first is None) != (management_last is None):
        raise InvalidRequest("a management IP range needs both its first and its last address (like "
                             "10.0.1.10-10.0.1.50)")
    pod = Pod(zone_id=the_zone.id, name=name, cidr=str(network), gateway=gateway)
    session.add(pod)
    session.flush()
    record_change(session, actor, "pod.create", "pod", pod.id, f"pod {name!r} ({network}) in zone {the_zone.name!r}")
    if management_first is not None:
        add_management_range(session, pod, management_first, management_last, actor=actor)  # type: ignore[arg-type]
    return pod


def list_pods(session: Session, *, zone: Ref | None = None) -> list[Pod]:
    query = select(Pod).order_by(Pod.zone_id, Pod.name)
    if zone is not None:
        query = query.where(Pod.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


def enable_pod(session: Session, pod: Ref, *, zone: Ref | None = None, actor: Actor = SYSTEM) -> Pod:
    return set_enabled(session, find_pod(session, pod, zone=zone), "pod", True, actor)


def disable_pod(session: Session, pod: Ref, *, zone: Ref | None = None, actor: Actor = SYSTEM) -> Pod:
    return set_enabled(session, find_pod(session, pod, zone=zone), "pod", False, actor)


def remove_pod(session: Session, pod: Ref, *, zone: Ref | None = None, actor: Actor = SYSTEM) -> None:
    """A pod goes with its management ranges, which were made with it; not while anything else
    is in it or any of those addresses is in use."""
    found = find_pod(session, pod, zone=zone)
    ranges = list(session.scalars(select(IpRange).where(IpRange.pod_id == found.id)))
    refuse_if_used(f"pod {found.name!r}", {
        "cluster": count(session, Cluster, Cluster.pod_id == found.id),
        "host": count(session, Host, Host.pod_id == found.id),
        "primary storage pool": count(session, StoragePool, StoragePool.pod_id == found.id),
        "allocated management address": count(session, IpAllocation,
                                               IpAllocation.range_id.in_([r.id for r in ranges])) if ranges else 0,
    })
    for ip_range in ranges:
        session.delete(ip_range)
    # Without ORM relationships the unit of work does not order these deletes: children first.
    session.flush()
    session.delete(found)
    session.flush()
    record_change(session, actor, "pod.remove", "pod", found.id, f"pod {found.name!r}")


def create_cluster(session: Session, *, pod: Ref, name: str, hypervisor: str = "KVM", zone: Ref | None = None,
                   actor: Actor = SYSTEM) -> Cluster:
    the_pod = find_pod(session, pod, zone=zone)
    check_name("cluster", name)
    check_choice("hypervisor", hypervisor, HYPERVISORS)
    refuse_duplicate(session, Cluster, "a cluster", [Cluster.pod_id == the_pod.id, Cluster.name == name],
                     f"named {name!r}", f"in pod {the_pod.name!r}")
    cluster = Cluster(zone_id=the_pod.zone_id, pod_id=the_pod.id, name=name, hypervisor=hypervisor)
    session.add(cluster)
    session.flush()
    record_change(session, actor, "cluster.create", "cluster", cluster.id,
                  f"{hypervisor} cluster {name!r} in pod {the_pod.name!r}")
    return cluster


def list_clusters(session: Session, *, zone: Ref | None = None, pod: Ref | None = None) -> list[Cluster]:
    query = select(Cluster).order_by(Cluster.zone_id, Cluster.pod_id, Cluster.name)
    if pod is not None:
        query = query.where(Cluster.pod_id == find_pod(session, pod, zone=zone).id)
    elif zone is not None:
        query = query.where(Cluster.zone_id == find_zone(session, zone).id)
    return list(session.scalars(query))


def enable_cluster(session: Session, cluster: Ref, *, pod: Ref | None = None, zone: Ref | None = None,
                   actor: Actor = SYSTEM) -> Cluster:
    return set_enabled(session, find_cluster(session, cluster, pod=pod, zone=zone), "cluster", True, actor)


def disable_cluster(session: Session, cluster: Ref, *, pod: Ref | None = None, zone: Ref | None = None,
                    actor: Actor = SYSTEM) -> Cluster:
    return set_enabled(session, find_cluster(session, cluster, pod=pod, zone=zone), "cluster", False, actor)


def remove_cluster(session: Session, cluster: Ref, *, pod: Ref | None = None, zone: Ref | None = None,
                   actor: Actor = SYSTEM) -> None:
    found = find_cluster(session, cluster, pod=pod, zone=zone)
    refuse_if_used(f"cluster {found.name!r}", {
        "host": count(session, Host, Host.cluster_id == found.id),
        "primary storage pool": count(session, StoragePool, StoragePool.cluster_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "cluster.remove", "cluster", found.id, f"cluster {found.name!r}")

