"""Hosts: their BMC (IPMI) for fencing, and when HA last tried to fence them.

Revision ID: b71c3e9d04a2
Revises: e6b3e2f5ac0b
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = 'b71c3e9d04a2'
down_revision = 'e6b3e2f5ac0b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('hosts') as batch:
        batch.add_column(sa.Column('bmc_address', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('bmc_port', sa.Integer(), server_default='623', nullable=False))
        batch.add_column(sa.Column('bmc_username', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('bmc_password_sealed', sa.Text(), nullable=True))
        batch.add_column(sa.Column('fence_attempted_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('hosts') as batch:
        for column in ('fence_attempted_at', 'bmc_password_sealed', 'bmc_username', 'bmc_port', 'bmc_address'):
            batch.drop_column(column)
