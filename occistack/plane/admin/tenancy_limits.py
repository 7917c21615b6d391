"""Resource limits above the project (CloudStack's hierarchy): the most of a resource that an
account's projects, or a domain's and its subdomains', may hold together. plane/quotas.py
enforces them with the projects' own quotas whenever a request is accepted.

The hierarchy holds when a limit is set: a project's quota may not exceed its account's limit
or a limit of a domain above it, an account's limit a limit of its domain or above, and a
domain's limit a limit above it; nor may a domain's limit be set below a limit of an account or
a domain beneath it. Projects' quotas do not hold a limit above them up: every project starts
with the site's default quotas (occistack.default_quotas), and what counts is that a request is
refused when it would pass any limit, which plane/quotas.py sees to.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from occistack.model import Account, Domain, Project, TenancyLimit
from occistack.model.tenancy import QUOTA_RESOURCES
from occistack.plane.admin.common import SYSTEM, Actor, record_change
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.quotas import domain_paths_above


def set_limit(session: Session, *, resource: str, limit: float, domain: Domain | None = None,
              account: Account | None = None, actor: Actor = SYSTEM) -> tuple[TenancyLimit, bool]:
    """The most of ``resource`` the projects of ``account`` (or of ``domain`` and below) may hold
    together, replacing any earlier limit; and whether it is new."""
    if (domain is None) == (account is None):
        raise InvalidRequest("a limit is of a domain or of an account: name one of them")
    owner_column = TenancyLimit.domain_id if domain is not None else TenancyLimit.account_id
    owner = domain if domain is not None else account
    label = f"domain {domain.path}" if domain is not None else f"account {account.name!r}"
    check_within_hierarchy(session, resource, limit, label, above=_ceilings(session, resource, domain, account),
                           below=_floors(session, resource, domain, account))
    row = session.scalar(select(TenancyLimit).where(owner_column == owner.id, TenancyLimit.resource == resource))
    created = row is None
    if created:
        row = TenancyLimit(domain_id=domain.id if domain else None, account_id=account.id if account else None,
                           resource=resource, limit=limit)
        session.add(row)
    else:
        row.limit = limit
    session.flush()
    record_change(session, actor, "limit.set", "limit", row.id,
                  f"{label}'s projects may hold {limit:g} {QUOTA_RESOURCES[resource]} together")
    return row, created


def clear_limit(session: Session, row: TenancyLimit, *, actor: Actor = SYSTEM) -> None:
    label = owner_label(session, row)
    session.delete(row)
    session.flush()
    record_change(session, actor, "limit.clear", "limit", row.id, f"{label} has no {row.resource} limit now")


def find_limit(session: Session, limit_id: int) -> TenancyLimit:
    row = session.get(TenancyLimit, limit_id)
    if row is None:
        raise NotFound(f"no limit with id {limit_id}")
    return row


def find_limit_of(session: Session, resource: str, *, domain: Domain | None = None,
                  account: Account | None = None) -> TenancyLimit:
    column, owner = (TenancyLimit.domain_id, domain) if domain is not None else (TenancyLimit.account_id, account)
    row = session.scalar(select(TenancyLimit).where(column == owner.id, TenancyLimit.resource == resource))
    if row is None:
        label = f"domain {domain.path}" if domain is not None else f"account {account.name!r}"
        raise NotFound(f"{label} has no {resource} limit")
    return row


def list_limits(session: Session, *, domain: Domain | None = None, account: Account | None = None) -> list[TenancyLimit]:
    # The domains' first, then the accounts' (NULLs sort differently from one database to another).
    query = select(TenancyLimit).order_by(TenancyLimit.domain_id.is_(None), TenancyLimit.domain_id,
                                          TenancyLimit.account_id, TenancyLimit.resource)
    if domain is not None:
        query = query.where(TenancyLimit.domain_id == domain.id)
    if account is not None:
        query = query.where(TenancyLimit.account_id == account.id)
    return list(session.scalars(query))


def owner_label(session: Session, row: TenancyLimit) -> str:
    if row.domain_id is not None:
        return f"domain {session.get(Domain, row.domain_id).path}"
    return f"account {session.get(Account, row.account_id).name!r}"


# --- the hierarchy ------------------------------------------------------------------------------------

def check_within_hierarchy(session: Session, resource: str, limit: float, label: str, *,
                           above: list[tuple[float, str]], below: list[tuple[float, str]]) -> None:
    """Conflict when ``limit`` would exceed a limit above it or fall below one beneath it."""
    unit = QUOTA_RESOURCES[resource]
    for ceiling, whose in above:
        if limit > ceiling:
            raise Conflict(f"{label} may not hold more than {whose}: {limit:g} {unit} is above its limit of "
                           f"{ceiling:g}; raise that limit first, or ask for less")
    for floor, whose in below:
        if limit < floor:
            raise Conflict(f"{label}'s limit may not be below that of {whose}: {limit:g} {unit} is less than "
                           f"{floor:g}; lower that one first")


def ceilings_of_project(session: Session, project: Project, resource: str) -> list[tuple[float, str]]:
    """The limits on ``resource`` above a project: its account's and its domains'."""
    account = session.get(Account, project.account_id) if project.account_id is not None else None
    return _ceilings(session, resource, None, account, domain_of_project=session.get(Domain, project.domain_id))


def _ceilings(session: Session, resource: str, domain: Domain | None, account: Account | None, *,
              domain_of_project: Domain | None = None) -> list[tuple[float, str]]:
    if domain is not None:
        paths = domain_paths_above(domain.path)[:-1]  # strictly above
    else:
        home = domain_of_project if domain_of_project is not None else session.get(Domain, account.domain_id)
        paths = domain_paths_above(home.path)
    found = [(row.limit, f"domain {row.path}") for row in session.execute(
        select(TenancyLimit.limit, Domain.path).join(Domain, Domain.id == TenancyLimit.domain_id)
        .where(Domain.path.in_(paths), TenancyLimit.resource == resource))]
    if domain_of_project is not None and account is not None:
        found += [(value, f"account {account.name!r}") for value in session.scalars(
            select(TenancyLimit.limit).where(TenancyLimit.account_id == account.id, TenancyLimit.resource == resource))]
    return found


def _floors(session: Session, resource: str, domain: Domain | None, account: Account | None) -> list[tuple[float, str]]:
    """The largest limits on ``resource`` already set beneath a domain: its subdomains' and its
    accounts'. (Projects' quotas are not floors: every project starts with the site's default
    quotas, which would forbid any lower limit above them; the limit above is enforced anyway.)"""
    if domain is None:
        return []
    subtree = select(Domain.id).where(Domain.path.startswith(domain.path, autoescape=True))
    below_domains = select(func.max(TenancyLimit.limit)).where(
        TenancyLimit.resource == resource, TenancyLimit.domain_id.in_(subtree), TenancyLimit.domain_id != domain.id)
    below_accounts = select(func.max(TenancyLimit.limit)).join(Account, Account.id == TenancyLimit.account_id) \
        .where(TenancyLimit.resource == resource, Account.domain_id.in_(subtree))
    floors = [(session.scalar(below_domains), "a domain below it"), (session.scalar(below_accounts), "an account in it")]
    return [(value, whose) for value, whose in floors if value is not None]
