"""Resource limits of accounts and domains (over all their projects), as the faces ask for them.
plane/admin/tenancy_limits.py says how they nest with the projects' quotas."""

from __future__ import annotations

from dataclasses import dataclass

from occistack.plane.admin import tenancy_limits
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import Ref
from occistack.plane.admin.lookup import find_account, find_domain
from occistack.plane.admin.records.users import LimitRecord, limit_record, limit_records
from occistack.plane.admin.users import checked_quota_limit
from occistack.plane.context import PlaneContext
from occistack.plane.errors import InvalidRequest


@dataclass(frozen=True)
class TenancyLimitOf:
    """Whose limit: an account (by id, or by name in ``domain``, the root by default), or a
    domain (by path or id) when no account is named."""

    resource: str
    domain: Ref | None = None
    account: Ref | None = None


@dataclass(frozen=True)
class NewTenancyLimit:
    """The most of ``resource`` (one of model.QUOTA_RESOURCES) the projects of an account, or of a
    domain and its subdomains, may hold together."""

    resource: str
    limit: float
    domain: Ref | None = None
    account: Ref | None = None


@dataclass(frozen=True)
class TenancyLimitFilter:
    domain: Ref | None = None
    account: Ref | None = None


@dataclass(frozen=True)
class SetTenancyLimit:
    limit: LimitRecord
    #: False when it replaced a limit of the same owner and resource.
    created: bool


def set_limit(ctx: PlaneContext, new: NewTenancyLimit) -> SetTenancyLimit:
    """Set (or replace) a limit; refused when it would exceed a limit above it or fall below a
    limit or quota beneath it."""
    limit = checked_quota_limit(new.resource, new.limit)
    domain, account = _owner(ctx, new.domain, new.account)
    row, created = tenancy_limits.set_limit(ctx.session, resource=new.resource, limit=limit, domain=domain,
                                            account=account, actor=actor_of(ctx))
    return SetTenancyLimit(limit_record(ctx.session, row), created)


def list_limits(ctx: PlaneContext, where: TenancyLimitFilter = TenancyLimitFilter()) -> list[LimitRecord]:
    domain = account = None
    if where.account is not None:
        account = find_account(ctx.session, where.account, domain=where.domain)
    elif where.domain is not None:
        domain = find_domain(ctx.session, where.domain)
    return limit_records(ctx.session, tenancy_limits.list_limits(ctx.session, domain=domain, account=account))


def show_limit(ctx: PlaneContext, limit_id: int) -> LimitRecord:
    return limit_record(ctx.session, tenancy_limits.find_limit(ctx.session, limit_id))


def clear_limit(ctx: PlaneContext, limit: int | TenancyLimitOf) -> None:
    """No limit any more; the limit named by its id, or by its owner and resource."""
    if isinstance(limit, TenancyLimitOf):
        checked_quota_limit(limit.resource, 0)
        domain, account = _owner(ctx, limit.domain, limit.account)
        row = tenancy_limits.find_limit_of(ctx.session, limit.resource, domain=domain, account=account)
    else:
        row = tenancy_limits.find_limit(ctx.session, limit)
    tenancy_limits.clear_limit(ctx.session, row, actor=actor_of(ctx))


def _owner(ctx: PlaneContext, domain: Ref | None, account: Ref | None):
    if account is not None:
        return None, find_account(ctx.session, account, domain=domain)
    if domain is None:
        raise InvalidRequest("name the domain or the account whose projects the limit is for")
    return find_domain(ctx.session, domain), None
