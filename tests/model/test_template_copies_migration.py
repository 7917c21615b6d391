"""The migration to per-zone template copies keeps every template where it was: a template in
a zone's secondary storage becomes one copy in that zone (with its state, and its reason when
it failed); one without secondary storage, deployable anywhere before, a ready copy in every
zone. Downgrading gives each template back its first copy's place. On both back ends, with
computes referring to the templates (SQLite rebuilds the table under them)."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from tests.conftest import PG_SERVER, ROOT, missing_component

BEFORE = "c4d81f2a9e57"
AFTER = "c32fd6ade728"


def _config(url: str) -> Config:
    config = Config(str(ROOT / "development.ini"))
    config.attributes["url"] = url
    return config


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'copies.sqlite'}"
        return
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    name = f"occistack_copies_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - no server: skip (fail under CI)
        admin.dispose()
        missing_component(f"PostgreSQL is not reachable at {PG_SERVER}: {error.__class__.__name__}")
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _rows(url: str, statement: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(statement))]
    finally:
        engine.dispose()


def test_templates_become_copies_in_their_zones_and_back(empty_database):
    url = empty_database
    command.upgrade(_config(url), BEFORE)
    engine = create_engine(url)
    with engine.begin() as connection:
        run = connection.execute
        run(text("INSERT INTO zones (id, name, enabled, network_type, guest_cidr, created_at) VALUES "
                 "(1, 'zone1', true, 'advanced', '10.1.1.0/24', '2026-12-01'), "
                 "(2, 'zone2', true, 'advanced', '10.1.1.0/24', '2026-12-01')"))
        run(text("INSERT INTO secondary_storage (id, zone_id, name, url, capacity_gib, used_gib, enabled, created_at) "
                 "VALUES (1, 2, 'secondary2', 'nfs://s/e', 10, 2, true, '2026-12-01')"))
        template = ("INSERT INTO os_templates (id, term, architecture, size_gib, min_cores, min_memory_gib, "
                    "extra_attributes, format, state, description, created_at, secondary_storage_id, secondary_path) "
                    "VALUES ")
        run(text(template + "(1, 'in-zone2', 'x64', 2, 1, 1, '{}', 'template', 'ready', NULL, '2026-12-01', 1, "
                 "'template/tmpl/1/in-zone2.qcow2'), "
                 "(2, 'seeded', 'x64', 2, 1, 1, '{}', 'template', 'ready', NULL, '2026-12-01', NULL, NULL), "
                 "(3, 'broken', 'x64', 2, 1, 1, '{}', 'template', 'error', 'HTTP 404', '2026-12-01', 1, "
                 "'template/tmpl/3/broken.qcow2')"))
        # A compute made from a template: the rebuilt table must neither lose it nor be blocked by it.
        run(text("INSERT INTO entities (id, kind, created_at, updated_at) "
                 "VALUES ('vm-1', 'compute', '2026-12-01', '2026-12-01')"))
        run(text("INSERT INTO virtual_machines (id, cores, memory_gib, state, template_id) "
                 "VALUES ('vm-1', 1, 1, 'running', 1)"))
    engine.dispose()

    command.upgrade(_config(url), AFTER)
    assert _rows(url, "SELECT template_id, zone_id, secondary_storage_id, secondary_path, state, progress, "
                      "state_message FROM template_zones ORDER BY template_id, zone_id") == [
        (1, 2, 1, "template/tmpl/1/in-zone2.qcow2", "ready", 100, None),
        (2, 1, None, None, "ready", 100, None),
        (2, 2, None, None, "ready", 100, None),
        (3, 2, 1, "template/tmpl/3/broken.qcow2", "error", 0, "HTTP 404"),
    ]
    assert _rows(url, "SELECT id, term, state FROM os_templates ORDER BY id") == [
        (1, "in-zone2", "ready"), (2, "seeded", "ready"), (3, "broken", "error")]

    assert _rows(url, "SELECT id, template_id FROM virtual_machines") == [("vm-1", 1)]

    command.downgrade(_config(url), BEFORE)
    assert _rows(url, "SELECT id, secondary_storage_id, secondary_path FROM os_templates ORDER BY id") == [
        (1, 1, "template/tmpl/1/in-zone2.qcow2"), (2, None, None), (3, 1, "template/tmpl/3/broken.qcow2")]
