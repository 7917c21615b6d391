"""Domains can be disabled as a whole; users hold API key pairs (access key, sealed secret).

Revision ID: e41f7b2a9c36
Revises: 7d3a9c1e5b20
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = 'e41f7b2a9c36'
down_revision = '7d3a9c1e5b20'
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


def downgrade() -> None:
    op.drop_index(op.f('ix_api_keys_user_id'), table_name='api_keys')
    op.drop_table('api_keys')
    with op.batch_alter_table('domains') as batch:
        batch.drop_column('enabled')
