"""The ``occistack`` command line: database migrations, demo data and local users.

Every command reads the same ini file as the server (``-c development.ini`` by default), so a
site administrator configures the database in one place.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import transaction
from sqlalchemy import select

from .federation import hash_password
from .model import Project, User, make_engine
from .model.session import get_tm_session, make_session_factory


def _settings(config_path: str) -> dict:
    from pyramid.paster import get_appsettings, setup_logging

    setup_logging(config_path)
    return dict(get_appsettings(config_path))


@click.group()
@click.option("-c", "--config", "config_path", default="development.ini", show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The server's ini file.")
@click.pass_context
def main(context: click.Context, config_path: str) -> None:
    """Administer an occistack cloud."""
    context.obj = {"config": config_path}


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(context: click.Context) -> None:
    """Create or migrate the schema to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config_path = context.obj["config"]
    settings = _settings(config_path)
    _ensure_sqlite_directory(settings["sqlalchemy.url"])
    alembic_config = Config(config_path)
    alembic_config.attributes["url"] = settings["sqlalchemy.url"]
    command.upgrade(alembic_config, "head")


@main.command("demo")
@click.pass_context
def demo(context: click.Context) -> None:
    """Add the demo zone, templates, offerings, public network, project and user (idempotent)."""
    from .demo import seed_demo

    session = _session(context)
    with transaction.manager:
        summary = seed_demo(session)
    for item in summary.created:
        click.echo(f"created {item}")
    click.echo(f"demo credentials: user {summary.user!r}, password {summary.password!r}, "
               f"project {summary.project!r}")


@main.group()
def user() -> None:
    """Local users (HTTP Basic)."""


@user.command("add")
@click.argument("name")
@click.option("--project", "project_name", required=True, help="The project the user works in.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_context
def user_add(context: click.Context, name: str, project_name: str, password: str) -> None:
    """Add a user to a project, creating the project if it does not exist."""
    session = _session(context)
    with transaction.manager:
        if session.scalar(select(User).where(User.name == name)) is not None:
            raise click.ClickException(f"a user named {name!r} already exists; nothing was changed")
        project = session.scalar(select(Project).where(Project.name == project_name))
        if project is None:
            project = Project(name=project_name)
            session.add(project)
            session.flush()
            click.echo(f"created project {project_name}")
        session.add(User(name=name, password_hash=hash_password(password), project_id=project.id))
    click.echo(f"created user {name} in project {project_name}")


def _session(context: click.Context):
    settings = _settings(context.obj["config"])
    return get_tm_session(make_session_factory(make_engine(settings)), transaction.manager)


def _ensure_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
