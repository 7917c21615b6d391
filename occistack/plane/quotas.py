"""Quotas, enforced when a request is accepted: the project's own, and the limits over many
projects above it -- its account's, its domain's and those of the domains above (CloudStack's
hierarchy of resource limits; plane/admin/tenancy_limits.py sets them).

The check counts what the project holds now and adds what the request asks for, with the
project's row locked (``SELECT … FOR NO KEY UPDATE`` on PostgreSQL, first of the locks a create
takes -- model/contention.py; SQLite serialises writers anyway), so two concurrent requests of
one project cannot both slip under a limit; when a limit above counts too, the rows of the
domains and the account that hold one are locked before the project's, from the top down, so
that two projects' requests cannot both slip under their account's or domain's limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from occistack.model import Account, Domain, IpAllocation, Network, Project, Quota, TenancyLimit, VirtualMachine, Volume
from occistack.model.tenancy import QUOTA_RESOURCES
from occistack.plane.errors import QuotaExceeded


def check_quota(session: Session, project_id: int, **wanted: float) -> None:
    """Refuse (QuotaExceeded) if adding ``wanted`` (resource → amount) would pass a limit: the
    project's quota, its account's limit or a limit of its domain or of a domain above it."""
    limits = {resource: limit for resource, limit in _project_limits(session, project_id).items()
              if resource in wanted}
    above = [limit for limit in limits_above(session, project_id) if limit.resource in wanted]
    if not limits and not above:
        return
    # Parents before children: the domains from the top, the account, then the project.
    owners = sorted({(limit.order, limit.owner_kind, limit.owner_id) for limit in above})
    for _, kind, owner_id in owners:
        table = Domain if kind == "domain" else Account
        session.execute(select(table.id).where(table.id == owner_id).with_for_update(key_share=True))
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))
    if limits:
        held = usage_of(session, project_id, limits)
        for resource, limit in limits.items():
            _refuse_beyond("the project's quota", limit, resource, held[resource], wanted[resource])
    for limit in above:
        held = _usage_of_owner(session, limit)
        _refuse_beyond(f"the limit of {limit.owner_label}", limit.limit, limit.resource, held, wanted[limit.resource])


def _refuse_beyond(whose: str, limit: float, resource: str, held: float, wanted: float) -> None:
    if held + wanted > limit:
        own = whose == "the project's quota"
        raise QuotaExceeded(f"{whose} of {limit:g} {QUOTA_RESOURCES[resource]} would be exceeded: "
                            f"{'it holds' if own else 'its projects hold'} {held:g} and this asks for {wanted:g} "
                            f"more; delete something or ask the site administrator for a larger "
                            f"{'quota' if own else 'limit'}")


@dataclass(frozen=True, slots=True)
class LimitAbove:
    """A limit over many projects that one project's requests count against."""

    owner_kind: str  # "domain" or "account"
    owner_id: int
    owner_label: str
    #: the order locks are taken in: domains from the top (by depth), then the account.
    order: int
    resource: str
    limit: float
    domain_path: str | None


def limits_above(session: Session, project_id: int) -> list[LimitAbove]:
    """The limits of the project's account and of its domain and every domain above it, read
    once per transaction."""
    cache = session.info.setdefault("occistack.cache.limits_above", {})
    if project_id in cache:
        return cache[project_id]
    project = session.execute(select(Project.account_id, Domain.path).join(Domain, Domain.id == Project.domain_id)
                              .where(Project.id == project_id)).one_or_none()
    found: list[LimitAbove] = []
    if project is not None:
        paths = domain_paths_above(project.path)
        for row in session.execute(select(TenancyLimit.resource, TenancyLimit.limit, Domain.id, Domain.path)
                                   .join(Domain, Domain.id == TenancyLimit.domain_id).where(Domain.path.in_(paths))):
            found.append(LimitAbove("domain", row.id, f"domain {row.path}", row.path.count("/"), row.resource,
                                    row.limit, row.path))
        if project.account_id is not None:
            for row in session.execute(select(TenancyLimit.resource, TenancyLimit.limit, Account.name)
                                       .join(Account, Account.id == TenancyLimit.account_id)
                                       .where(TenancyLimit.account_id == project.account_id)):
                found.append(LimitAbove("account", project.account_id, f"account {row.name!r}", 10_000,
                                        row.resource, row.limit, None))
    cache[project_id] = found
    return found


def domain_paths_above(path: str) -> list[str]:
    """"/a/b/" → ["/", "/a/", "/a/b/"]: the domain and every one above it."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "".join(f"{part}/" for part in parts[:depth]) for depth in range(len(parts) + 1)]


def projects_of(session: Session, *, account_id: int | None = None, domain_path: str | None = None) -> list[int]:
    """The ids of an account's projects, or of the projects of a domain and its subdomains."""
    if account_id is not None:
        return list(session.scalars(select(Project.id).where(Project.account_id == account_id)))
    return list(session.scalars(select(Project.id).join(Domain, Domain.id == Project.domain_id)
                                .where(Domain.path.startswith(domain_path, autoescape=True))))


def _usage_of_owner(session: Session, limit: LimitAbove) -> float:
    if limit.owner_kind == "account":
        ids = projects_of(session, account_id=limit.owner_id)
    else:
        ids = projects_of(session, domain_path=limit.domain_path)
    return sum((held[limit.resource] for held in usage_by_project(session, ids, {limit.resource}).values()), 0.0)


_LIMITS = select(Quota.resource, Quota.limit).where(Quota.project_id == bindparam("project"))


def _project_limits(session: Session, project_id: int) -> dict[str, float]:
    """The project's limits, read once per transaction (a create checks several)."""
    cache = session.info.setdefault("occistack.cache.quota_limits", {})
    if project_id not in cache:
        cache[project_id] = dict(session.execute(_LIMITS, {"project": project_id}).all())
    return cache[project_id]


def usage_of(session: Session, project_id: int, resources) -> dict[str, float]:
    """What the project holds of each resource (only those asked for are counted)."""
    held: dict[str, float] = {}
    if {"vms", "cores", "memory_gib"} & set(resources):
        count, cores, memory = session.execute(
            select(func.count(), func.coalesce(func.sum(VirtualMachine.cores), 0),
                   func.coalesce(func.sum(VirtualMachine.memory_gib), 0.0))
            .where(VirtualMachine.project_id == project_id)).one()
        held.update(vms=count, cores=cores, memory_gib=memory)
    if {"volumes", "storage_gib"} & set(resources):
        count, size = session.execute(
            select(func.count(), func.coalesce(func.sum(Volume.size_gib), 0.0))
            .where(Volume.project_id == project_id)).one()
        held.update(volumes=count, storage_gib=size)
    if "storage_gib" in resources:
        # Root disks count too: placement writes each VM's root disk size when it reserves the
        # pool, and sets it back to 0 when the VM lets go of it.
        held["storage_gib"] += session.scalar(select(func.coalesce(func.sum(VirtualMachine.root_disk_gib), 0.0))
                                              .where(VirtualMachine.project_id == project_id))
    if "networks" in resources:
        held["networks"] = session.scalar(select(func.count(Network.id)).where(Network.project_id == project_id))
    if "public_ips" in resources:
        held["public_ips"] = session.scalar(select(func.count()).select_from(IpAllocation)
                                            .where(IpAllocation.project_id == project_id,
                                                   IpAllocation.nic_id.is_not(None)))
    return {resource: float(held.get(resource, 0)) for resource in resources}


def usage_by_project(session: Session, project_ids, resources) -> dict[int, dict[str, float]]:
    """What each of ``project_ids`` holds of each of ``resources``, in one grouped query per kind
    of row (for listings that show use beside each limit)."""
    ids, resources = sorted(set(project_ids)), set(resources)
    held: dict[int, dict[str, float]] = {project_id: dict.fromkeys(resources, 0.0) for project_id in ids}
    if not ids or not resources:
        return held

    def add(query, names) -> None:
        for project_id, *values in session.execute(query):
            for name, value in zip(names, values):
                if name in resources:
                    held[project_id][name] += float(value or 0)

    if {"vms", "cores", "memory_gib", "storage_gib"} & resources:
        add(select(VirtualMachine.project_id, func.count(), func.sum(VirtualMachine.cores),
                   func.sum(VirtualMachine.memory_gib), func.sum(VirtualMachine.root_disk_gib))
            .where(VirtualMachine.project_id.in_(ids)).group_by(VirtualMachine.project_id),
            ("vms", "cores", "memory_gib", "storage_gib"))
    if {"volumes", "storage_gib"} & resources:
        add(select(Volume.project_id, func.count(), func.sum(Volume.size_gib))
            .where(Volume.project_id.in_(ids)).group_by(Volume.project_id), ("volumes", "storage_gib"))
    if "networks" in resources:
        add(select(Network.project_id, func.count(Network.id))
            .where(Network.project_id.in_(ids)).group_by(Network.project_id), ("networks",))
    if "public_ips" in resources:
        add(select(IpAllocation.project_id, func.count())
            .where(IpAllocation.project_id.in_(ids), IpAllocation.nic_id.is_not(None))
            .group_by(IpAllocation.project_id), ("public_ips",))
    return held
