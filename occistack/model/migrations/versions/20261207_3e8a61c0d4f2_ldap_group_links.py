"""LDAP group links: a directory group linked to an account and a project, whose members
become users of that project on their first login.

Revision ID: 3e8a61c0d4f2
Revises: a41e7c93d2f6
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '3e8a61c0d4f2'
down_revision = 'a41e7c93d2f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ldap_group_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group', sa.String(length=255), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ldap_group_links_account_id_accounts'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_ldap_group_links_project_id_projects'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ldap_group_links')),
        sa.UniqueConstraint('group', name=op.f('uq_ldap_group_links_group')),
    )
    op.create_index(op.f('ix_ldap_group_links_account_id'), 'ldap_group_links', ['account_id'], unique=False)
    op.create_index(op.f('ix_ldap_group_links_project_id'), 'ldap_group_links', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ldap_group_links_project_id'), table_name='ldap_group_links')
    op.drop_index(op.f('ix_ldap_group_links_account_id'), table_name='ldap_group_links')
    op.drop_table('ldap_group_links')
