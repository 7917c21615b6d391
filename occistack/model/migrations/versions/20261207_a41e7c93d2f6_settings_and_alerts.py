"""Global settings changed at run time, and alerts for the operator.

``global_settings`` keeps the settings an administrator changed (a setting without a row has
the ini file's value); ``alerts`` keeps what asks for an operator's attention until it is
cleared, at most one per kind and resource.

Revision ID: a41e7c93d2f6
Revises: 5e0c2b7d9a41
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'a41e7c93d2f6'
down_revision = '5e0c2b7d9a41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'global_settings',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=256), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_global_settings')),
    )
    op.create_table(
        'alerts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('resource_type', sa.String(length=32), nullable=False),
        sa.Column('resource_id', sa.String(length=80), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    )
    op.create_index('uq_alerts_kind_resource', 'alerts', ['kind', 'resource_type', 'resource_id'], unique=True)
    op.create_index(op.f('ix_alerts_created_at'), 'alerts', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alerts_created_at'), table_name='alerts')
    op.drop_index('uq_alerts_kind_resource', table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('global_settings')
