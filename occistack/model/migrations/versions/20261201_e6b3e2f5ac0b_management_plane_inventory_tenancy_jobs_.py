"""Management plane: inventory, tenancy, jobs, events and usage

The CloudStack hierarchy (regions, pods, clusters, hosts, primary and secondary storage,
physical networks with VLAN ranges, IP ranges and their allocations), domains and accounts
above projects, quotas, affinity groups, durable jobs and agent commands, events and usage
records; placement and capacity columns on virtual machines and volumes.

Revision ID: e6b3e2f5ac0b
Revises: e4624b53dd6f
Create Date: 2026-12-01 19:28:45.376878
"""
from alembic import op
import sqlalchemy as sa


revision = 'e6b3e2f5ac0b'
down_revision = 'e4624b53dd6f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['domains.id'], name=op.f('fk_domains_parent_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domains')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_domains_parent_id_name')),
    sa.UniqueConstraint('path', name=op.f('uq_domains_path'))
    )
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domains_parent_id'), ['parent_id'], unique=False)
    # Every project is in a domain: existing ones move to the root, created here.
    op.execute("INSERT INTO domains (id, parent_id, name, path, created_at) VALUES (1, NULL, 'ROOT', '/', "
               "CURRENT_TIMESTAMP)")
    if op.get_bind().dialect.name == "postgresql":
        # The explicit id leaves the sequence behind; the next domain must get 2, not 1.
        op.execute("SELECT setval(pg_get_serial_sequence('domains', 'id'), 1)")

    op.create_table('inventory_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_generation'))
    )
    op.execute("INSERT INTO inventory_generation (id, generation) VALUES (1, 0)")
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('name', name=op.f('uq_regions_name'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['domain_id'], ['domains.id'], name=op.f('fk_accounts_domain_id_domains'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('domain_id', 'name', name=op.f('uq_accounts_domain_id_name'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_domain_id'), ['domain_id'], unique=False)

    op.create_table('physical_networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('isolation', sa.String(length=16), nullable=False),
    sa.Column('traffic_types', sa.String(length=64), nullable=False),
    sa.Column('bridge', sa.String(length=64), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_physical_networks_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_physical_networks')),
    sa.UniqueConstraint('zone_id', 'name', name=op.f('uq_physical_networks_zone_id_name'))
    )
    with op.batch_alter_table('physical_networks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_physical_networks_zone_id'), ['zone_id'], unique=False)

    op.create_table('pods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('cidr', sa.String(length=64), nullable=False),
    sa.Column('gateway', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_pods_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pods')),
    sa.UniqueConstraint('zone_id', 'name', name=op.f('uq_pods_zone_id_name'))
    )
    with op.batch_alter_table('pods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pods_zone_id'), ['zone_id'], unique=False)

    op.create_table('secondary_storage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=False),
    sa.Column('capacity_gib', sa.Float(), nullable=False),
    sa.Column('used_gib', sa.Float(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_secondary_storage_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secondary_storage')),
    sa.UniqueConstraint('zone_id', 'name', name=op.f('uq_secondary_storage_zone_id_name'))
    )
    with op.batch_alter_table('secondary_storage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_secondary_storage_zone_id'), ['zone_id'], unique=False)

    op.create_table('affinity_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_affinity_groups_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_affinity_groups')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_affinity_groups_project_id_name'))
    )
    op.create_table('clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('pod_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('hypervisor', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pod_id'], ['pods.id'], name=op.f('fk_clusters_pod_id_pods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_clusters_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')),
    sa.UniqueConstraint('pod_id', 'name', name=op.f('uq_clusters_pod_id_name'))
    )
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clusters_pod_id'), ['pod_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clusters_zone_id'), ['zone_id'], unique=False)

    op.create_table('ip_ranges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('pod_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('first_address', sa.String(length=64), nullable=False),
    sa.Column('last_address', sa.String(length=64), nullable=False),
    sa.Column('first_number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gateway', sa.String(length=64), nullable=False),
    sa.Column('prefix_length', sa.Integer(), nullable=False),
    sa.Column('vlan', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pod_id'], ['pods.id'], name=op.f('fk_ip_ranges_pod_id_pods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_ip_ranges_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_ranges'))
    )
    with op.batch_alter_table('ip_ranges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ip_ranges_zone_id'), ['zone_id'], unique=False)

    op.create_table('quotas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=32), nullable=False),
    sa.Column('limit', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_quotas_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotas')),
    sa.UniqueConstraint('project_id', 'resource', name=op.f('uq_quotas_project_id_resource'))
    )
    op.create_table('usage_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('usage_type', sa.String(length=16), nullable=False),
    sa.Column('resource_id', sa.String(length=80), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('cores', sa.Integer(), nullable=True),
    sa.Column('memory_gib', sa.Float(), nullable=True),
    sa.Column('size_gib', sa.Float(), nullable=True),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_usage_records_project_id_projects'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_records'))
    )
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.create_index('ix_usage_open', ['resource_id', 'usage_type', 'ended_at'], unique=False)
        batch_op.create_index('ix_usage_project_started', ['project_id', 'started_at'], unique=False)

    op.create_table('vlan_ranges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('physical_network_id', sa.Integer(), nullable=False),
    sa.Column('first_vlan', sa.Integer(), nullable=False),
    sa.Column('last_vlan', sa.Integer(), nullable=False),
    sa.CheckConstraint('first_vlan >= 1 AND last_vlan <= 4094 AND first_vlan <= last_vlan', name=op.f('ck_vlan_ranges_valid_range')),
    sa.ForeignKeyConstraint(['physical_network_id'], ['physical_networks.id'], name=op.f('fk_vlan_ranges_physical_network_id_physical_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vlan_ranges'))
    )
    with op.batch_alter_table('vlan_ranges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vlan_ranges_physical_network_id'), ['physical_network_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.String(length=80), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_events_project_id_projects'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_events_project_created', ['project_id', 'created_at'], unique=False)
        batch_op.create_index('ix_events_resource', ['resource_id'], unique=False)

    op.create_table('hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('pod_id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('hypervisor', sa.String(length=16), nullable=False),
    sa.Column('hypervisor_version', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resource_state', sa.String(length=24), nullable=False),
    sa.Column('cpu_sockets', sa.Integer(), nullable=False),
    sa.Column('cpu_cores', sa.Integer(), nullable=False),
    sa.Column('cpu_mhz', sa.Integer(), nullable=False),
    sa.Column('memory_mib', sa.Integer(), nullable=False),
    sa.Column('cpu_overcommit', sa.Float(), nullable=False),
    sa.Column('memory_overcommit', sa.Float(), nullable=False),
    sa.Column('tags', sa.String(length=255), nullable=False),
    sa.Column('cpu_used_mhz', sa.Integer(), nullable=False),
    sa.Column('memory_used_mib', sa.Integer(), nullable=False),
    sa.Column('last_heartbeat', sa.DateTime(), nullable=True),
    sa.Column('agent_token_hash', sa.String(length=64), nullable=True),
    sa.Column('agent_version', sa.String(length=32), nullable=True),
    sa.Column('state_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('cpu_used_mhz >= 0 AND memory_used_mib >= 0', name=op.f('ck_hosts_usage_not_negative')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_hosts_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pod_id'], ['pods.id'], name=op.f('fk_hosts_pod_id_pods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_hosts_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosts')),
    sa.UniqueConstraint('name', name=op.f('uq_hosts_name'))
    )
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.create_index('ix_hosts_cluster_status', ['cluster_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_hosts_pod_id'), ['pod_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hosts_zone_id'), ['zone_id'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=80), nullable=False),
    sa.Column('arguments', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('progress', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_jobs_project_id_projects'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_queued', ['id'], unique=False,
                              postgresql_where=sa.text("state = 'queued'"), sqlite_where=sa.text("state = 'queued'"))
        batch_op.create_index('uq_jobs_active_entity', ['entity_id'], unique=True,
                              postgresql_where=sa.text("state IN ('queued', 'waiting')"),
                              sqlite_where=sa.text("state IN ('queued', 'waiting')"))
        batch_op.create_index('ix_jobs_held_entity', ['entity_id', 'id'], unique=False,
                              postgresql_where=sa.text("state = 'held'"), sqlite_where=sa.text("state = 'held'"))

    op.create_table('storage_pools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('pod_id', sa.Integer(), nullable=True),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('protocol', sa.String(length=24), nullable=False),
    sa.Column('server', sa.String(length=255), nullable=True),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('capacity_gib', sa.Float(), nullable=False),
    sa.Column('used_gib', sa.Float(), nullable=False),
    sa.Column('overprovisioning', sa.Float(), nullable=False),
    sa.Column('tags', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('used_gib >= 0', name=op.f('ck_storage_pools_usage_not_negative')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_storage_pools_cluster_id_clusters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pod_id'], ['pods.id'], name=op.f('fk_storage_pools_pod_id_pods'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_storage_pools_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storage_pools')),
    sa.UniqueConstraint('zone_id', 'name', name=op.f('uq_storage_pools_zone_id_name'))
    )
    with op.batch_alter_table('storage_pools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_storage_pools_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_storage_pools_zone_id'), ['zone_id'], unique=False)

    op.create_table('agent_commands',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_agent_commands_host_id_hosts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_agent_commands_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_commands'))
    )
    with op.batch_alter_table('agent_commands', schema=None) as batch_op:
        batch_op.create_index('ix_agent_commands_host_state', ['host_id', 'state', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_commands_job_id'), ['job_id'], unique=False)

    op.create_table('guest_vlans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('physical_network_id', sa.Integer(), nullable=False),
    sa.Column('vlan', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.String(length=64), nullable=False),
    sa.Column('allocated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_guest_vlans_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['physical_network_id'], ['physical_networks.id'], name=op.f('fk_guest_vlans_physical_network_id_physical_networks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_vlans')),
    sa.UniqueConstraint('network_id', name=op.f('uq_guest_vlans_network_id')),
    sa.UniqueConstraint('physical_network_id', 'vlan', name=op.f('uq_guest_vlans_physical_network_id_vlan'))
    )
    op.create_table('ip_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('range_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('number', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('nic_id', sa.String(length=64), nullable=True),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('allocated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_ip_allocations_host_id_hosts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nic_id'], ['nics.id'], name=op.f('fk_ip_allocations_nic_id_nics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_ip_allocations_project_id_projects'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['range_id'], ['ip_ranges.id'], name=op.f('fk_ip_allocations_range_id_ip_ranges'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_ip_allocations_zone_id_zones'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_allocations')),
    sa.UniqueConstraint('nic_id', name=op.f('uq_ip_allocations_nic_id')),
    sa.UniqueConstraint('zone_id', 'number', name=op.f('uq_ip_allocations_zone_id_number'))
    )
    with op.batch_alter_table('ip_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ip_allocations_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_ip_allocations_range', ['range_id', 'number'], unique=False)

    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('physical_network_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_networks_physical_network_id_physical_networks'), 'physical_networks', ['physical_network_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('os_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.String(length=16), server_default='template', nullable=False))
        batch_op.add_column(sa.Column('secondary_storage_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('secondary_path', sa.String(length=1024), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_os_templates_secondary_storage_id_secondary_storage'), 'secondary_storage', ['secondary_storage_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain_id', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_projects_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_domain_id'), ['domain_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_projects_account_id_accounts'), 'accounts', ['account_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_projects_domain_id_domains'), 'domains', ['domain_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('service_offerings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_tags', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('storage_tags', sa.String(length=255), server_default='', nullable=False))
        batch_op.add_column(sa.Column('ha_enabled', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=16), server_default='member', nullable=False))
        batch_op.create_index(batch_op.f('ix_users_account_id'), ['account_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_account_id_accounts'), 'accounts', ['account_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('virtual_machines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offering_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('host_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('storage_pool_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reserved_cpu_mhz', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reserved_memory_mib', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('root_disk_gib', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('affinity_group_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ha_enabled', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_virtual_machines_affinity_group_id'), ['affinity_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_virtual_machines_host_id'), ['host_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_virtual_machines_offering_id_service_offerings'), 'service_offerings', ['offering_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_virtual_machines_storage_pool_id_storage_pools'), 'storage_pools', ['storage_pool_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_virtual_machines_affinity_group_id_affinity_groups'), 'affinity_groups', ['affinity_group_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_virtual_machines_host_id_hosts'), 'hosts', ['host_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_pool_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_volumes_storage_pool_id'), ['storage_pool_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_volumes_storage_pool_id_storage_pools'), 'storage_pools', ['storage_pool_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('network_type', sa.String(length=16), server_default='advanced', nullable=False))
        batch_op.add_column(sa.Column('guest_cidr', sa.String(length=64), server_default='10.1.1.0/24', nullable=False))
        batch_op.add_column(sa.Column('dns', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_zones_region_id'), ['region_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_zones_region_id_regions'), 'regions', ['region_id'], ['id'], ondelete='RESTRICT')



def downgrade() -> None:
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_zones_region_id_regions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_zones_region_id'))
        batch_op.drop_column('dns')
        batch_op.drop_column('guest_cidr')
        batch_op.drop_column('network_type')
        batch_op.drop_column('region_id')

    with op.batch_alter_table('volumes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_volumes_storage_pool_id_storage_pools'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_volumes_storage_pool_id'))
        batch_op.drop_column('storage_pool_id')

    with op.batch_alter_table('virtual_machines', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_virtual_machines_host_id_hosts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_virtual_machines_affinity_group_id_affinity_groups'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_virtual_machines_storage_pool_id_storage_pools'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_virtual_machines_offering_id_service_offerings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_virtual_machines_host_id'))
        batch_op.drop_index(batch_op.f('ix_virtual_machines_affinity_group_id'))
        batch_op.drop_column('ha_enabled')
        batch_op.drop_column('affinity_group_id')
        batch_op.drop_column('root_disk_gib')
        batch_op.drop_column('reserved_memory_mib')
        batch_op.drop_column('reserved_cpu_mhz')
        batch_op.drop_column('storage_pool_id')
        batch_op.drop_column('host_id')
        batch_op.drop_column('offering_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_account_id_accounts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_account_id'))
        batch_op.drop_column('role')
        batch_op.drop_column('account_id')

    with op.batch_alter_table('service_offerings', schema=None) as batch_op:
        batch_op.drop_column('ha_enabled')
        batch_op.drop_column('storage_tags')
        batch_op.drop_column('host_tags')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projects_domain_id_domains'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_projects_account_id_accounts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_projects_domain_id'))
        batch_op.drop_index(batch_op.f('ix_projects_account_id'))
        batch_op.drop_column('account_id')
        batch_op.drop_column('domain_id')

    with op.batch_alter_table('os_templates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_os_templates_secondary_storage_id_secondary_storage'), type_='foreignkey')
        batch_op.drop_column('secondary_path')
        batch_op.drop_column('secondary_storage_id')
        batch_op.drop_column('format')

    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_networks_physical_network_id_physical_networks'), type_='foreignkey')
        batch_op.drop_column('physical_network_id')

    with op.batch_alter_table('ip_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_ip_allocations_range')
        batch_op.drop_index(batch_op.f('ix_ip_allocations_project_id'))

    op.drop_table('ip_allocations')
    op.drop_table('guest_vlans')
    with op.batch_alter_table('agent_commands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_commands_job_id'))
        batch_op.drop_index('ix_agent_commands_host_state')

    op.drop_table('agent_commands')
    with op.batch_alter_table('storage_pools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_storage_pools_zone_id'))
        batch_op.drop_index(batch_op.f('ix_storage_pools_cluster_id'))

    op.drop_table('storage_pools')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_held_entity')
        batch_op.drop_index('uq_jobs_active_entity')
        batch_op.drop_index('ix_jobs_queued')

    op.drop_table('jobs')
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hosts_zone_id'))
        batch_op.drop_index(batch_op.f('ix_hosts_pod_id'))
        batch_op.drop_index('ix_hosts_cluster_status')

    op.drop_table('hosts')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_resource')
        batch_op.drop_index('ix_events_project_created')
        batch_op.drop_index(batch_op.f('ix_events_created_at'))

    op.drop_table('events')
    with op.batch_alter_table('vlan_ranges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vlan_ranges_physical_network_id'))

    op.drop_table('vlan_ranges')
    with op.batch_alter_table('usage_records', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_project_started')
        batch_op.drop_index('ix_usage_open')

    op.drop_table('usage_records')
    op.drop_table('quotas')
    with op.batch_alter_table('ip_ranges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ip_ranges_zone_id'))

    op.drop_table('ip_ranges')
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clusters_zone_id'))
        batch_op.drop_index(batch_op.f('ix_clusters_pod_id'))

    op.drop_table('clusters')
    op.drop_table('affinity_groups')
    with op.batch_alter_table('secondary_storage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_secondary_storage_zone_id'))

    op.drop_table('secondary_storage')
    with op.batch_alter_table('pods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pods_zone_id'))

    op.drop_table('pods')
    with op.batch_alter_table('physical_networks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_physical_networks_zone_id'))

    op.drop_table('physical_networks')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_domain_id'))

    op.drop_table('accounts')
    op.drop_table('regions')
    op.drop_table('inventory_generation')
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domains_parent_id'))

    op.drop_table('domains')
