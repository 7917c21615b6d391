"""Admin views of LDAP group links: /admin/ldap-links (list, link), /admin/ldap-links/{id}
(show, unlink). A link is made or removed whole: to move a group elsewhere, unlink it and link
it again."""

from __future__ import annotations

from occistack.plane.admin.cases import ldap_links
from occistack.plane.admin.cases.ldap_links import LdapLinkFilter, NewLdapLink
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    fields,
    query_ref,
    record_json,
)

LINK_FIELDS = fields("group!", "account:ref!", "project:ref!", "role")


RESOURCES = (
    AdminResource(
        "ldap-links", "LDAP group link", by_id(ldap_links.show_link),
        list_records=lambda request: ldap_links.list_links(request.plane, LdapLinkFilter(
            project=query_ref(request, "project"), account=query_ref(request, "account"))),
        create=lambda request: ldap_links.add_link(request.plane, body_as(request, LINK_FIELDS, NewLdapLink)),
        remove=by_id(ldap_links.remove_link),
        render=lambda link: record_json(link, account=link.account_name, project=link.project_name),
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
