"""Zones kept apart: a project's default network per zone, and a public network per zone.

``project_default_networks`` records the network a project's link-less computes join in each
zone. Every zone that already has a public IP range but no shared public network gets one,
as a zone does from now on when its first public range is added: the first is
``/network/public`` if that id is free, the others ``/network/public-<zone>``.

Revision ID: 2752f165ec78
Revises: c4d81f2a9e57
Create Date: 2026-12-07
"""
import ipaddress
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '2752f165ec78'
down_revision = '4b5dc5299908'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'project_default_networks',
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                                name=op.f('fk_project_default_networks_network_id_networks'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_project_default_networks_project_id_projects'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['zone_id'], ['zones.id'],
                                name=op.f('fk_project_default_networks_zone_id_zones'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('project_id', 'zone_id', name=op.f('pk_project_default_networks')),
    )
    op.create_index(op.f('ix_project_default_networks_network_id'), 'project_default_networks', ['network_id'],
                    unique=False)
    _give_each_public_zone_its_network()


def _give_each_public_zone_its_network() -> None:
    connection = op.get_bind()
    entities = sa.table('entities', sa.column('id'), sa.column('kind'), sa.column('project_id'),
                        sa.column('title'), sa.column('created_at'), sa.column('updated_at'))
    networks = sa.table('networks', sa.column('id'), sa.column('state'), sa.column('address'),
                        sa.column('gateway'), sa.column('allocation'), sa.column('public'), sa.column('zone_id'))
    taken = set(connection.scalars(sa.select(entities.c.id)))
    served = set(connection.scalars(sa.select(networks.c.zone_id).where(networks.c.public.is_(True))))
    ranges = connection.execute(sa.text(
        "SELECT ip_ranges.zone_id, zones.name, ip_ranges.gateway, ip_ranges.prefix_length FROM ip_ranges "
        "JOIN zones ON zones.id = ip_ranges.zone_id WHERE ip_ranges.purpose = 'public' "
        "ORDER BY ip_ranges.zone_id, ip_ranges.first_number")).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for zone_id, zone_name, gateway, prefix_length in ranges:
        if zone_id in served:
            continue
        network_id = 'public' if 'public' not in taken else f'public-{zone_name}'[:64]
        if network_id in taken:
            continue  # an entity already has the name: the administrator can create it by command
        subnet = ipaddress.ip_network(f'{gateway}/{prefix_length}', strict=False)
        connection.execute(entities.insert().values(id=network_id, kind='network', project_id=None,
                                                    title=f'Public network of zone {zone_name}',
                                                    created_at=now, updated_at=now))
        connection.execute(networks.insert().values(id=network_id, state='active', address=str(subnet),
                                                    gateway=gateway, allocation='dynamic', public=True,
                                                    zone_id=zone_id))
        taken.add(network_id)
        served.add(zone_id)


def downgrade() -> None:
    # The public networks stay: they are ordinary shared networks the schema before had too.
    op.drop_index(op.f('ix_project_default_networks_network_id'), table_name='project_default_networks')
    op.drop_table('project_default_networks')
