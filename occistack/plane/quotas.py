"""Quotas, enforced when a request is accepted.

The check counts what the project holds now and adds what the request asks for, with the
project's row locked (``SELECT … FOR NO KEY UPDATE`` on PostgreSQL, first of the locks a create
takes -- model/contention.py; SQLite serialises writers anyway), so two concurrent requests of
one project cannot both slip under a limit.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from occistack.model import IpAllocation, Network, Project, Quota, VirtualMachine, Volume
from occistack.model.tenancy import QUOTA_RESOURCES
from occistack.plane.errors import QuotaExceeded


def check_quota(session: Session, project_id: int, **wanted: float) -> None:
    """Refuse (QuotaExceeded) if adding ``wanted`` (resource → amount) would pass a limit."""
    limits = {resource: limit for resource, limit in _project_limits(session, project_id).items()
              if resource in wanted}
    if not limits:
        return
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update(key_share=True))
    held = usage_of(session, project_id, limits)
    for resource, limit in limits.items():
        after = held[resource] + wanted[resource]
        if after > limit:
            unit = QUOTA_RESOURCES[resource]
            raise QuotaExceeded(f"the project's quota of {limit:g} {unit} would be exceeded: it holds "
                                f"{held[resource]:g} and this asks for {wanted[resource]:g} more; delete "
                                "something or ask the site administrator for a larger quota")


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
