"""Private templates shared with other projects (template_shares).

Revision ID: 5b8e0d2c7a14
Revises: e41f7b2a9c36
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '5b8e0d2c7a14'
down_revision = 'e41f7b2a9c36'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'template_shares',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_template_shares_project_id_projects'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['template_id'], ['os_templates.id'],
                                name=op.f('fk_template_shares_template_id_os_templates'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_template_shares')),
        sa.UniqueConstraint('template_id', 'project_id', name=op.f('uq_template_shares_template_id_project_id')),
    )
    op.create_index(op.f('ix_template_shares_template_id'), 'template_shares', ['template_id'], unique=False)
    op.create_index(op.f('ix_template_shares_project_id'), 'template_shares', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_template_shares_project_id'), table_name='template_shares')
    op.drop_index(op.f('ix_template_shares_template_id'), table_name='template_shares')
    op.drop_table('template_shares')
