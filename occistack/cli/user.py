"""``occistack user``: local users (HTTP Basic), each working in one project."""

from __future__ import annotations

import click
from sqlalchemy import select

from ..model import ROLES, Project
from ..orchestrator import admin
from .base import OrderedGroup, document, json_option, print_rows, run, site_limits


@click.group(cls=OrderedGroup)
def user() -> None:
    """Local users (HTTP Basic)."""


@user.command("add")
@click.argument("name")
@click.option("--project", "project_name", required=True, help="The project the user works in.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (give it here only in scripts).")
@click.option("--account", help="The account the user belongs to (an account of the project's domain).")
@click.option("--domain", help="The domain of --account, when the project is created with it [default: /].")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
def user_add(name: str, project_name: str, password: str, account: str | None, domain: str | None,
             role: str) -> None:
    """Add a user to a project, creating the project if it does not exist."""
    quotas = site_limits().default_quotas

    def work(session, actor):
        created_project = False
        project = session.scalar(select(Project).where(Project.name == project_name))
        if project is None:
            project = admin.create_project(session, name=project_name, domain=domain, account=account,
                                           quotas=quotas, actor=actor)
            created_project = True
        admin.create_user(session, name=name, password=password, project=project.id, account=account, role=role,
                          actor=actor)
        return created_project

    if run(work):
        click.echo(f"created project {project_name}")
    click.echo(f"created user {name} in project {project_name}")


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
