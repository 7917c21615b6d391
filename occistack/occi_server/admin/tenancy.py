"""Admin views of offerings and of who owns what: domains, accounts, projects, users, quotas."""

from __future__ import annotations

from sqlalchemy import select

from ...model import Account, Domain, Project, Quota, ServiceOffering, User
from ...orchestrator import admin
from ...orchestrator.errors import NotFound
from ..settings import get_settings
from .support import (
    AdminResource,
    actor,
    add_resource_views,
    by_id,
    fields,
    json_response,
    query_ref,
    read_body,
    row_json,
)

OFFERING_FIELDS = fields("term!", "title", "cores:integer!", "memory_gib:number!", "disk_gib:number",
                         "speed_ghz:number", "architecture", "host_tags:texts", "storage_tags:texts",
                         "ha_enabled:boolean", "hypervisor")
DOMAIN_FIELDS = fields("name!", "parent:ref")
ACCOUNT_FIELDS = fields("name!", "domain:ref", "kind")
PROJECT_FIELDS = fields("name!", "title", "domain:ref", "account:ref")
USER_FIELDS = fields("name!", "password!", "project:ref!", "account:ref", "role")
QUOTA_FIELDS = fields("project:ref!", "resource!", "limit:number!")


def _set_quota(request):
    """201 for a new limit, 200 when it replaces one (either way the answer is the quota)."""
    body = read_body(request, QUOTA_FIELDS)
    session = request.dbsession
    project = admin.find_project(session, body["project"])
    existed = session.scalar(select(Quota.id).where(Quota.project_id == project.id,
                                                    Quota.resource == body["resource"])) is not None
    quota = admin.set_quota(session, **body, actor=actor(request))
    if existed:
        return json_response(row_json(quota))
    return json_response(row_json(quota), 201, request.route_url("admin_quotas_item", id=quota.id))


def _remove_user(request, user_id: int) -> None:
    admin.remove_user(request.dbsession, user_id, actor=actor(request))
    # This process remembers recently verified passwords; a removed user must not keep working
    # from that memory. (Other processes forget within occistack.auth.cache_seconds.)
    cache = request.registry.get("occistack.credential_cache")
    if cache is not None:
        cache.forget_user(user_id)


def _clear_quota(request, quota_id: int) -> None:
    quota = request.dbsession.get(Quota, quota_id)
    if quota is None:
        raise NotFound(f"no quota with id {quota_id}")
    admin.clear_quota(request.dbsession, project=quota.project_id, resource=quota.resource, actor=actor(request))


RESOURCES = (
    AdminResource(
        "offerings", ServiceOffering, "service offering",
        list_rows=lambda request: admin.list_offerings(request.dbsession),
        create=lambda request: admin.create_offering(request.dbsession, **read_body(request, OFFERING_FIELDS),
                                                     actor=actor(request)),
        remove=by_id(admin.remove_offering),
    ),
    AdminResource(
        "domains", Domain, "domain",
        list_rows=lambda request: admin.list_domains(request.dbsession, under=query_ref(request, "under")),
        create=lambda request: admin.create_domain(request.dbsession, **read_body(request, DOMAIN_FIELDS),
                                                   actor=actor(request)),
        remove=by_id(admin.remove_domain),
    ),
    AdminResource(
        "accounts", Account, "account",
        list_rows=lambda request: admin.list_accounts(request.dbsession, domain=query_ref(request, "domain")),
        create=lambda request: admin.create_account(request.dbsession, **read_body(request, ACCOUNT_FIELDS),
                                                    actor=actor(request)),
        remove=by_id(admin.remove_account),
    ),
    AdminResource(
        "projects", Project, "project",
        list_rows=lambda request: admin.list_projects(request.dbsession, domain=query_ref(request, "domain"),
                                                      account=query_ref(request, "account")),
        create=lambda request: admin.create_project(request.dbsession, **read_body(request, PROJECT_FIELDS),
                                                    quotas=get_settings(request.registry).limits.default_quotas,
                                                    actor=actor(request)),
        remove=by_id(admin.remove_project),
    ),
    AdminResource(
        "users", User, "user",
        list_rows=lambda request: admin.list_users(request.dbsession, project=query_ref(request, "project"),
                                                   account=query_ref(request, "account")),
        create=lambda request: admin.create_user(request.dbsession, **read_body(request, USER_FIELDS),
                                                 actor=actor(request)),
        remove=_remove_user,
    ),
    AdminResource(
        "quotas", Quota, "quota",
        list_rows=lambda request: admin.list_quotas(request.dbsession, project=query_ref(request, "project")),
        create=_set_quota,
        remove=_clear_quota,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
