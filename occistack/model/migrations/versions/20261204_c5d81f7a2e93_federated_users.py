"""Federated users: the local user made for an outside identity (an OIDC issuer's subject).

Revision ID: c5d81f7a2e93
Revises: b71c3e9d04a2
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = 'c5d81f7a2e93'
down_revision = 'b71c3e9d04a2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'federated_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('mapped_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_federated_users_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_federated_users')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_federated_users_issuer_subject')),
        sa.UniqueConstraint('user_id', name=op.f('uq_federated_users_user_id')),
    )


def downgrade() -> None:
    op.drop_table('federated_users')
