"""``occistack db``: the database schema."""

from __future__ import annotations

from pathlib import Path

import click

from occistack.cli.base import OrderedGroup, settings_of


@click.group(cls=OrderedGroup)
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(context: click.Context) -> None:
    """Create or migrate the schema to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config_path = context.obj["config"]
    settings = settings_of(config_path)
    _ensure_sqlite_directory(settings["sqlalchemy.url"])
    alembic_config = Config(config_path)
    alembic_config.attributes["url"] = settings["sqlalchemy.url"]
    command.upgrade(alembic_config, "head")


def _ensure_sqlite_directory(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
