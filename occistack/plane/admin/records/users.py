"""Records of users (never their password hash), of their roles in other projects, of projects'
quotas and of the limits of accounts and domains, each with what its projects hold beside the
limit. (The limits are few: each record counts its own projects' use.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import Account, Domain, Project, ProjectMembership, Quota, TenancyLimit, User
from occistack.plane.admin.records import from_row, names_by_id, related
from occistack.plane.quotas import projects_of, usage_by_project


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    project_id: int
    account_id: int | None
    #: admin, member or reader.
    role: str
    enabled: bool
    created_at: datetime
    project_name: str = related()
    account_name: str | None = related()


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    id: int
    user_id: int
    project_id: int
    #: admin, member or reader, in that project.
    role: str
    created_at: datetime
    user_name: str = related()
    project_name: str = related()


@dataclass(frozen=True, slots=True)
class QuotaRecord:
    id: int
    project_id: int
    #: a key of model.QUOTA_RESOURCES.
    resource: str
    limit: float
    project_name: str = related()
    #: how much of the resource the project holds now, beside its limit.
    used: float = related()


@dataclass(frozen=True, slots=True)
class LimitRecord:
    """A limit over many projects: an account's, or a domain's (its subdomains' projects count)."""

    id: int
    domain_id: int | None
    account_id: int | None
    #: a key of model.QUOTA_RESOURCES.
    resource: str
    limit: float
    #: "domain /science/" or "account 'lab'".
    owner: str = related()
    #: how much of the resource its projects hold together now, beside the limit.
    used: float = related()


def user_records(session: Session, users: Iterable[User]) -> list[UserRecord]:
    users = list(users)
    projects = names_by_id(session, Project.name, (user.project_id for user in users))
    accounts = names_by_id(session, Account.name, (user.account_id for user in users))
    return [from_row(UserRecord, user, project_name=projects[user.project_id],
                     account_name=accounts.get(user.account_id)) for user in users]


def user_record(session: Session, user: User) -> UserRecord:
    return user_records(session, [user])[0]


def membership_records(session: Session, memberships: Iterable[ProjectMembership]) -> list[MembershipRecord]:
    memberships = list(memberships)
    users = names_by_id(session, User.name, (membership.user_id for membership in memberships))
    projects = names_by_id(session, Project.name, (membership.project_id for membership in memberships))
    return [from_row(MembershipRecord, membership, user_name=users[membership.user_id],
                     project_name=projects[membership.project_id]) for membership in memberships]


def membership_record(session: Session, membership: ProjectMembership) -> MembershipRecord:
    return membership_records(session, [membership])[0]


def quota_records(session: Session, quotas: Iterable[Quota]) -> list[QuotaRecord]:
    quotas = list(quotas)
    projects = names_by_id(session, Project.name, (quota.project_id for quota in quotas))
    used = usage_by_project(session, (quota.project_id for quota in quotas), {quota.resource for quota in quotas})
    return [from_row(QuotaRecord, quota, project_name=projects[quota.project_id],
                     used=used[quota.project_id][quota.resource]) for quota in quotas]


def quota_record(session: Session, quota: Quota) -> QuotaRecord:
    return quota_records(session, [quota])[0]


def limit_records(session: Session, limits: Iterable[TenancyLimit]) -> list[LimitRecord]:
    records = []
    for row in limits:
        if row.domain_id is not None:
            path = session.scalar(select(Domain.path).where(Domain.id == row.domain_id))
            owner, projects = f"domain {path}", projects_of(session, domain_path=path)
        else:
            name = session.scalar(select(Account.name).where(Account.id == row.account_id))
            owner, projects = f"account {name!r}", projects_of(session, account_id=row.account_id)
        used = sum((held[row.resource] for held in usage_by_project(session, projects, {row.resource}).values()), 0.0)
        records.append(from_row(LimitRecord, row, owner=owner, used=used))
    return records


def limit_record(session: Session, limit: TenancyLimit) -> LimitRecord:
    return limit_records(session, [limit])[0]
