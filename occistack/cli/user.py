"""``occistack user``: local users (HTTP Basic), each working in one project."""

from __future__ import annotations

import click
from sqlalchemy import select

from occistack.model import ROLES, Project
from occistack.plane import admin
from occistack.cli.base import OrderedGroup, document, fail, json_option, print_rows, run, settings_of, site_limits


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
    minimum = _password_min_length()
    quotas = site_limits().default_quotas

    def work(session, actor):
        existed = session.scalar(select(Project.id).where(Project.name == project_name)) is not None
        admin.create_user(session, name=name, password=password, project=project_name, account=account, role=role,
                          create_project=create_project, domain=domain, password_min_length=minimum,
                          project_quotas=quotas, actor=actor)
        return not existed

    if run(work):
        click.echo(f"created project {project_name}")
    click.echo(f"created user {name} in project {project_name}")


@user.command("password")
@click.argument("name")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (give it here only in scripts).")
def user_password(name: str, password: str) -> None:
    """Give a user a new password (at least occistack.password_min_length characters)."""
    minimum = _password_min_length()
    run(lambda session, actor: admin.set_user_password(session, name, password=password,
                                                       password_min_length=minimum, actor=actor))
    click.echo(f"user {name} has a new password")


def _password_min_length() -> int:
    try:
        return admin.password_min_length_of(settings_of(click.get_current_context().obj["config"]))
    except ValueError as wrong:
        fail(str(wrong))
    raise AssertionError("unreachable")  # pragma: no cover - fail() exits


@user.command("list")
@click.option("--project", help="Only this project's.")
@json_option
def user_list(project: str | None, as_json: bool) -> None:
    """List users."""
    def work(session, _actor):
        projects = {row.id: row.name for row in admin.list_projects(session)}
        accounts = {row.id: row.name for row in admin.list_accounts(session)}
        return [document(row, project=projects[row.project_id], account=accounts.get(row.account_id))
                for row in admin.list_users(session, project=project)]

    print_rows(run(work), ("id", "name", "project", "account", "role", "enabled"), as_json)


@user.command("delete")
@click.argument("name")
def user_delete(name: str) -> None:
    """Remove a user (their project and its resources stay)."""
    run(lambda session, actor: admin.remove_user(session, name, actor=actor))
    click.echo(f"removed user {name}")
