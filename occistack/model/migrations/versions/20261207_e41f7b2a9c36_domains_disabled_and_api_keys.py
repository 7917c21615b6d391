"""Domains can be disabled as a whole; users hold API key pairs (access key, sealed secret);
accounts and domains have resource limits over all their projects.

Revision ID: e41f7b2a9c36
Revises: a41c9e07d3b8
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = 'e41f7b2a9c36'
down_revision = 'a41c9e07d3b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('domains') as batch:
        batch.add_column(sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('access_key', sa.String(length=64), nullable=False),
        sa.Column('sealed_secret', sa.String(length=512), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_keys_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('access_key', name=op.f('uq_api_keys_access_key')),
    )
    op.create_index(op.f('ix_api_keys_user_id'), 'api_keys', ['user_id'], unique=False)
    op.create_table(
        'tenancy_limits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('domain_id', sa.Integer(), nullable=True),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('resource', sa.String(length=32), nullable=False),
        sa.Column('limit', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_tenancy_limits_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_tenancy_limits_domain_id_domains'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tenancy_limits')),
        sa.UniqueConstraint('account_id', 'resource', name=op.f('uq_tenancy_limits_account_id_resource')),
        sa.UniqueConstraint('domain_id', 'resource', name=op.f('uq_tenancy_limits_domain_id_resource')),
    )


def downgrade() -> None:
    op.drop_table('tenancy_limits')
    op.drop_index(op.f('ix_api_keys_user_id'), table_name='api_keys')
    op.drop_table('api_keys')
    with op.batch_alter_table('domains') as batch:
        batch.drop_column('enabled')
