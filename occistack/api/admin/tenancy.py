"""Admin views of offerings and of who owns what: domains, accounts, projects, users, quotas."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from occistack.model import Account, Domain, Project, Quota, ServiceOffering, User
from occistack.plane import admin
from occistack.plane.tenant import default_networks
from occistack.plane.errors import NotFound
from occistack.api.settings import get_settings
from occistack.api.admin.support import (
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
USER_FIELDS = fields("name!", "password!", "project:ref!", "account:ref", "role", "create_project:boolean",
                     "domain:ref")
PASSWORD_FIELDS = fields("password!")
#: Where the site's shortest acceptable password (occistack.password_min_length) is kept.
PASSWORD_MIN_LENGTH = "occistack.password_min_length"
QUOTA_FIELDS = fields("project:ref!", "resource!", "limit:number!")
DEFAULT_NETWORK_FIELDS = fields("zone:ref", "network")


def _project_json(project: Project) -> dict:
    # Where the project's computes created without a network link go, zone by zone.
    return row_json(project, default_networks=default_networks.project_default_networks(object_session(project),
                                                                                        project.id))


def _set_default_network(request, project_id: int) -> Project:
    """{"network": "/network/<id>"} makes it the default in its zone; {"zone": …} alone clears
    the zone's choice."""
    default_networks.set_project_default_network(request.dbsession, project=project_id,
                                                  **read_body(request, DEFAULT_NETWORK_FIELDS), actor=actor(request))
    return admin.find_project(request.dbsession, project_id)


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


def _create_user(request):
    return admin.create_user(request.dbsession, **read_body(request, USER_FIELDS),
                             password_min_length=request.registry[PASSWORD_MIN_LENGTH],
                             project_quotas=get_settings(request.registry).limits.default_quotas, actor=actor(request))


def _set_password(request, user_id: int):
    user = admin.set_user_password(request.dbsession, user_id, **read_body(request, PASSWORD_FIELDS),
                                   password_min_length=request.registry[PASSWORD_MIN_LENGTH], actor=actor(request))
    _forget_password(request, user_id)
    return user


def _remove_user(request, user_id: int) -> None:
    admin.remove_user(request.dbsession, user_id, actor=actor(request))
    _forget_password(request, user_id)


def _forget_password(request, user_id: int) -> None:
    # This process remembers recently verified passwords; a removed user, or an old password,
    # must not keep working from that memory. (Other processes forget within
    # occistack.auth.cache_seconds.)
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
        actions={"default-network": _set_default_network},
        render=_project_json,
    ),
    AdminResource(
        "users", User, "user",
        list_rows=lambda request: admin.list_users(request.dbsession, project=query_ref(request, "project"),
                                                   account=query_ref(request, "account")),
        create=_create_user,
        remove=_remove_user,
        actions={"password": _set_password},
    ),
    AdminResource(
        "quotas", Quota, "quota",
        list_rows=lambda request: admin.list_quotas(request.dbsession, project=query_ref(request, "project")),
        create=_set_quota,
        remove=_clear_quota,
    ),
)


def includeme(config) -> None:
    config.registry[PASSWORD_MIN_LENGTH] = admin.password_min_length_of(config.get_settings())
    for resource in RESOURCES:
        add_resource_views(config, resource)
