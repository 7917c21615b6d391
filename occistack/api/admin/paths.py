"""The admin API's resources and the names of their routes, which api/routes.py adds and the
admin views name (a resource's URL, the index of every resource)."""

from __future__ import annotations

#: /admin/<resource> lists (GET) and creates (POST); /admin/<resource>/{id} shows (GET) and
#: removes (DELETE).
ADMIN_RESOURCES = ("regions", "zones", "physical-networks", "pods", "clusters", "hosts", "storage-pools",
                   "secondary-storage", "ip-ranges", "offerings", "templates", "domains", "accounts", "projects",
                   "users", "memberships", "quotas", "affinity-groups", "api-keys", "limits", "keypairs", "ldap-links",
                   "snapshots", "snapshot-policies")
#: Resources whose rows change state: POST /admin/<resource>/{id}/actions/{action}.
ADMIN_RESOURCES_WITH_ACTIONS = ("zones", "pods", "clusters", "hosts", "storage-pools", "secondary-storage",
                                "templates", "domains", "accounts", "projects", "users", "api-keys", "snapshots")


def admin_route_name(resource: str, part: str = "") -> str:
    """``storage-pools`` → ``admin_storage_pools``, ``admin_storage_pools_item``, …"""
    base = "admin_" + resource.replace("-", "_")
    return f"{base}_{part}" if part else base
