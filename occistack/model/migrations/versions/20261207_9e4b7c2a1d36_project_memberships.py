"""Users in several projects: the roles a user holds in projects other than their home one.

Revision ID: 9e4b7c2a1d36
Revises: 7d3a9c1e5b20
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '9e4b7c2a1d36'
down_revision = '7d3a9c1e5b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'project_memberships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'project_id'),
    )
    op.create_index(op.f('ix_project_memberships_project_id'), 'project_memberships', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_project_memberships_project_id'), table_name='project_memberships')
    op.drop_table('project_memberships')
