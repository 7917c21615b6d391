"""Bare-metal computes: offerings name their hypervisor, computes may be whole nodes.

A compute of a BareMetal offering is a whole bare-metal node (``bare_metal``) and records the
device the node boots from (``boot_device``).

Revision ID: c4d81f2a9e57
Revises: c5d81f7a2e93
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = 'c4d81f2a9e57'
down_revision = 'c5d81f7a2e93'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service_offerings') as batch:
        batch.add_column(sa.Column('hypervisor', sa.String(length=16), server_default='KVM', nullable=False))
    with op.batch_alter_table('virtual_machines') as batch:
        batch.add_column(sa.Column('bare_metal', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('boot_device', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('virtual_machines') as batch:
        batch.drop_column('boot_device')
        batch.drop_column('bare_metal')
    with op.batch_alter_table('service_offerings') as batch:
        batch.drop_column('hypervisor')
