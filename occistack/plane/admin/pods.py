"""Pods (racks sharing a management subnet) and clusters (hosts of one hypervisor sharing
primary storage): the two levels between a zone and its hosts."""

from __future__ import annotations

from ipaddress import IPv4Network

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import BARE_METAL, Cluster, Host, IpAllocation, IpRange, Pod, StoragePool, Zone
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.admin.addresses import add_management_range, gateway_of, ipv4_network
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
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
    _check_subnet_is_free(session, the_zone, network)
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


def _check_subnet_is_free(session: Session, zone: Zone, network: IPv4Network, *, pod_id: int | None = None) -> None:
    """A pod's subnet overlaps no other pod's in its zone (``pod_id``: the pod itself, whose old
    subnet does not count) and holds no public address."""
    for other in session.scalars(select(Pod).where(Pod.zone_id == zone.id, Pod.id != pod_id)):
        if IPv4Network(other.cidr).overlaps(network):
            raise Conflict(f"the pod CIDR {network} overlaps {other.cidr} of pod {other.name!r} in zone "
                           f"{zone.name!r}; the pods of a zone need subnets of their own")
    # The other side of add_ip_range's rule: no public address inside a management subnet.
    public = session.scalar(select(IpRange).where(
        IpRange.purpose == "public", IpRange.first_number <= int(network.broadcast_address),
        IpRange.last_number >= int(network.network_address)).order_by(IpRange.first_number).limit(1))
    if public is not None:
        raise Conflict(f"the pod CIDR {network} contains the public IP range {public.first_address}-"
                       f"{public.last_address}; a management subnet holds no public addresses")


def update_pod(session: Session, pod: Ref, *, zone: Ref | None = None, name=UNCHANGED, cidr=UNCHANGED,
               gateway=UNCHANGED, actor: Actor = SYSTEM) -> Pod:
    """Rename a pod (its name is only a label for administrators, unique in its zone), or give
    it another management subnet or gateway. The subnet and gateway change only while no host
    and no management IP range is in the pod: those took their addresses and gateway from the
    old ones (CloudStack's updatePod likewise refuses once addresses are in use)."""
    found = find_pod(session, pod, zone=zone)
    the_zone = session.get(Zone, found.zone_id)
    changed = {}
    if name is not UNCHANGED and name != found.name:
        check_name("pod", name)
        refuse_duplicate(session, Pod, "a pod", [Pod.zone_id == found.zone_id, Pod.name == name],
                         f"named {name!r}", f"in zone {the_zone.name!r}")
        changed["name"] = name
    if cidr is not UNCHANGED or gateway is not UNCHANGED:
        network = ipv4_network("the pod CIDR", cidr) if cidr is not UNCHANGED else IPv4Network(found.cidr)
        new_gateway = gateway if gateway is not UNCHANGED else found.gateway
        gateway_of("pod", new_gateway, network)
        if (str(network), new_gateway) != (found.cidr, found.gateway):
            _refuse_readdressing_in_use(session, found)
            _check_subnet_is_free(session, the_zone, network, pod_id=found.id)
        changed.update(cidr=str(network), gateway=new_gateway)
    apply_changes(session, found, "pod", changed, actor)
    return found


def _refuse_readdressing_in_use(session: Session, pod: Pod) -> None:
    users = {"host": count(session, Host, Host.pod_id == pod.id),
             "management IP range": count(session, IpRange, IpRange.pod_id == pod.id)}
    in_use = [f"{number} {what}{'' if number == 1 else 's'}" for what, number in users.items() if number]
    if in_use:
        raise Conflict(f"pod {pod.name!r} keeps its subnet {pod.cidr} and gateway {pod.gateway}: "
                       f"{' and '.join(in_use)} took addresses from them")


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


def update_cluster(session: Session, cluster: Ref, *, pod: Ref | None = None, zone: Ref | None = None,
                   name=UNCHANGED, hypervisor=UNCHANGED, actor: Actor = SYSTEM) -> Cluster:
    """Rename a cluster (a label for administrators, unique in its pod), or change its
    hypervisor while it has no host: each host took the cluster's hypervisor when it was added,
    and its agent runs that one."""
    found = find_cluster(session, cluster, pod=pod, zone=zone)
    changed = {}
    if name is not UNCHANGED and name != found.name:
        check_name("cluster", name)
        the_pod = session.get(Pod, found.pod_id)
        refuse_duplicate(session, Cluster, "a cluster", [Cluster.pod_id == found.pod_id, Cluster.name == name],
                         f"named {name!r}", f"in pod {the_pod.name!r}")
        changed["name"] = name
    if hypervisor is not UNCHANGED and hypervisor != found.hypervisor:
        check_choice("hypervisor", hypervisor, HYPERVISORS)
        hosts = count(session, Host, Host.cluster_id == found.id)
        if hosts:
            raise Conflict(f"cluster {found.name!r} keeps its hypervisor {found.hypervisor}: its {hosts} "
                           f"host{'' if hosts == 1 else 's'} run{'s' if hosts == 1 else ''} it")
        changed["hypervisor"] = hypervisor
    apply_changes(session, found, "cluster", changed, actor)
    return found


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

