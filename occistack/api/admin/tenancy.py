"""Admin views of offerings and of who owns what: domains, accounts, projects, users, quotas."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import object_session

from occistack.model import Account, Domain, Project, Quota, ServiceOffering, User
from occistack.model.occi import infrastructure as infra
from occistack.plane.admin.cases import catalog, tenancy, users
from occistack.plane.admin.cases.catalog import NewOffering
from occistack.plane.admin.cases.tenancy import DefaultNetwork, NewAccount, NewDomain, NewProject, ProjectFilter
from occistack.plane.admin.cases.users import NewPassword, NewUser, QuotaLimit, UserFilter
from occistack.plane.admin.default_networks import project_default_networks
from occistack.api.occi.paths import location_of
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    fields,
    json_response,
    query_ref,
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
QUOTA_FIELDS = fields("project:ref!", "resource!", "limit:number!")
DEFAULT_NETWORK_FIELDS = fields("zone:ref", "network")


def _project_json(project: Project) -> dict:
    # Where the project's computes created without a network link go, zone by zone, shown as
    # the networks' OCCI locations.
    defaults = project_default_networks(object_session(project), project.id)
    return row_json(project, default_networks={zone: location_of(infra.NETWORK, network_id)
                                               for zone, network_id in defaults.items()})


def _set_default_network(request, project_id: int) -> Project:
    """{"network": "/network/<id>"} (or its id alone) makes it the default in its zone;
    {"zone": …} alone clears the zone's choice."""
    choice = body_as(request, DEFAULT_NETWORK_FIELDS, DefaultNetwork)
    if isinstance(choice.network, str):
        # The plane names networks by id; this face also takes their location.
        choice = replace(choice, network=choice.network.removeprefix(infra.NETWORK.location).strip("/"))
    tenancy.set_default_network(request.plane, project_id, choice)
    return tenancy.show_project(request.plane, project_id)


def _set_quota(request):
    """201 for a new limit, 200 when it replaces one (either way the answer is the quota)."""
    result = users.set_quota(request.plane, body_as(request, QUOTA_FIELDS, QuotaLimit))
    if not result.created:
        return json_response(row_json(result.quota))
    return json_response(row_json(result.quota), 201, request.route_url("admin_quotas_item", id=result.quota.id))


def _create_user(request):
    return users.add_user(request.plane, body_as(request, USER_FIELDS, NewUser)).user


def _set_password(request, user_id: int):
    user = users.set_user_password(request.plane, user_id, body_as(request, PASSWORD_FIELDS, NewPassword))
    _forget_password(request, user_id)
    return user


def _remove_user(request, user_id: int) -> None:
    users.remove_user(request.plane, user_id)
    _forget_password(request, user_id)


def _forget_password(request, user_id: int) -> None:
    # This process remembers recently verified passwords; a removed user, or an old password,
    # must not keep working from that memory. (Other processes forget within
    # occistack.auth.cache_seconds.)
    cache = request.registry.get("occistack.credential_cache")
    if cache is not None:
        cache.forget_user(user_id)


RESOURCES = (
    AdminResource(
        "offerings", ServiceOffering, "service offering",
        list_rows=lambda request: catalog.list_offerings(request.plane),
        create=lambda request: catalog.add_offering(request.plane, body_as(request, OFFERING_FIELDS, NewOffering)),
        remove=by_id(catalog.remove_offering),
    ),
    AdminResource(
        "domains", Domain, "domain",
        list_rows=lambda request: tenancy.list_domains(request.plane, query_ref(request, "under")),
        create=lambda request: tenancy.add_domain(request.plane, body_as(request, DOMAIN_FIELDS, NewDomain)),
        remove=by_id(tenancy.remove_domain),
    ),
    AdminResource(
        "accounts", Account, "account",
        list_rows=lambda request: tenancy.list_accounts(request.plane, query_ref(request, "domain")),
        create=lambda request: tenancy.add_account(request.plane, body_as(request, ACCOUNT_FIELDS, NewAccount)),
        remove=by_id(tenancy.remove_account),
    ),
    AdminResource(
        "projects", Project, "project",
        list_rows=lambda request: tenancy.list_projects(request.plane, ProjectFilter(
            domain=query_ref(request, "domain"), account=query_ref(request, "account"))),
        create=lambda request: tenancy.add_project(request.plane, body_as(request, PROJECT_FIELDS, NewProject)),
        remove=by_id(tenancy.remove_project),
        actions={"default-network": _set_default_network},
        render=_project_json,
    ),
    AdminResource(
        "users", User, "user",
        list_rows=lambda request: users.list_users(request.plane, UserFilter(
            project=query_ref(request, "project"), account=query_ref(request, "account"))),
        create=_create_user,
        remove=_remove_user,
        actions={"password": _set_password},
    ),
    AdminResource(
        "quotas", Quota, "quota",
        list_rows=lambda request: users.list_quotas(request.plane, query_ref(request, "project")),
        create=_set_quota,
        remove=by_id(users.clear_quota),
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
