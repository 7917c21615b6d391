"""Job workers' heartbeats: ``job_workers``, one row per worker that has run lately.

Each worker writes its row every sweep (a few seconds); ``/healthz`` reads it to tell whether
any worker is alive while the queue is empty.

Revision ID: 5e0c2b7d9a41
Revises: 5be22e169e9a
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '5e0c2b7d9a41'
down_revision = '5be22e169e9a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_workers',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_workers')),
    )


def downgrade() -> None:
    op.drop_table('job_workers')
