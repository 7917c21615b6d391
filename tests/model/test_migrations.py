"""The migrations build exactly the schema the models describe, on both back ends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from occistack.model import Base


def test_migrated_schema_matches_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], "the models and the migrations disagree; write a migration:\n" + "\n".join(
        map(str, differences))


def test_migrations_seed_the_root_domain_and_the_generations(db_url):
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, name, path FROM domains")).all() == [(1, "ROOT", "/")]
        assert connection.execute(text("SELECT generation FROM inventory_generation WHERE id = 1")).scalar() == 0
        assert connection.execute(text("SELECT generation FROM catalog_generation WHERE id = 1")).scalar() == 0
    engine.dispose()
