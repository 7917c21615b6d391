"""Deletes that always work: an entity records when its delete was asked for.

A DELETE is accepted in every state; the entity is marked (``delete_requested_at``) at once
and torn down after the step under way. Existing rows are not being deleted: NULL.

Revision ID: 4b5dc5299908
Revises: c32fd6ade728
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '4b5dc5299908'
down_revision = 'c32fd6ade728'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entities') as batch:
        batch.add_column(sa.Column('delete_requested_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('entities') as batch:
        batch.drop_column('delete_requested_at')
