"""Recurring snapshot policies; a snapshot remembers the policy that took it.

Revision ID: 7c2e5a90d1f4
Revises: 5b8e0d2c7a14
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '7c2e5a90d1f4'
down_revision = '5b8e0d2c7a14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'snapshot_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('volume_id', sa.String(length=64), nullable=True),
        sa.Column('vm_id', sa.String(length=64), nullable=True),
        sa.Column('interval', sa.String(length=16), nullable=False),
        sa.Column('minute', sa.Integer(), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('retention', sa.Integer(), nullable=False),
        sa.Column('next_run_at', sa.DateTime(), nullable=False),
        sa.Column('last_run_at', sa.DateTime(), nullable=True),
        sa.Column('last_message', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['volume_id'], ['volumes.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['vm_id'], ['virtual_machines.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('project_id', 'volume_id', 'vm_id', 'next_run_at'):
        op.create_index(f'ix_snapshot_policies_{column}', 'snapshot_policies', [column])
    with op.batch_alter_table('volume_snapshots') as batch:
        batch.add_column(sa.Column('policy_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_volume_snapshots_policy_id_snapshot_policies', 'snapshot_policies',
                                 ['policy_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_volume_snapshots_policy_id', ['policy_id'])


def downgrade() -> None:
    with op.batch_alter_table('volume_snapshots') as batch:
        batch.drop_index('ix_volume_snapshots_policy_id')
        batch.drop_constraint('fk_volume_snapshots_policy_id_snapshot_policies', type_='foreignkey')
        batch.drop_column('policy_id')
    op.drop_table('snapshot_policies')
