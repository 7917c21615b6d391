"""Records of LDAP group links, with the names of the account and project each links to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import Account, LdapGroupLink, Project
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class LdapLinkRecord:
    id: int
    #: the group's name or DN, as the administrator wrote it.
    group: str
    account_id: int
    project_id: int
    #: what the group's users are made: admin, member or reader.
    role: str
    created_at: datetime
    account_name: str = related()
    project_name: str = related()


def link_records(session: Session, links: Iterable[LdapGroupLink]) -> list[LdapLinkRecord]:
    links = list(links)
    accounts = names_by_id(session, Account.name, (link.account_id for link in links))
    projects = names_by_id(session, Project.name, (link.project_id for link in links))
    return [from_row(LdapLinkRecord, link, account_name=accounts[link.account_id],
                     project_name=projects[link.project_id]) for link in links]


def link_record(session: Session, link: LdapGroupLink) -> LdapLinkRecord:
    return link_records(session, [link])[0]
