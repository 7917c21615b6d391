"""The JSON documents of the built-in token service, shaped as Keystone's (the identity API v3
and v2.0 references), because the clients read them as Keystone's: keystoneauth parses tokens
and catalogs with its AccessInfo, rOCCI follows the ``self`` links of the version document,
VMDIRAC reads ``access.token.tenant.id`` and the catalog's ``publicURL``.

Ids are the local database ids as text; there is one domain, ``default``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from occistack.federation.keystone_tokens import TokenContent, isotime
from occistack.federation.projects import ProjectRole

DOMAIN = {"id": "default", "name": "Default"}
REGION = "occistack"
V3 = "v3.14"


def _v3_entry(root: str) -> dict[str, Any]:
    return {"id": V3, "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{root}/v3/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}


def _v2_entry(root: str) -> dict[str, Any]:
    return {"id": "v2.0", "status": "deprecated", "updated": "2016-08-04T00:00:00Z",
            "links": [{"rel": "self", "href": f"{root}/v2.0/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v2.0+json"}]}


def versions(root: str) -> dict[str, Any]:
    """The answer (300 Multiple Choices) at the service's root, newest first."""
    return {"versions": {"values": [_v3_entry(root), _v2_entry(root)]}}


def version_v3(root: str) -> dict[str, Any]:
    return {"version": _v3_entry(root)}


def version_v2(root: str) -> dict[str, Any]:
    return {"version": _v2_entry(root)}


# --- v3 ------------------------------------------------------------------------------------------------

def token_v3(content: TokenContent, user_name: str, project: ProjectRole | None, *, root: str, occi_url: str,
             federation: tuple[str, str] | None = None, catalog: bool = True) -> dict[str, Any]:
    """A token as ``POST /v3/auth/tokens`` answers it. ``federation``: the identity provider and
    protocol of an OS-FEDERATION authentication."""
    user: dict[str, Any] = {"id": str(content.user_id), "name": user_name, "domain": DOMAIN,
                            "password_expires_at": None}
    if federation is not None:
        user["OS-FEDERATION"] = {"identity_provider": {"id": federation[0]}, "protocol": {"id": federation[1]},
                                 "groups": []}
    token: dict[str, Any] = {"methods": list(content.methods), "user": user, "audit_ids": [content.audit_id],
                             "issued_at": isotime(content.issued_at), "expires_at": isotime(content.expires_at)}
    if project is not None:
        token["project"] = {"id": str(project.project_id), "name": project.project_name, "domain": DOMAIN}
        token["is_domain"] = False
        token["roles"] = [{"id": project.role, "name": project.role}]
        if catalog:
            token["catalog"] = catalog_v3(root, occi_url)
    return {"token": token}


def catalog_v3(root: str, occi_url: str) -> list[dict[str, Any]]:
    # The identity endpoint under every interface: keystoneclient looks for "admin" by default.
    def endpoints(service: str, url: str) -> list[dict[str, Any]]:
        return [{"id": f"{service}-{interface}", "interface": interface, "region": REGION, "region_id": REGION,
                 "url": url} for interface in ("public", "internal", "admin")]

    return [{"id": "identity", "type": "identity", "name": "keystone", "endpoints": endpoints("identity", root + "/v3")},
            {"id": "occi", "type": "occi", "name": "occistack", "endpoints": endpoints("occi", occi_url)}]


def projects_v3(projects: Sequence[ProjectRole], root: str) -> dict[str, Any]:
    return {"projects": [{"id": str(project.project_id), "name": project.project_name,
                          "description": project.project_title or "", "domain_id": DOMAIN["id"], "enabled": True,
                          "is_domain": False, "parent_id": DOMAIN["id"], "tags": [], "options": {},
                          "links": {"self": f"{root}/v3/projects/{project.project_id}"}}
                         for project in projects],
            "links": {"self": f"{root}/v3/auth/projects", "previous": None, "next": None}}


# --- v2.0 ------------------------------------------------------------------------------------------------

def access_v2(token_id: str, content: TokenContent, user_name: str, project: ProjectRole | None, *, root: str,
              occi_url: str) -> dict[str, Any]:
    """A token as ``POST /v2.0/tokens`` answers it."""
    token: dict[str, Any] = {"id": token_id, "issued_at": isotime(content.issued_at),
                             "expires": _v2_time(content.expires_at), "audit_ids": [content.audit_id]}
    roles = []
    if project is not None:
        token["tenant"] = _tenant(project)
        roles = [{"name": project.role}]
    return {"access": {
        "token": token,
        "serviceCatalog": catalog_v2(root, occi_url) if project is not None else [],
        "user": {"id": str(content.user_id), "name": user_name, "username": user_name, "roles": roles,
                 "roles_links": []},
        "metadata": {"is_admin": 0, "roles": [role["name"] for role in roles]}}}


def catalog_v2(root: str, occi_url: str) -> list[dict[str, Any]]:
    def endpoints(service: str, url: str) -> list[dict[str, Any]]:
        return [{"id": service, "region": REGION, "publicURL": url, "internalURL": url, "adminURL": url}]

    return [{"type": "identity", "name": "keystone", "endpoints": endpoints("identity", root + "/v2.0"),
             "endpoints_links": []},
            {"type": "occi", "name": "occistack", "endpoints": endpoints("occi", occi_url), "endpoints_links": []}]


def tenants_v2(projects: Sequence[ProjectRole]) -> dict[str, Any]:
    return {"tenants": [_tenant(project) for project in projects], "tenants_links": []}


def _tenant(project: ProjectRole) -> dict[str, Any]:
    return {"id": str(project.project_id), "name": project.project_name, "description": project.project_title or "",
            "enabled": True}


def _v2_time(timestamp: float) -> str:
    # v2.0 wrote expiry to the second (VMDIRAC parses it with the 'Z' stripped).
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
