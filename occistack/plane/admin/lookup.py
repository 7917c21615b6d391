"""Finding the rows an administrator names: by id (an int) or by name (a str), inside the
parent that makes the name unique (a pod inside its zone, a cluster inside its pod).

Every finder takes the session and the reference, then the parents by keyword
(``find_pod(session, "p1", zone="z1")``), as every use case that takes them does: a parent
passed by position could be read as another (a zone as a cluster's pod)."""

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


def find_pod(session: Session, pod: Ref, *, zone: Ref | None = None) -> Pod:
    return _find_in_zone(session, Pod, pod, zone, "pod", "its pods")


def find_cluster(session: Session, cluster: Ref, *, pod: Ref | None = None, zone: Ref | None = None) -> Cluster:
    if is_id(cluster):
        found = find_row(session, Cluster, cluster, "cluster")
        _check_zone(session, found, zone, "cluster")
        if pod is not None:
            the_pod = find_pod(session, pod, zone=found.zone_id)
            if the_pod.id != found.pod_id:
                raise NotFound(f"cluster {found.name!r} is not in pod {the_pod.name!r}")
        return found
    if pod is None:
        raise InvalidRequest(f"name the pod (and zone) of cluster {cluster!r}: cluster names are unique per pod")
    the_pod = find_pod(session, pod, zone=zone)
    return find_row(session, Cluster, cluster, "cluster", where=[Cluster.pod_id == the_pod.id],
                    where_text=f" in pod {the_pod.name!r}", plural="its clusters")


def find_host(session: Session, host: Ref) -> Host:
    return find_row(session, Host, host, "host")


def find_storage_pool(session: Session, pool: Ref, *, zone: Ref | None = None) -> StoragePool:
    return _find_in_zone(session, StoragePool, pool, zone, "primary storage pool", "its primary storage pools")


def find_secondary_storage(session: Session, store: Ref, *, zone: Ref | None = None) -> SecondaryStorage:
    return _find_in_zone(session, SecondaryStorage, store, zone, "secondary storage", "its secondary stores")


def find_physical_network(session: Session, network: Ref, *, zone: Ref | None = None) -> PhysicalNetwork:
    return _find_in_zone(session, PhysicalNetwork, network, zone, "physical network", "its physical networks")


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


def find_account(session: Session, account: Ref, *, domain: Ref | None = None) -> Account:
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


def _find_in_zone(session: Session, model, ref: Ref, zone: Ref | None, what: str, plural: str):
    """A row of a zone (a pod, a pool, a store, a physical network): by id, in ``zone`` if one
    is named; by name, only in the zone named."""
    if is_id(ref):
        found = find_row(session, model, ref, what)
        _check_zone(session, found, zone, what)
        return found
    if zone is None:
        raise InvalidRequest(f"name the zone of {what} {ref!r}: its name is unique only inside its zone")
    the_zone = find_zone(session, zone)
    return find_row(session, model, ref, what, where=[model.zone_id == the_zone.id],
                    where_text=f" in zone {the_zone.name!r}", plural=plural)


def _check_zone(session: Session, row, zone: Ref | None, what: str) -> None:
    """A row named by id and a zone too: they must agree, or the caller meant something else."""
    if zone is not None:
        the_zone = find_zone(session, zone)
        if the_zone.id != row.zone_id:
            raise NotFound(f"{what} {row.name!r} is not in zone {the_zone.name!r}")
