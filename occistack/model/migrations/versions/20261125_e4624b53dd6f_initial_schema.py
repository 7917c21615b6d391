"""Initial schema: tenancy, the catalog (templates, offerings, zones), OCCI entities and tags.

Revision ID: e4624b53dd6f
Revises: 
Create Date: 2026-11-25 06:08:20.242343
"""
from alembic import op
import sqlalchemy as sa


revision = 'e4624b53dd6f'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_generation'))
    )
    # The one row every server process polls to learn that published categories changed.
    op.execute("INSERT INTO catalog_generation (id, generation) VALUES (1, 0)")
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('name', name=op.f('uq_projects_name'))
    )
    op.create_table('service_offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('cores', sa.Integer(), nullable=False),
    sa.Column('memory_gib', sa.Float(), nullable=False),
    sa.Column('disk_gib', sa.Float(), nullable=True),
    sa.Column('speed_ghz', sa.Float(), nullable=True),
    sa.Column('architecture', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_offerings')),
    sa.UniqueConstraint('term', name=op.f('uq_service_offerings_term'))
    )
    op.create_table('zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones')),
    sa.UniqueConstraint('name', name=op.f('uq_zones_name'))
    )
    op.create_table('entities',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_entities_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entities'))
    )
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.create_index('ix_entities_project_kind_created', ['project_id', 'kind', 'created_at'], unique=False)

    op.create_table('os_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('os_family', sa.String(length=64), nullable=True),
    sa.Column('os_name', sa.String(length=64), nullable=True),
    sa.Column('os_version', sa.String(length=64), nullable=True),
    sa.Column('architecture', sa.String(length=8), nullable=False),
    sa.Column('image_url', sa.String(length=1024), nullable=True),
    sa.Column('checksum', sa.String(length=160), nullable=True),
    sa.Column('size_gib', sa.Float(), nullable=False),
    sa.Column('min_cores', sa.Integer(), nullable=False),
    sa.Column('min_memory_gib', sa.Float(), nullable=False),
    sa.Column('extra_attributes', sa.JSON(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('saved_from', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_os_templates_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_os_templates')),
    sa.UniqueConstraint('term', name=op.f('uq_os_templates_term'))
    )
    with op.batch_alter_table('os_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_os_templates_project_id'), ['project_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_users_project_id_projects'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_project_id'), ['project_id'], unique=False)

    op.create_table('networks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('vlan', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_message', sa.Text(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('gateway', sa.String(length=64), nullable=True),
    sa.Column('allocation', sa.String(length=16), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['entities.id'], name=op.f('fk_networks_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_networks_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks'))
    )
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networks_zone_id'), ['zone_id'], unique=False)

    op.create_table('user_mixins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=255), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('location', sa.String(length=255), nullable=False),
    sa.Column('depends', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_user_mixins_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_mixins')),
    sa.UniqueConstraint('owner_id', 'location', name=op.f('uq_user_mixins_owner_id_location')),
    sa.UniqueConstraint('owner_id', 'scheme', 'term', name=op.f('uq_user_mixins_owner_id_scheme_term'))
    )
    with op.batch_alter_table('user_mixins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_mixins_owner_id'), ['owner_id'], unique=False)

    op.create_table('virtual_machines',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=True),
    sa.Column('architecture', sa.String(length=8), nullable=True),
    sa.Column('cores', sa.Integer(), nullable=False),
    sa.Column('memory_gib', sa.Float(), nullable=False),
    sa.Column('share', sa.Integer(), nullable=True),
    sa.Column('speed_ghz', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_message', sa.Text(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('resource_tpl', sa.String(length=512), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('user_data', sa.Text(), nullable=True),
    sa.Column('ssh_public_key', sa.Text(), nullable=True),
    sa.Column('instance_name', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['entities.id'], name=op.f('fk_virtual_machines_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['os_templates.id'], name=op.f('fk_virtual_machines_template_id_os_templates'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_virtual_machines_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_virtual_machines'))
    )
    with op.batch_alter_table('virtual_machines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_virtual_machines_template_id'), ['template_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_virtual_machines_zone_id'), ['zone_id'], unique=False)

    op.create_table('volumes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('size_gib', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_message', sa.Text(), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['entities.id'], name=op.f('fk_volumes_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_volumes_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volumes'))
    )
    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volumes_zone_id'), ['zone_id'], unique=False)

    op.create_table('entity_mixins',
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('mixin', sa.String(length=512), nullable=False),
    sa.Column('user_mixin_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_entity_mixins_entity_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_mixin_id'], ['user_mixins.id'], name=op.f('fk_entity_mixins_user_mixin_id_user_mixins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entity_id', 'mixin', name=op.f('pk_entity_mixins'))
    )
    with op.batch_alter_table('entity_mixins', schema=None) as batch_op:
        batch_op.create_index('ix_entity_mixins_mixin', ['mixin'], unique=False)
        batch_op.create_index(batch_op.f('ix_entity_mixins_user_mixin_id'), ['user_mixin_id'], unique=False)

    op.create_table('nics',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('vm_id', sa.String(length=64), nullable=False),
    sa.Column('network_id', sa.String(length=64), nullable=False),
    sa.Column('interface', sa.String(length=16), nullable=False),
    sa.Column('mac', sa.String(length=17), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_message', sa.Text(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('gateway', sa.String(length=64), nullable=True),
    sa.Column('allocation', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['entities.id'], name=op.f('fk_nics_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_nics_network_id_networks'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['vm_id'], ['virtual_machines.id'], name=op.f('fk_nics_vm_id_virtual_machines'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nics')),
    sa.UniqueConstraint('mac', name=op.f('uq_nics_mac')),
    sa.UniqueConstraint('network_id', 'address', name=op.f('uq_nics_network_id_address')),
    sa.UniqueConstraint('vm_id', 'interface', name=op.f('uq_nics_vm_id_interface'))
    )
    with op.batch_alter_table('nics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nics_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nics_vm_id'), ['vm_id'], unique=False)

    op.create_table('storage_links',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('vm_id', sa.String(length=64), nullable=False),
    sa.Column('volume_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('mountpoint', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['entities.id'], name=op.f('fk_storage_links_id_entities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vm_id'], ['virtual_machines.id'], name=op.f('fk_storage_links_vm_id_virtual_machines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volume_id'], ['volumes.id'], name=op.f('fk_storage_links_volume_id_volumes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storage_links')),
    sa.UniqueConstraint('vm_id', 'device_id', name=op.f('uq_storage_links_vm_id_device_id')),
    sa.UniqueConstraint('volume_id', name=op.f('uq_storage_links_volume_id'))
    )
    with op.batch_alter_table('storage_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_storage_links_vm_id'), ['vm_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('storage_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_storage_links_vm_id'))

    op.drop_table('storage_links')
    with op.batch_alter_table('nics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nics_vm_id'))
        batch_op.drop_index(batch_op.f('ix_nics_network_id'))

    op.drop_table('nics')
    with op.batch_alter_table('entity_mixins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entity_mixins_user_mixin_id'))
        batch_op.drop_index('ix_entity_mixins_mixin')

    op.drop_table('entity_mixins')
    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volumes_zone_id'))

    op.drop_table('volumes')
    with op.batch_alter_table('virtual_machines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_virtual_machines_zone_id'))
        batch_op.drop_index(batch_op.f('ix_virtual_machines_template_id'))

    op.drop_table('virtual_machines')
    with op.batch_alter_table('user_mixins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_mixins_owner_id'))

    op.drop_table('user_mixins')
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_networks_zone_id'))

    op.drop_table('networks')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_project_id'))

    op.drop_table('users')
    with op.batch_alter_table('os_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_os_templates_project_id'))

    op.drop_table('os_templates')
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.drop_index('ix_entities_project_kind_created')

    op.drop_table('entities')
    op.drop_table('zones')
    op.drop_table('service_offerings')
    op.drop_table('projects')
    op.drop_table('catalog_generation')
