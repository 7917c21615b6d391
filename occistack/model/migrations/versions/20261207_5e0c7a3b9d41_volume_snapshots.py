"""Volume snapshots: point-in-time copies of volumes and root disks in secondary storage.

Revision ID: 5e0c7a3b9d41
Revises: 3e8a61c0d4f2
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '5e0c7a3b9d41'
down_revision = '3e8a61c0d4f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("volume_id", sa.String(length=64), nullable=True),
        sa.Column("vm_id", sa.String(length=64), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("size_gib", sa.Float(), nullable=False),
        sa.Column("stored_gib", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_message", sa.Text(), nullable=True),
        sa.Column("secondary_storage_id", sa.Integer(), nullable=True),
        sa.Column("secondary_path", sa.String(length=1024), nullable=True),
        sa.Column("checksum", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["vm_id"], ["virtual_machines.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["secondary_storage_id"], ["secondary_storage.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_volume_snapshots_project_created", "volume_snapshots", ["project_id", "created_at"])
    op.create_index("ix_volume_snapshots_volume_id", "volume_snapshots", ["volume_id"])
    op.create_index("ix_volume_snapshots_vm_id", "volume_snapshots", ["vm_id"])
    op.create_index("ix_volume_snapshots_zone_id", "volume_snapshots", ["zone_id"])
    op.create_index("ix_volume_snapshots_secondary_storage_id", "volume_snapshots", ["secondary_storage_id"])


def downgrade() -> None:
    op.drop_table("volume_snapshots")
