"""Every route of the server, in one place.

OCCI paths (SPEC-NOTES §1.1, §7): the query interface at /-/ and its RFC 5785 twin; one
collection and one entity route per kind, at the kind's location and at the /link/… aliases
that rOCCI 1.x, VMDIRAC and IM hard-code (both declared in api/occi/paths.py); a user's own key
pairs at /user/keypairs (JSON, beside the OCCI paths); the admin API
under /admin/ (its own section, below); the host agents' channel at /agent/v1/messages; the
built-in Keystone-compatible token service under /keystone (when the site runs it); /healthz
and /metrics for monitoring; and, last,
every other path ending in "/" is looked up as a mixin's location.
"""

from __future__ import annotations

from occistack.api.admin.context import admin_context
from occistack.api.admin.paths import ADMIN_RESOURCES, ADMIN_RESOURCES_WITH_ACTIONS, admin_route_name
from occistack.api.agents.channel import agent_context
from occistack.api.occi.contexts import occi_context, user_json_context
from occistack.api.occi.paths import KIND_ROUTES
from occistack.api.occi.views.keypairs import KEYPAIR_ROUTE, KEYPAIRS_PATH, KEYPAIRS_ROUTE
from occistack.api.keystone.context import keystone_context
from occistack.api.monitoring.access import health_context, metrics_context
from occistack.api.mounts import BUILTIN_KEYSTONE_PATH, HEALTH_PATH, METRICS_PATH

#: The routes that serve no kind, OCCI's and the other faces'; every other route is a kind's
#: (api/occi/paths.py), which a test checks.
OCCI_ROUTES_OF_NO_KIND = ("query_interface", "query_interface_well_known", "root", "mixin_collection",
                          KEYPAIRS_ROUTE, KEYPAIR_ROUTE)


def includeme(config) -> None:
    add = config.add_route
    add("query_interface", "/-/", factory=occi_context)
    add("query_interface_well_known", "/.well-known/org/ogf/occi/-/", factory=occi_context)
    add("root", "/", factory=occi_context)
    # Each kind's collection and entities, at its location and the aliases clients use (api/occi/paths.py).
    for route in KIND_ROUTES.values():
        add(route.name, route.pattern, factory=occi_context)
    # A user's own key pairs, in JSON beside the OCCI paths (api/occi/views/keypairs.py says why there).
    add(KEYPAIRS_ROUTE, KEYPAIRS_PATH + "{slash:/?}", factory=user_json_context)
    add(KEYPAIR_ROUTE, KEYPAIRS_PATH + "/{name}", factory=user_json_context)
    add_admin_routes(config)
    # Host agents' messages (api/agents/channel.py).
    add("agent_messages", "/agent/v1/messages", factory=agent_context)
    add_keystone_routes(config)
    # Monitoring: health for load balancers, metrics for Prometheus (api/monitoring/).
    add("healthz", HEALTH_PATH, factory=health_context)
    add("metrics", METRICS_PATH, factory=metrics_context)
    # Last: every other path is a mixin's location.
    add("mixin_collection", "/*location", factory=occi_context)


# --- the admin API: JSON, for the admin role only (views in api/admin/) -----------------------

def add_admin_routes(config) -> None:
    add = config.add_route
    add("admin_index", "/admin/", factory=admin_context)
    add("admin_index_bare", "/admin", factory=admin_context)
    for resource in ADMIN_RESOURCES:
        add(admin_route_name(resource), f"/admin/{resource}", factory=admin_context)
        add(admin_route_name(resource, "item"), f"/admin/{resource}/{{id:\\d+}}", factory=admin_context)
        if resource in ADMIN_RESOURCES_WITH_ACTIONS:
            add(admin_route_name(resource, "action"), f"/admin/{resource}/{{id:\\d+}}/actions/{{action}}",
                factory=admin_context)
    add("admin_vlan_ranges", "/admin/physical-networks/{id:\\d+}/vlan-ranges", factory=admin_context)
    add("admin_vlan_ranges_item", "/admin/physical-networks/{id:\\d+}/vlan-ranges/{range_id:\\d+}",
        factory=admin_context)
    add("admin_events", "/admin/events", factory=admin_context)
    add("admin_capacity", "/admin/capacity", factory=admin_context)
    # Global settings by name, alerts by id (api/admin/operations.py).
    add("admin_settings", "/admin/settings", factory=admin_context)
    add("admin_settings_item", "/admin/settings/{name}", factory=admin_context)
    add("admin_alerts", "/admin/alerts", factory=admin_context)
    add("admin_alerts_item", "/admin/alerts/{id:\\d+}", factory=admin_context)
    add("admin_usage", "/admin/usage", factory=admin_context)
    # Any project's guests (api/admin/vms.py): their ids are entity ids, not numbers.
    add("admin_vms", "/admin/vms", factory=admin_context)
    add("admin_vms_item", "/admin/vms/{vm_id}", factory=admin_context)
    add("admin_vms_action", "/admin/vms/{vm_id}/actions/{action}", factory=admin_context)
    # Any project's compute, storage, network or link, by its OCCI kind and id.
    add("admin_resources_item", "/admin/resources/{kind}/{entity_id}", factory=admin_context)
    # Any other /admin/ path: a JSON 404 that lists the resources, not the OCCI mixin lookup.
    add("admin_unknown", "/admin/*rest", factory=admin_context)


# --- the built-in Keystone-compatible token service (views in api/keystone/) -----------

def add_keystone_routes(config) -> None:
    """Only when the site runs the service (``occistack.keystone.builtin``); otherwise its paths
    are nobody's, and a site with an external Keystone names that one in its challenge."""
    if config.registry["occistack.keystone"].mode != "builtin":
        return
    add, root = config.add_route, BUILTIN_KEYSTONE_PATH
    # Each version document with or without the trailing slash: the clients differ.
    add("keystone_versions", root + "{slash:/?}", factory=keystone_context)
    add("keystone_v3", root + "/v3{slash:/?}", factory=keystone_context)
    add("keystone_v2", root + "/v2.0{slash:/?}", factory=keystone_context)
    add("keystone_v3_federation_auth",
        root + "/v3/OS-FEDERATION/identity_providers/{identity_provider}/protocols/{protocol}/auth",
        factory=keystone_context)
    add("keystone_v3_tokens", root + "/v3/auth/tokens", factory=keystone_context)
    add("keystone_v3_projects", root + "/v3/auth/projects", factory=keystone_context)
    add("keystone_v3_user_password", root + "/v3/users/{user_id:\\d+}/password", factory=keystone_context)
    add("keystone_v2_tokens", root + "/v2.0/tokens", factory=keystone_context)
    add("keystone_v2_tenants", root + "/v2.0/tenants", factory=keystone_context)
    add("keystone_unknown", root + "/*rest", factory=keystone_context)
