"""Records of users (never their password hash), of their roles in other projects, and of
projects' quotas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import Account, Project, ProjectMembership, Quota, User
from occistack.plane.admin.records import from_row, names_by_id, related


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
    return [from_row(QuotaRecord, quota, project_name=projects[quota.project_id]) for quota in quotas]


def quota_record(session: Session, quota: Quota) -> QuotaRecord:
    return quota_records(session, [quota])[0]
