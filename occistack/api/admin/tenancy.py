"""Admin views of offerings and of who owns what: domains, accounts, projects, users, quotas."""

from __future__ import annotations

from dataclasses import replace

from occistack.model.occi import infrastructure as infra
from occistack.plane.admin.cases import catalog, tenancy, users
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.catalog import NewOffering, OfferingChanges
from occistack.plane.admin.cases.tenancy import (
    AccountChanges,
    DefaultNetwork,
    DomainChanges,
    NewAccount,
    NewDomain,
    NewProject,
    ProjectChanges,
    ProjectFilter,
)
from occistack.plane.admin.cases.users import (
    MembershipChanges,
    MembershipFilter,
    NewMembership,
    NewPassword,
    NewUser,
    QuotaChanges,
    QuotaLimit,
    UserChanges,
    UserFilter,
)
from occistack.plane.admin.records.tenancy import AccountRecord, DomainRecord, ProjectRecord
from occistack.plane.admin.records.users import QuotaRecord, UserRecord
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    changes_as,
    fields,
    json_response,
    query_ref,
    record_json,
)

OFFERING_FIELDS = fields("term!", "title", "cores:integer!", "memory_gib:number!", "disk_gib:number",
                         "speed_ghz:number", "architecture", "host_tags:texts", "storage_tags:texts",
                         "ha_enabled:boolean", "hypervisor")
OFFERING_CHANGES = fields("title?", "host_tags:texts?", "storage_tags:texts?", "ha_enabled:boolean")
DOMAIN_FIELDS = fields("name!", "parent:ref")
DOMAIN_CHANGES = fields("name")
ACCOUNT_FIELDS = fields("name!", "domain:ref", "kind")
ACCOUNT_CHANGES = fields("name")
PROJECT_FIELDS = fields("name!", "title", "domain:ref", "account:ref")
PROJECT_CHANGES = fields("title?", "account:ref?")
USER_FIELDS = fields("name!", "password!", "project:ref!", "account:ref", "role", "create_project:boolean",
                     "domain:ref")
USER_CHANGES = fields("role", "account:ref?")
PASSWORD_FIELDS = fields("password!")
MEMBERSHIP_FIELDS = fields("user:ref!", "project:ref!", "role")
MEMBERSHIP_CHANGES = fields("role")
QUOTA_FIELDS = fields("project:ref!", "resource!", "limit:number!")
QUOTA_CHANGES = fields("limit:number")
DEFAULT_NETWORK_FIELDS = fields("zone:ref", "network")


def _project_json(project: ProjectRecord) -> dict:
    # Where the project's computes created without a network link go, zone by zone, shown as
    # the networks' OCCI locations.
    return record_json(project, default_networks={zone: infra.NETWORK.location_of(network_id)
                                                  for zone, network_id in project.default_networks.items()})


def _set_default_network(request, project_id: int) -> ProjectRecord:
    """{"network": "/network/<id>"} (or its id alone) makes it the default in its zone;
    {"zone": …} alone clears the zone's choice."""
    choice = body_as(request, DEFAULT_NETWORK_FIELDS, DefaultNetwork)
    if isinstance(choice.network, str):
        # The plane names networks by id; this face also takes their location.
        choice = replace(choice, network=infra.NETWORK.id_named_by(choice.network))
    return tenancy.set_default_network(request.plane, project_id, choice)


def _quota_json(quota: QuotaRecord) -> dict:
    # What the project holds now, beside its limit.
    return record_json(quota, used=quota.used)


def _set_quota(request):
    """201 for a new limit, 200 when it replaces one (either way the answer is the quota)."""
    result = users.set_quota(request.plane, body_as(request, QUOTA_FIELDS, QuotaLimit))
    if not result.created:
        return json_response(_quota_json(result.quota))
    return json_response(_quota_json(result.quota), 201, request.route_url("admin_quotas_item", id=result.quota.id))


def _create_user(request):
    return users.add_user(request.plane, body_as(request, USER_FIELDS, NewUser)).user


def _set_password(request, user_id: int) -> UserRecord:
    return users.set_user_password(request.plane, user_id, body_as(request, PASSWORD_FIELDS, NewPassword))


def _update_user(request, user_id: int) -> UserRecord:
    return users.update_user(request.plane, user_id, changes_as(request, USER_CHANGES, UserChanges))


def _switch_user(action: Switch):
    def switch(request, user_id: int) -> UserRecord:
        return users.act_on_user(request.plane, user_id, action)
    return switch


def _switch_account(action: Switch):
    def switch(request, account_id: int) -> AccountRecord:
        return tenancy.act_on_account(request.plane, account_id, action)
    return switch


def _switch_domain(action: Switch):
    def switch(request, domain_id: int) -> DomainRecord:
        return tenancy.act_on_domain(request.plane, domain_id, action)
    return switch


def _remove_user(request, user_id: int) -> None:
    users.remove_user(request.plane, user_id)


RESOURCES = (
    AdminResource(
        "offerings", "service offering", by_id(catalog.show_offering),
        list_records=lambda request: catalog.list_offerings(request.plane),
        create=lambda request: catalog.add_offering(request.plane, body_as(request, OFFERING_FIELDS, NewOffering)),
        remove=by_id(catalog.remove_offering),
        update=lambda request, offering_id: catalog.update_offering(
            request.plane, offering_id, changes_as(request, OFFERING_CHANGES, OfferingChanges)),
    ),
    AdminResource(
        "domains", "domain", by_id(tenancy.show_domain),
        list_records=lambda request: tenancy.list_domains(request.plane, query_ref(request, "under")),
        create=lambda request: tenancy.add_domain(request.plane, body_as(request, DOMAIN_FIELDS, NewDomain)),
        remove=by_id(tenancy.remove_domain),
        update=lambda request, domain_id: tenancy.update_domain(request.plane, domain_id,
                                                                changes_as(request, DOMAIN_CHANGES, DomainChanges)),
        actions={action.value: _switch_domain(action) for action in Switch},
    ),
    AdminResource(
        "accounts", "account", by_id(tenancy.show_account),
        list_records=lambda request: tenancy.list_accounts(request.plane, query_ref(request, "domain")),
        create=lambda request: tenancy.add_account(request.plane, body_as(request, ACCOUNT_FIELDS, NewAccount)),
        remove=by_id(tenancy.remove_account),
        update=lambda request, account_id: tenancy.update_account(
            request.plane, account_id, changes_as(request, ACCOUNT_CHANGES, AccountChanges)),
        actions={action.value: _switch_account(action) for action in Switch},
    ),
    AdminResource(
        "projects", "project", by_id(tenancy.show_project),
        list_records=lambda request: tenancy.list_projects(request.plane, ProjectFilter(
            domain=query_ref(request, "domain"), account=query_ref(request, "account"))),
        create=lambda request: tenancy.add_project(request.plane, body_as(request, PROJECT_FIELDS, NewProject)),
        remove=by_id(tenancy.remove_project),
        update=lambda request, project_id: tenancy.update_project(
            request.plane, project_id, changes_as(request, PROJECT_CHANGES, ProjectChanges)),
        actions={"default-network": _set_default_network},
        render=_project_json,
    ),
    AdminResource(
        "users", "user", by_id(users.show_user),
        list_records=lambda request: users.list_users(request.plane, UserFilter(
            project=query_ref(request, "project"), account=query_ref(request, "account"))),
        create=_create_user,
        remove=_remove_user,
        update=_update_user,
        actions={"password": _set_password, **{action.value: _switch_user(action) for action in Switch}},
    ),
    AdminResource(
        "memberships", "membership", by_id(users.show_membership),
        list_records=lambda request: users.list_memberships(request.plane, MembershipFilter(
            user=query_ref(request, "user"), project=query_ref(request, "project"))),
        create=lambda request: users.add_membership(request.plane, body_as(request, MEMBERSHIP_FIELDS, NewMembership)),
        remove=by_id(users.remove_membership),
        update=lambda request, membership_id: users.update_membership(
            request.plane, membership_id, changes_as(request, MEMBERSHIP_CHANGES, MembershipChanges)),
        render=lambda membership: record_json(membership, user=membership.user_name, project=membership.project_name),
    ),
    AdminResource(
        "quotas", "quota", by_id(users.show_quota),
        list_records=lambda request: users.list_quotas(request.plane, query_ref(request, "project")),
        create=_set_quota,
        remove=by_id(users.clear_quota),
        update=lambda request, quota_id: users.update_quota(request.plane, quota_id,
                                                            changes_as(request, QUOTA_CHANGES, QuotaChanges)),
        render=_quota_json,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
