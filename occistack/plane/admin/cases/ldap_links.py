"""LDAP group links, as the faces ask for them (plane/admin/ldap_links.py says what a link
does)."""

from __future__ import annotations

from dataclasses import dataclass

from occistack.plane.admin import ldap_links
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import Ref
from occistack.plane.admin.records.ldap_links import LdapLinkRecord, link_record, link_records
from occistack.plane.context import PlaneContext


@dataclass(frozen=True)
class NewLdapLink:
    #: the group's name (its cn, or what occistack.ldap.group_name_attribute names) or its DN.
    group: str
    #: an account of the project's domain (the project's owner, when it has one).
    account: Ref
    project: Ref
    role: str = "member"


@dataclass(frozen=True)
class LdapLinkFilter:
    project: Ref | None = None
    account: Ref | None = None


def add_link(ctx: PlaneContext, new: NewLdapLink) -> LdapLinkRecord:
    return link_record(ctx.session, ldap_links.link_group(ctx.session, group=new.group, account=new.account,
                                                          project=new.project, role=new.role, actor=actor_of(ctx)))


def list_links(ctx: PlaneContext, where: LdapLinkFilter = LdapLinkFilter()) -> list[LdapLinkRecord]:
    return link_records(ctx.session, ldap_links.list_links(ctx.session, project=where.project, account=where.account))


def show_link(ctx: PlaneContext, link: Ref) -> LdapLinkRecord:
    return link_record(ctx.session, ldap_links.find_link(ctx.session, link))


def remove_link(ctx: PlaneContext, link: Ref) -> None:
    """Unlink a group; every server forgets its users' remembered passwords when this commits."""
    ldap_links.unlink_group(ctx.session, link, actor=actor_of(ctx))
