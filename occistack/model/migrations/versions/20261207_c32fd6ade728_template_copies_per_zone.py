"""A template's copies per zone (CloudStack's template_store_ref): ``template_zones``.

Each template had one secondary storage, path and state; now each zone holding it has a copy
with its own store, path, state, download progress and size. Existing rows migrate to one copy
in the zone of their secondary storage; a template with no secondary storage (seeded ready, or
saved on a host of a zone without one) was deployable everywhere before, so it gets a ready copy
without a store in every zone.

Revision ID: c32fd6ade728
Revises: c4d81f2a9e57
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = 'c32fd6ade728'
down_revision = 'c4d81f2a9e57'
branch_labels = None
depends_on = None

_COPY_STATE = "CASE WHEN t.state IN ('ready', 'error', 'downloading') THEN t.state ELSE 'pending' END"


def _without_foreign_key_actions(work) -> None:
    """Run ``work`` with SQLite's foreign keys off: batch mode rebuilds os_templates by dropping
    it, and with them on, that drop deletes every row pointing at it first (its copies by
    CASCADE; computes would refuse it, RESTRICT). The pragma is a no-op inside a transaction,
    hence the commit around it; the references are checked before going on."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        work()
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        work()
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"rows point at rows that do not exist: {broken[:5]}")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise
    else:
        bind.exec_driver_sql("COMMIT")
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    _without_foreign_key_actions(_upgrade)


def downgrade() -> None:
    _without_foreign_key_actions(_downgrade)


def _upgrade() -> None:
    op.create_table(
        'template_zones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=False),
        sa.Column('secondary_storage_id', sa.Integer(), nullable=True),
        sa.Column('secondary_path', sa.String(length=1024), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('progress', sa.Integer(), server_default='0', nullable=False),
        sa.Column('state_message', sa.Text(), nullable=True),
        sa.Column('size_gib', sa.Float(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['template_id'], ['os_templates.id'],
                                name=op.f('fk_template_zones_template_id_os_templates'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_template_zones_zone_id_zones'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['secondary_storage_id'], ['secondary_storage.id'],
                                name=op.f('fk_template_zones_secondary_storage_id_secondary_storage'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_template_zones')),
        sa.UniqueConstraint('template_id', 'zone_id', name=op.f('uq_template_zones_template_id_zone_id')),
    )
    with op.batch_alter_table('template_zones') as batch:
        batch.create_index(batch.f('ix_template_zones_template_id'), ['template_id'], unique=False)
        batch.create_index(batch.f('ix_template_zones_zone_id'), ['zone_id'], unique=False)
        batch.create_index(batch.f('ix_template_zones_secondary_storage_id'), ['secondary_storage_id'], unique=False)
    op.execute(
        "INSERT INTO template_zones (template_id, zone_id, secondary_storage_id, secondary_path, state, progress,"
        " state_message, size_gib, created_at, updated_at)"
        f" SELECT t.id, s.zone_id, s.id, t.secondary_path, {_COPY_STATE},"
        " CASE WHEN t.state = 'ready' THEN 100 ELSE 0 END,"
        " CASE WHEN t.state = 'error' THEN t.description END, t.size_gib, t.created_at, t.created_at"
        " FROM os_templates t JOIN secondary_storage s ON s.id = t.secondary_storage_id")
    op.execute(
        "INSERT INTO template_zones (template_id, zone_id, state, progress, size_gib, created_at, updated_at)"
        f" SELECT t.id, z.id, {_COPY_STATE}, CASE WHEN t.state = 'ready' THEN 100 ELSE 0 END, t.size_gib,"
        " t.created_at, t.created_at"
        " FROM os_templates t CROSS JOIN zones z WHERE t.secondary_storage_id IS NULL")
    with op.batch_alter_table('os_templates') as batch:
        batch.drop_constraint('fk_os_templates_secondary_storage_id_secondary_storage', type_='foreignkey')
        batch.drop_column('secondary_path')
        batch.drop_column('secondary_storage_id')


def _downgrade() -> None:
    with op.batch_alter_table('os_templates') as batch:
        batch.add_column(sa.Column('secondary_storage_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('secondary_path', sa.String(length=1024), nullable=True))
        batch.create_foreign_key('fk_os_templates_secondary_storage_id_secondary_storage', 'secondary_storage',
                                 ['secondary_storage_id'], ['id'], ondelete='SET NULL')
    # Each template keeps one copy's place: its first copy in secondary storage.
    op.execute(
        "UPDATE os_templates SET secondary_storage_id = (SELECT c.secondary_storage_id FROM template_zones c"
        " WHERE c.template_id = os_templates.id AND c.secondary_storage_id IS NOT NULL ORDER BY c.id LIMIT 1),"
        " secondary_path = (SELECT c.secondary_path FROM template_zones c WHERE c.template_id = os_templates.id"
        " AND c.secondary_storage_id IS NOT NULL ORDER BY c.id LIMIT 1)")
    op.drop_table('template_zones')
