"""Records of who owns what: domains, accounts, projects (with their default networks), and the
projects' affinity groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy.orm import Session

from occistack.model import Account, AffinityGroup, Domain, Project
from occistack.plane.admin.affinity import members_counts
from occistack.plane.admin.default_networks import default_networks_of
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class DomainRecord:
    id: int
    #: None for the root.
    parent_id: int | None
    name: str
    #: "/" for the root, "/science/physics/" below it.
    path: str
    #: a disabled domain refuses the users of it and of its subdomains.
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: int
    domain_id: int
    name: str
    #: user or admin.
    kind: str
    enabled: bool
    created_at: datetime
    domain_path: str = related()


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: int
    name: str
    title: str | None
    domain_id: int
    #: the account that owns it, if any.
    account_id: int | None
    created_at: datetime
    domain_path: str = related()
    account_name: str | None = related()
    #: zone name → network id: where its computes created without a network link go.
    default_networks: Mapping[str, str] = related()


@dataclass(frozen=True, slots=True)
class AffinityGroupRecord:
    id: int
    project_id: int
    name: str
    #: host affinity or host anti-affinity.
    kind: str
    description: str | None
    created_at: datetime
    project_name: str = related()
    #: how many computes belong to it.
    members: int = related()


def domain_record(domain: Domain) -> DomainRecord:
    return from_row(DomainRecord, domain)


def account_records(session: Session, accounts: Iterable[Account]) -> list[AccountRecord]:
    accounts = list(accounts)
    paths = names_by_id(session, Domain.path, (account.domain_id for account in accounts))
    return [from_row(AccountRecord, account, domain_path=paths[account.domain_id]) for account in accounts]


def account_record(session: Session, account: Account) -> AccountRecord:
    return account_records(session, [account])[0]


def project_records(session: Session, projects: Iterable[Project]) -> list[ProjectRecord]:
    projects = list(projects)
    paths = names_by_id(session, Domain.path, (project.domain_id for project in projects))
    accounts = names_by_id(session, Account.name, (project.account_id for project in projects))
    defaults = default_networks_of(session, (project.id for project in projects))
    return [from_row(ProjectRecord, project, domain_path=paths[project.domain_id],
                     account_name=accounts.get(project.account_id), default_networks=defaults.get(project.id, {}))
            for project in projects]


def project_record(session: Session, project: Project) -> ProjectRecord:
    return project_records(session, [project])[0]


def affinity_group_records(session: Session, groups: Iterable[AffinityGroup]) -> list[AffinityGroupRecord]:
    groups = list(groups)
    projects = names_by_id(session, Project.name, (group.project_id for group in groups))
    members = members_counts(session, (group.id for group in groups))
    return [from_row(AffinityGroupRecord, group, project_name=projects[group.project_id],
                     members=members.get(group.id, 0)) for group in groups]


def affinity_group_record(session: Session, group: AffinityGroup) -> AffinityGroupRecord:
    return affinity_group_records(session, [group])[0]
