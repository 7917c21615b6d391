"""Admin views of what OCCI users choose from besides sizes: templates and ISOs (registered by
URL for one or several zones, downloaded into each zone's secondary storage by a job, copied to
another zone with ``POST /admin/templates/<id>/actions/copy {"zone": …}``, a failed copy
downloaded again with ``…/actions/retry``, a private one shared with another project with
``…/actions/share {"project": …}`` and ``…/actions/unshare``), and the projects' affinity groups."""

from __future__ import annotations

from occistack.plane.admin.cases import catalog, tenancy
from occistack.plane.admin.cases.catalog import NewTemplate, TemplateChanges
from occistack.plane.admin.cases.tenancy import AffinityGroupChanges, NewAffinityGroup
from occistack.plane.admin.records.catalog import TemplateRecord
from occistack.plane.admin.records.tenancy import AffinityGroupRecord
from occistack.plane.admin.templates import FORMATS
from occistack.plane.errors import InvalidRequest
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    changes_as,
    fields,
    query_ref,
    read_body,
    record_json,
)

TEMPLATE_FIELDS = fields("term!", "title", "url!", "checksum!", "zone:ref", "zones:texts", "format", "os_family", "os_name",
                         "os_version", "architecture", "size_gib:number", "min_cores:integer",
                         "min_memory_gib:number", "extra_attributes:object", "public:boolean", "project:ref")
TEMPLATE_CHANGES = fields("title?", "os_family?", "os_name?", "os_version?", "min_cores:integer",
                          "min_memory_gib:number", "extra_attributes:object?")
COPY_FIELDS = fields("zone:ref!")
RETRY_FIELDS = fields("zone:ref")
SHARE_FIELDS = fields("project:ref!")
AFFINITY_GROUP_FIELDS = fields("project:ref!", "name!", "kind!", "description")
AFFINITY_GROUP_CHANGES = fields("description?")


def _register_template(request) -> TemplateRecord:
    """201 with the template in ``downloading``: the download is a job, which the worker runs after
    this request commits; GET the template to see it become ready (or error, and why)."""
    return catalog.register_template(request.plane, body_as(request, TEMPLATE_FIELDS, NewTemplate))


def _list_templates(request) -> list[TemplateRecord]:
    wanted = request.params.get("format")
    if wanted is not None and wanted not in FORMATS:
        raise InvalidRequest(f"the format filter must be one of {', '.join(FORMATS)}; got {wanted!r}")
    return catalog.list_templates(request.plane, wanted)


def _copy_template(request, template_id: int) -> TemplateRecord:
    """copyTemplate: the template gets a copy in another zone, downloaded there by a job; the
    answer shows every zone's copy (the new one pending)."""
    template = catalog.show_template(request.plane, template_id)  # 404 before the body is read
    return catalog.copy_template(request.plane, template.id, read_body(request, COPY_FIELDS)["zone"])


def _retry_template(request, template_id: int) -> TemplateRecord:
    """Download again the copies in error (of one zone, when the body names it)."""
    template = catalog.show_template(request.plane, template_id)  # 404 before the body is read
    catalog.retry_template(request.plane, template.id, read_body(request, RETRY_FIELDS).get("zone"))
    return catalog.show_template(request.plane, template.id)


def _share_template(request, template_id: int) -> TemplateRecord:
    """updateTemplatePermissions: the private template is offered to another project too."""
    template = catalog.show_template(request.plane, template_id)  # 404 before the body is read
    return catalog.share_template(request.plane, template.id, read_body(request, SHARE_FIELDS)["project"])


def _unshare_template(request, template_id: int) -> TemplateRecord:
    """The project no longer sees the template; its computes made from it keep running."""
    template = catalog.show_template(request.plane, template_id)  # 404 before the body is read
    return catalog.unshare_template(request.plane, template.id, read_body(request, SHARE_FIELDS)["project"])


def _template_json(template: TemplateRecord) -> dict:
    """The template, with each zone's copy (its state, download progress and reason) and the
    projects it is shared with."""
    return record_json(template, zones=[record_json(copy) for copy in template.copies],
                       shared_with=list(template.shared_with))


def _affinity_group_json(group: AffinityGroupRecord) -> dict:
    return record_json(group, members=group.members)


RESOURCES = (
    AdminResource(
        "templates", "template", by_id(catalog.show_template),
        list_records=_list_templates,
        create=_register_template,
        # The row goes now; its image leaves secondary storage by a job (events say how it went).
        remove=by_id(catalog.delete_template),
        update=lambda request, template_id: catalog.update_template(
            request.plane, template_id, changes_as(request, TEMPLATE_CHANGES, TemplateChanges)),
        actions={"copy": _copy_template, "retry": _retry_template, "share": _share_template,
                 "unshare": _unshare_template},
        render=_template_json,
    ),
    AdminResource(
        "affinity-groups", "affinity group", by_id(tenancy.show_affinity_group),
        list_records=lambda request: tenancy.list_affinity_groups(request.plane, query_ref(request, "project")),
        create=lambda request: tenancy.add_affinity_group(request.plane,
                                                          body_as(request, AFFINITY_GROUP_FIELDS, NewAffinityGroup)),
        remove=by_id(tenancy.remove_affinity_group),
        update=lambda request, group_id: tenancy.update_affinity_group(
            request.plane, group_id, changes_as(request, AFFINITY_GROUP_CHANGES, AffinityGroupChanges)),
        render=_affinity_group_json,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
