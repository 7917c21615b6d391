"""Usage hours and accounting: the hourly rows the usage aggregation writes, the hours it has
done, who owns each compute (for APEL's user and FQAN fields), the FQAN a federated user was
last mapped by, and two columns of usage intervals (a VM's offering, a public address's compute).

Revision ID: a41c9e07d3b8
Revises: 5e0c7a3b9d41
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = 'a41c9e07d3b8'
down_revision = '5e0c7a3b9d41'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offering', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('compute_id', sa.String(length=80), nullable=True))
    with op.batch_alter_table('federated_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fqan', sa.String(length=512), nullable=True))
    op.create_table(
        'usage_hours',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('hour', sa.DateTime(), nullable=False),
        sa.Column('usage_type', sa.String(length=16), nullable=False),
        sa.Column('resource_id', sa.String(length=80), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('zone_id', sa.Integer(), nullable=True),
        sa.Column('offering', sa.String(length=64), nullable=True),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('cores', sa.Integer(), nullable=True),
        sa.Column('memory_gib', sa.Float(), nullable=True),
        sa.Column('size_gib', sa.Float(), nullable=True),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('gib_hours', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_usage_hours_project_id_projects'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_hours')),
        sa.UniqueConstraint('hour', 'usage_type', 'resource_id',
                            name=op.f('uq_usage_hours_hour_usage_type_resource_id')),
    )
    with op.batch_alter_table('usage_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_hours_hour'), ['hour'], unique=False)
        batch_op.create_index('ix_usage_hours_project_hour', ['project_id', 'hour'], unique=False)
    op.create_table(
        'usage_hour_runs',
        sa.Column('hour', sa.DateTime(), nullable=False),
        sa.Column('aggregated_at', sa.DateTime(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hour', name=op.f('pk_usage_hour_runs')),
    )
    op.create_table(
        'compute_owners',
        sa.Column('vm_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('user_name', sa.String(length=64), nullable=False),
        sa.Column('global_user_name', sa.String(length=512), nullable=True),
        sa.Column('fqan', sa.String(length=512), nullable=True),
        sa.Column('machine_name', sa.String(length=255), nullable=True),
        sa.Column('disk_gib', sa.Float(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_compute_owners_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('vm_id', name=op.f('pk_compute_owners')),
    )


def downgrade() -> None:
    op.drop_table('compute_owners')
    op.drop_table('usage_hour_runs')
    with op.batch_alter_table('usage_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_hours_project_hour')
        batch_op.drop_index(batch_op.f('ix_usage_hours_hour'))
    op.drop_table('usage_hours')
    with op.batch_alter_table('federated_users', schema=None) as batch_op:
        batch_op.drop_column('fqan')
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_column('compute_id')
        batch_op.drop_column('offering')
