"""Admin views of what OCCI users choose from besides sizes: templates and ISOs (registered by
URL for one or several zones, downloaded into each zone's secondary storage by a job, copied to
another zone with ``POST /admin/templates/<id>/actions/copy {"zone": …}``, a failed copy
downloaded again with ``…/actions/retry``), and the projects' affinity groups."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from occistack.model import AffinityGroup, OsTemplate
from occistack.plane.admin.cases import catalog, tenancy
from occistack.plane.admin.cases.catalog import NewTemplate
from occistack.plane.admin.cases.tenancy import NewAffinityGroup
from occistack.plane.admin.templates import copies_json
from occistack.plane.admin.templates import FORMATS
from occistack.plane.admin.affinity import members_count
from occistack.plane.errors import InvalidRequest
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    fields,
    query_ref,
    read_body,
    row_json,
)

TEMPLATE_FIELDS = fields("term!", "title", "url!", "checksum!", "zone:ref", "zones:texts", "format", "os_family", "os_name",
                         "os_version", "architecture", "size_gib:number", "min_cores:integer",
                         "min_memory_gib:number", "extra_attributes:object", "public:boolean", "project:ref")
COPY_FIELDS = fields("zone:ref!")
RETRY_FIELDS = fields("zone:ref")
AFFINITY_GROUP_FIELDS = fields("project:ref!", "name!", "kind!", "description")


def _register_template(request) -> OsTemplate:
    """201 with the row in ``downloading``: the download is a job, which the worker runs after
    this request commits; GET the template to see it become ready (or error, and why)."""
    return catalog.register_template(request.plane, body_as(request, TEMPLATE_FIELDS, NewTemplate))


def _list_templates(request) -> list[OsTemplate]:
    wanted = request.params.get("format")
    if wanted is not None and wanted not in FORMATS:
        raise InvalidRequest(f"the format filter must be one of {', '.join(FORMATS)}; got {wanted!r}")
    return catalog.list_templates(request.plane, wanted)


def _copy_template(request, template_id: int) -> OsTemplate:
    """copyTemplate: the template gets a copy in another zone, downloaded there by a job; the
    answer shows every zone's copy (the new one pending)."""
    template = catalog.show_template(request.plane, template_id)
    catalog.copy_template(request.plane, template.id, read_body(request, COPY_FIELDS)["zone"])
    return template


def _retry_template(request, template_id: int) -> OsTemplate:
    """Download again the copies in error (of one zone, when the body names it)."""
    template = catalog.show_template(request.plane, template_id)
    catalog.retry_template(request.plane, template.id, read_body(request, RETRY_FIELDS).get("zone"))
    return template


def _template_json(template: OsTemplate) -> dict:
    """The row, with each zone's copy: its state, download progress and reason."""
    return row_json(template, zones=copies_json(object_session(template), template.id))


def _affinity_group_json(group: AffinityGroup) -> dict:
    return row_json(group, members=members_count(object_session(group), group.id))


RESOURCES = (
    AdminResource(
        "templates", OsTemplate, "template",
        list_rows=_list_templates,
        create=_register_template,
        # The row goes now; its image leaves secondary storage by a job (events say how it went).
        remove=by_id(catalog.delete_template),
        actions={"copy": _copy_template, "retry": _retry_template},
        render=_template_json,
    ),
    AdminResource(
        "affinity-groups", AffinityGroup, "affinity group",
        list_rows=lambda request: tenancy.list_affinity_groups(request.plane, query_ref(request, "project")),
        create=lambda request: tenancy.add_affinity_group(request.plane,
                                                          body_as(request, AFFINITY_GROUP_FIELDS, NewAffinityGroup)),
        remove=by_id(tenancy.remove_affinity_group),
        render=_affinity_group_json,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
