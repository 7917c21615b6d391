"""``occistack ldap``: LDAP groups linked to accounts and projects, whose members become users
of the project on their first login with their directory password (occistack.ldap.* in the
ini file says where the directory is)."""

from __future__ import annotations

import click

from occistack.model import ROLES
from occistack.plane.admin.cases import ldap_links
from occistack.plane.admin.cases.ldap_links import LdapLinkFilter, NewLdapLink
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run


@click.group(cls=OrderedGroup)
def ldap() -> None:
    """LDAP groups linked to accounts and projects."""


@ldap.command("link")
@click.argument("group")
@click.option("--account", required=True, help="The account the group's users belong to (of the project's domain).")
@click.option("--project", required=True, help="The project the group's users work in.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True,
              help="What the group's users are made.")
def ldap_link(group: str, account: str, project: str, role: str) -> None:
    """Link an LDAP GROUP (its name or DN) to an account and a project: a member who signs in
    with their directory password becomes a user of the project on their first login."""
    new = NewLdapLink(group=group, account=account, project=project, role=role)
    link = run(lambda ctx: ldap_links.add_link(ctx, new))
    click.echo(f"linked LDAP group {link.group} to account {link.account_name} and project {link.project_name} "
               f"as {link.role}")


@ldap.command("list")
@click.option("--project", help="Only the links to this project.")
@click.option("--account", help="Only the links to this account.")
@json_option
def ldap_list(project: str | None, account: str | None, as_json: bool) -> None:
    """List the linked LDAP groups."""
    def work(ctx):
        return [document(link, account=link.account_name, project=link.project_name)
                for link in ldap_links.list_links(ctx, LdapLinkFilter(project=project, account=account))]

    print_rows(run(work), ("id", "group", "account", "project", "role"), as_json)


@ldap.command("unlink")
@click.argument("group")
def ldap_unlink(group: str) -> None:
    """Unlink an LDAP GROUP. The users it made stay; those no other link admits are refused from
    their next request on (running servers forget their remembered passwords at once)."""
    run(lambda ctx: ldap_links.remove_link(ctx, group))
    click.echo(f"unlinked LDAP group {group}")
