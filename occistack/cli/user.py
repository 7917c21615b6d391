"""``occistack user``: local users (HTTP Basic), each working in one project."""

from __future__ import annotations

import click
from occistack.model import ROLES
from occistack.plane.admin.cases import users
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.users import NewPassword, NewUser, UserChanges, UserFilter
from occistack.cli.api_key import api_key
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run


@click.group(cls=OrderedGroup)
def user() -> None:
    """Local users (HTTP Basic)."""


@user.command("add")
@click.argument("name")
@click.option("--project", "project_name", required=True, help="The project the user works in.")
@click.option("--create-project", is_flag=True, help="Create the project when it does not exist yet.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (give it here only in scripts).")
@click.option("--account", help="The account the user belongs to (an account of the project's domain).")
@click.option("--domain", help="The domain of --account, when the project is created with it [default: /].")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
def user_add(name: str, project_name: str, create_project: bool, password: str, account: str | None,
             domain: str | None, role: str) -> None:
    """Add a user to a project (with --create-project, creating the project if it does not
    exist). The password needs occistack.password_min_length characters (10 unless the ini
    file says otherwise)."""
    new = NewUser(name=name, password=password, project=project_name, account=account, role=role,
                  create_project=create_project, domain=domain)
    if run(lambda ctx: users.add_user(ctx, new).project_created):
        click.echo(f"created project {project_name}")
    click.echo(f"created user {name} in project {project_name}")


@user.command("password")
@click.argument("name")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (give it here only in scripts).")
def user_password(name: str, password: str) -> None:
    """Give a user a new password (at least occistack.password_min_length characters)."""
    run(lambda ctx: users.set_user_password(ctx, name, NewPassword(password)))
    click.echo(f"user {name} has a new password")


@user.command("update")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES))
@click.option("--account", help="The account the user belongs to now (an account of the project's domain).")
@click.option("--no-account", is_flag=True, help="The user belongs to no account any more.")
def user_update(name: str, role: str | None, account: str | None, no_account: bool) -> None:
    """Change a user's role or account (their name and project stay; `user password` changes
    the password)."""
    if account is not None and no_account:
        raise click.UsageError("give --account or --no-account, not both")
    changes = UserChanges(role=or_unchanged(role), account=None if no_account else or_unchanged(account))
    run(lambda ctx: users.update_user(ctx, name, changes))
    click.echo(f"updated user {name}")


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Refuse every credential of a user: password, Keystone tokens, OIDC tokens, certificates
    (what their project owns stays)."""
    run(lambda ctx: users.act_on_user(ctx, name, Switch.DISABLE))
    click.echo(f"user {name} is disabled")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Accept a disabled user's credentials again."""
    run(lambda ctx: users.act_on_user(ctx, name, Switch.ENABLE))
    click.echo(f"user {name} is enabled")


@user.command("list")
@click.option("--project", help="Only this project's.")
@json_option
def user_list(project: str | None, as_json: bool) -> None:
    """List users."""
    def work(ctx):
        return [document(user, project=user.project_name, account=user.account_name)
                for user in users.list_users(ctx, UserFilter(project=project))]

    print_rows(run(work), ("id", "name", "project", "account", "role", "enabled"), as_json)


@user.command("delete")
@click.argument("name")
def user_delete(name: str) -> None:
    """Remove a user (their project and its resources stay)."""
    run(lambda ctx: users.remove_user(ctx, name))
    click.echo(f"removed user {name}")


user.add_command(api_key)
