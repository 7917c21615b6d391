"""``occistack membership``: the roles users hold in projects besides their home one."""

from __future__ import annotations

import click

from occistack.model import ROLES
from occistack.plane.admin.cases import users
from occistack.plane.admin.cases.users import MembershipChanges, MembershipFilter, NewMembership
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run

role_option = click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)


@click.group(cls=OrderedGroup)
def membership() -> None:
    """Users in several projects: a role in a project besides the user's home one. A request
    works in it when it names it (a Keystone token scoped to it, or the X-Auth-Project-Id
    header with HTTP Basic, OIDC or a certificate)."""


@membership.command("add")
@click.argument("user_name", metavar="USER")
@click.argument("project")
@role_option
def membership_add(user_name: str, project: str, role: str) -> None:
    """Let USER work in PROJECT with a role."""
    added = run(lambda ctx: users.add_membership(ctx, NewMembership(user=user_name, project=project, role=role)))
    click.echo(f"user {added.user_name} is {added.role} in project {added.project_name} (membership {added.id})")


@membership.command("update")
@click.argument("user_name", metavar="USER")
@click.argument("project")
@click.option("--role", type=click.Choice(ROLES), required=True)
def membership_update(user_name: str, project: str, role: str) -> None:
    """Change USER's role in PROJECT."""
    changed = run(lambda ctx: users.update_membership(ctx, (user_name, project), MembershipChanges(role=role)))
    click.echo(f"user {changed.user_name} is {changed.role} in project {changed.project_name}")


@membership.command("remove")
@click.argument("user_name", metavar="USER")
@click.argument("project")
def membership_remove(user_name: str, project: str) -> None:
    """USER no longer works in PROJECT (what they made there stays with the project)."""
    run(lambda ctx: users.remove_membership(ctx, (user_name, project)))
    click.echo(f"user {user_name} no longer works in project {project}")


@membership.command("list")
@click.option("--user", "user_name", help="Only this user's.")
@click.option("--project", help="Only this project's.")
@json_option
def membership_list(user_name: str | None, project: str | None, as_json: bool) -> None:
    """List memberships (each user's home project is shown by `occistack user list`)."""
    def work(ctx):
        return [document(found, user=found.user_name, project=found.project_name)
                for found in users.list_memberships(ctx, MembershipFilter(user=user_name, project=project))]

    print_rows(run(work), ("id", "user", "project", "role"), as_json)
