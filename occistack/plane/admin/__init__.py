"""The site administrator's use cases: building the cloud (regions, zones, physical networks and
VLAN ranges, pods, clusters, hosts, primary and secondary storage, IP ranges, offerings, the
templates and ISOs downloaded into secondary storage), the
tenancy (domains, accounts, projects, users, quotas), and reading it back (the event log, the
capacity report).

The faces (the admin API, the command line) call them through ``occistack.plane.admin.cases``:
one function per operation, taking the PlaneContext and a frozen request dataclass, and
returning frozen records (``occistack.plane.admin.records``) rather than rows. The
functions here are the rules those operations are built on, framework-free: each takes a
SQLAlchemy session and keyword arguments, checks them, writes rows and an event, and returns the
rows; the demo, the job handlers and the tests' fixtures use them on a bare session. None
commits: the caller (a request under pyramid_tm, a command of the command line) owns the
transaction, so a refusal leaves nothing behind. Refusals are the plane's NotFound, Conflict
and InvalidRequest, with messages that say what was wrong and what is accepted.
"""

from occistack.plane.admin.addresses import PURPOSES, add_ip_range, list_ip_ranges, remove_ip_range
from occistack.plane.admin.capacity import CapacityReport, Usage, ZoneCapacity, capacity_report
from occistack.plane.admin.common import SYSTEM, Actor, Ref
from occistack.plane.admin.event_log import list_events
from occistack.plane.admin.hosts import (
    AddedHost,
    add_host,
    cancel_host_maintenance,
    clear_host_bmc,
    disable_host,
    enable_host,
    list_hosts,
    prepare_host_maintenance,
    remove_host,
    set_host_bmc,
)
from occistack.plane.admin.lookup import (
    domain_path,
    find_account,
    find_cluster,
    find_domain,
    find_host,
    find_offering,
    find_physical_network,
    find_pod,
    find_project,
    find_region,
    find_secondary_storage,
    find_storage_pool,
    find_user,
    find_zone,
)
from occistack.plane.admin.networks import (
    ISOLATION_METHODS,
    TRAFFIC_TYPES,
    add_vlan_range,
    create_physical_network,
    list_physical_networks,
    list_vlan_ranges,
    remove_physical_network,
    remove_vlan_range,
    vlan_bounds,
)
from occistack.plane.admin.public_networks import FIRST_PUBLIC_NETWORK, create_public_network, zone_public_network
from occistack.plane.admin.offerings import ARCHITECTURES, create_offering, list_offerings, remove_offering
from occistack.plane.admin.pods import (
    HYPERVISORS,
    create_cluster,
    create_pod,
    disable_cluster,
    disable_pod,
    enable_cluster,
    enable_pod,
    list_clusters,
    list_pods,
    remove_cluster,
    remove_pod,
)
from occistack.plane.admin.storage import (
    POOL_STATE_CHANGES,
    PROTOCOLS,
    add_secondary_storage,
    add_storage_pool,
    change_storage_pool_state,
    disable_secondary_storage,
    enable_secondary_storage,
    list_secondary_storage,
    list_storage_pools,
    remove_secondary_storage,
    remove_storage_pool,
)
from occistack.plane.admin.tenancy import (
    ACCOUNT_KINDS,
    create_account,
    create_domain,
    create_project,
    list_accounts,
    list_domains,
    list_projects,
    remove_account,
    remove_domain,
    remove_project,
)
from occistack.plane.admin.templates import (
    CHECKSUM_ALGORITHMS,
    FORMATS,
    delete_template,
    find_template,
    list_templates,
    copy_template,
    normalise_checksum,
    register_template,
    retry_template,
)
from occistack.plane.admin.users import (
    DEFAULT_PASSWORD_MIN_LENGTH,
    clear_quota,
    create_user,
    list_quotas,
    list_users,
    password_min_length_of,
    remove_user,
    set_quota,
    set_user_password,
)
from occistack.plane.admin.zones import (
    NETWORK_TYPES,
    create_region,
    create_zone,
    disable_zone,
    enable_zone,
    list_regions,
    list_zones,
    remove_region,
    remove_zone,
)
from occistack.plane.host_states import RESOURCE_STATE_WORDS
from occistack.plane.template_copies import template_copy_in_zone

__all__ = [
    "ACCOUNT_KINDS", "ARCHITECTURES", "CHECKSUM_ALGORITHMS", "FORMATS", "delete_template", "find_template",
    "list_templates", "normalise_checksum", "register_template", "copy_template", "retry_template",
    "template_copy_in_zone", "Actor", "AddedHost", "CapacityReport", "HYPERVISORS",
    "ISOLATION_METHODS", "NETWORK_TYPES", "POOL_STATE_CHANGES", "PROTOCOLS", "PURPOSES", "RESOURCE_STATE_WORDS",
    "Ref", "SYSTEM", "TRAFFIC_TYPES", "Usage", "ZoneCapacity", "add_host", "add_ip_range",
    "add_secondary_storage", "add_storage_pool", "add_vlan_range",
    "cancel_host_maintenance", "capacity_report", "change_storage_pool_state", "clear_host_bmc", "clear_quota", "create_account",
    "create_cluster", "create_domain", "create_offering", "create_physical_network", "create_pod",
    "create_project", "create_region", "create_user", "create_zone", "disable_cluster", "disable_host",
    "disable_pod", "disable_secondary_storage", "disable_zone", "domain_path", "enable_cluster", "enable_host",
    "enable_pod", "enable_secondary_storage", "enable_zone", "find_account", "find_cluster", "find_domain",
    "find_host", "find_offering", "find_physical_network", "find_pod", "find_project", "find_region",
    "find_secondary_storage", "find_storage_pool", "find_user", "find_zone", "list_accounts", "list_clusters",
    "list_domains", "list_events", "list_hosts", "list_ip_ranges", "list_offerings", "list_physical_networks",
    "list_pods", "list_projects", "list_quotas", "list_regions", "list_secondary_storage", "list_storage_pools",
    "list_users", "list_vlan_ranges", "list_zones", "prepare_host_maintenance", "remove_account",
    "remove_cluster", "remove_domain", "remove_host", "remove_ip_range", "remove_offering",
    "remove_physical_network", "remove_pod", "remove_project", "remove_region", "remove_secondary_storage",
    "remove_storage_pool", "remove_user", "remove_vlan_range", "remove_zone", "set_host_bmc", "set_quota", "vlan_bounds",
    "FIRST_PUBLIC_NETWORK", "create_public_network", "zone_public_network",
    "DEFAULT_PASSWORD_MIN_LENGTH", "password_min_length_of", "set_user_password",
]
