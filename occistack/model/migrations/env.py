"""Alembic environment: migrates the database named by the application's settings.

The URL comes from ``[app:main] sqlalchemy.url`` of the same ini file (so there is one place to
set it), unless ``-x url=…`` or ``OCCISTACK_DATABASE_URL`` overrides it, as tests do.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import pool

from occistack.model import Base, make_engine

config = context.config


def _database_url() -> str:
    override = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("OCCISTACK_DATABASE_URL")
    if override:
        return override
    if config.attributes.get("url"):
        return config.attributes["url"]
    from pyramid.paster import get_appsettings, setup_logging

    setup_logging(config.config_file_name)
    return get_appsettings(config.config_file_name)["sqlalchemy.url"]


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine({"sqlalchemy.url": _database_url(), "sqlalchemy.poolclass": pool.NullPool})
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    # batch mode lets later migrations ALTER tables on SQLite too (it rebuilds the table).
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
