"""Key pairs: users keep SSH public keys under names, and a compute remembers the name of the
key pair it was given.

Revision ID: 5be22e169e9a
Revises: 9e4b7c2a1d36
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '5be22e169e9a'
down_revision = '9e4b7c2a1d36'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'key_pairs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('key_type', sa.String(length=32), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('fingerprint_md5', sa.String(length=47), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_key_pairs_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_key_pairs')),
        sa.UniqueConstraint('user_id', 'name', name=op.f('uq_key_pairs_user_id_name')),
    )
    op.create_index(op.f('ix_key_pairs_user_id'), 'key_pairs', ['user_id'], unique=False)
    # Existing computes were given no key pair by name: NULL.
    with op.batch_alter_table('virtual_machines') as batch:
        batch.add_column(sa.Column('key_name', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('virtual_machines') as batch:
        batch.drop_column('key_name')
    op.drop_index(op.f('ix_key_pairs_user_id'), table_name='key_pairs')
    op.drop_table('key_pairs')
