"""Finding the rows an administrator names: by id (an int) or by name (a str), inside the
parent that makes the name unique (a pod inside its zone, a cluster inside its pod)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from occistack.model import (
    Account,
    Cluster,
    Domain,
    Host,
    PhysicalNetwork,
    Pod,
    Project,
    Region,
    SecondaryStorage,
    ServiceOffering,
    StoragePool,
    User,
    Zone,
)
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.admin.common import Ref, find_row, is_id


def find_region(session: Session, region: Ref) -> Region:
    return find_row(session, Region, region, "region")


def find_zone(session: Session, zone: Ref) -> Zone:
    return find_row(session, Zone, zone, "zone")


def find_pod(session: Session, pod: Ref, zone: Ref | None = None) -> Pod:
    if is_id(pod):
        found = find_row(session, Pod, pod, "pod")
        _check_parent(session, found, zone, "pod")
        return found
    the_zone = _required_parent(session, zone, f"pod {pod!r}", "zone", find_zone)
    return find_row(session, Pod, pod, "pod", where=[Pod.zone_id == the_zone.id],
                    where_text=f" in zone {the_zone.name!r}", plural="its pods")


def find_cluster(session: Session, cluster: Ref, pod: Ref | None = None, zone: Ref | None = None) -> Cluster:
    if is_id(cluster):
        found = find_row(session, Cluster, cluster, "cluster")
        _check_parent(session, found, zone, "cluster")
        if pod is not None:
            the_pod = find_pod(session, pod, found.zone_id)
            if the_pod.id != found.pod_id:
                raise NotFound(f"cluster {found.name!r} is not in pod {the_pod.name!r}")
        return found
    if pod is None:
        raise InvalidRequest(f"name the pod (and zone) of cluster {cluster!r}: cluster names are unique per pod")
    the_pod = find_pod(session, pod, zone)
    return find_row(session, Cluster, cluster, "cluster", where=[Cluster.pod_id == the_pod.id],
                    where_text=f" in pod {the_pod.name!r}", plural="its clusters")


def find_host(session: Session, host: Ref) -> Host:
    return find_row(session, Host, host, "host")


def find_storage_pool(session: Session, pool: Ref, zone: Ref | None = None) -> StoragePool:
    if is_id(pool):
        found = find_row(session, StoragePool, pool, "primary storage pool")
        _check_parent(session, found, zone, "primary storage pool")
        return found
    the_zone = _required_parent(session, zone, f"primary storage pool {pool!r}", "zone", find_zone)
    return find_row(session, StoragePool, pool, "primary storage pool", where=[StoragePool.zone_id == the_zone.id],
                    where_text=f" in zone {the_zone.name!r}", plural="its primary storage pools")


def find_secondary_storage(session: Session, store: Ref, zone: Ref | None = None) -> SecondaryStorage:
    if is_id(store):
        found = find_row(session, SecondaryStorage, store, "secondary storage")
        _check_parent(session, found, zone, "secondary storage")
        return found
    the_zone = _required_parent(session, zone, f"secondary storage {store!r}", "zone", find_zone)
    return find_row(session, SecondaryStorage, store, "secondary storage",
                    where=[SecondaryStorage.zone_id == the_zone.id], where_text=f" in zone {the_zone.name!r}",
                    plural="its secondary stores")


def find_physical_network(session: Session, network: Ref, zone: Ref | None = None) -> PhysicalNetwork:
    if is_id(network):
        found = find_row(session, PhysicalNetwork, network, "physical network")
        _check_parent(session, found, zone, "physical network")
        return found
    the_zone = _required_parent(session, zone, f"physical network {network!r}", "zone", find_zone)
    return find_row(session, PhysicalNetwork, network, "physical network",
                    where=[PhysicalNetwork.zone_id == the_zone.id], where_text=f" in zone {the_zone.name!r}",
                    plural="its physical networks")


def find_offering(session: Session, offering: Ref) -> ServiceOffering:
    return find_row(session, ServiceOffering, offering, "service offering", name_column=ServiceOffering.term)


def domain_path(path: str) -> str:
    """"science/physics" and "/science/physics" both mean "/science/physics/"."""
    return "/" + "/".join(part for part in path.split("/") if part) + ("/" if path.strip("/") else "")


def find_domain(session: Session, domain: Ref) -> Domain:
    if is_id(domain):
        return find_row(session, Domain, domain, "domain")
    if not isinstance(domain, str) or not domain:
        raise InvalidRequest("name the domain by its path (like /science/physics/) or id")
    return find_row(session, Domain, domain_path(domain), "domain", name_column=Domain.path)


def find_account(session: Session, account: Ref, domain: Ref | None = None) -> Account:
    if is_id(account):
        found = find_row(session, Account, account, "account")
        if domain is not None:
            the_domain = find_domain(session, domain)
            if the_domain.id != found.domain_id:
                raise NotFound(f"account {found.name!r} is not in domain {the_domain.path}")
        return found
    the_domain = find_domain(session, domain if domain is not None else "/")
    return find_row(session, Account, account, "account", where=[Account.domain_id == the_domain.id],
                    where_text=f" in domain {the_domain.path}", plural="its accounts")


def find_project(session: Session, project: Ref) -> Project:
    return find_row(session, Project, project, "project")


def find_user(session: Session, user: Ref) -> User:
    return find_row(session, User, user, "user")


def _required_parent(session: Session, parent: Ref | None, child: str, what: str, finder):
    if parent is None:
        raise InvalidRequest(f"name the {what} of {child}: its name is unique only inside its {what}")
    return finder(session, parent)


def _check_parent(session: Session, row, zone: Ref | None, what: str) -> None:
    """A row named by id and a zone too: they must agree, or the caller meant something else."""
    if zone is not None:
        the_zone = find_zone(session, zone)
        if the_zone.id != row.zone_id:
            raise NotFound(f"{what} {row.name!r} is not in zone {the_zone.name!r}")
