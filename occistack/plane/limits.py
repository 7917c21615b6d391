"""What no single project may take without an administrator's decision: site-wide limits.

* ``occistack.max_nics_per_compute`` (default 8): the most network interfaces one compute may
  have. Each interface on a public network holds a public address, so without it one create
  with hundreds of links could empty a zone's public range.
* ``occistack.default_quotas`` (default ``DEFAULT_QUOTAS`` below): the quotas a project gets when
  it is created -- by the admin API, the command line, or on a federated user's first login.
  ``resource=limit`` pairs separated by spaces or commas, resources as ``QUOTA_RESOURCES`` names
  them; empty (``occistack.default_quotas =``) gives new projects no limits. Projects that
  exist already keep what they have; an administrator changes a project's quota as always.

The settings are read here, once, by the server, the command line and the identity sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import Quota
from occistack.model.tenancy import QUOTA_RESOURCES
from occistack.plane.errors import InvalidRequest

DEFAULT_MAX_NICS_PER_COMPUTE = 8
DEFAULT_QUOTAS = "vms=20 cores=40 memory_gib=80 storage_gib=500 networks=5 public_ips=10"


class LimitSettingError(ValueError):
    """A site limit in the ini file that cannot be used (the server refuses to start)."""


@dataclass(frozen=True, slots=True)
class SiteLimits:
    max_nics_per_compute: int = DEFAULT_MAX_NICS_PER_COMPUTE
    #: resource -> limit, written for every new project.
    default_quotas: Mapping[str, float] = field(default_factory=lambda: parse_quotas(DEFAULT_QUOTAS))

    @classmethod
    def from_ini(cls, settings: Mapping[str, Any]) -> SiteLimits:
        raw_nics = str(settings.get("occistack.max_nics_per_compute", DEFAULT_MAX_NICS_PER_COMPUTE)).strip()
        if not raw_nics.isdigit() or int(raw_nics) < 1:
            raise LimitSettingError(f"occistack.max_nics_per_compute = {raw_nics!r}: a whole number, 1 or more")
        quotas = settings.get("occistack.default_quotas")
        return cls(max_nics_per_compute=int(raw_nics),
                   default_quotas=parse_quotas(DEFAULT_QUOTAS if quotas is None else str(quotas)))

    def check_nic_count(self, count: int) -> None:
        """Refuse (400) a compute that would have more than the site's interfaces per compute."""
        if count > self.max_nics_per_compute:
            raise InvalidRequest(f"a compute may have at most {self.max_nics_per_compute} network interfaces at this "
                                 f"site (occistack.max_nics_per_compute); this would give it {count}")


def parse_quotas(text: str) -> dict[str, float]:
    quotas: dict[str, float] = {}
    for pair in text.replace(",", " ").split():
        resource, equals, value = pair.partition("=")
        if not equals or resource not in QUOTA_RESOURCES:
            raise LimitSettingError(f"occistack.default_quotas: {pair!r} is not resource=limit with a resource among "
                                    f"{', '.join(QUOTA_RESOURCES)}")
        try:
            limit = float(value)
        except ValueError:
            limit = -1.0
        whole = not QUOTA_RESOURCES[resource].startswith("GiB")
        if not 0 <= limit < 1e15 or (whole and limit != int(limit)):
            raise LimitSettingError(f"occistack.default_quotas: the limit of {resource} must be a "
                                    f"{'whole ' if whole else ''}number, 0 or more; got {value!r}")
        quotas[resource] = limit
    return quotas


def apply_default_quotas(session: Session, project_id: int, quotas: Mapping[str, float]) -> None:
    """Give a new project the site's default quotas (a limit it already has stays)."""
    present = set(session.scalars(select(Quota.resource).where(Quota.project_id == project_id)))
    for resource, limit in quotas.items():
        if resource not in present:
            session.add(Quota(project_id=project_id, resource=resource, limit=float(limit)))
    session.flush()
