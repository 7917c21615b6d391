"""Admin views of what OCCI users choose from besides sizes: templates and ISOs (registered by
URL for one or several zones, downloaded into each zone's secondary storage by a job, copied to
another zone with ``POST /admin/templates/<id>/actions/copy {"zone": …}``, a failed copy
downloaded again with ``…/actions/retry``), and the projects' affinity groups."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from occistack.model import AffinityGroup, OsTemplate
from occistack.plane import admin
from occistack.plane.tenant import affinity
from occistack.plane.errors import InvalidRequest
from occistack.api.admin.support import AdminResource, actor, add_resource_views, fields, query_ref, read_body, row_json

TEMPLATE_FIELDS = fields("term!", "title", "url!", "checksum!", "zone:ref", "zones:texts", "format", "os_family", "os_name",
                         "os_version", "architecture", "size_gib:number", "min_cores:integer",
                         "min_memory_gib:number", "extra_attributes:object", "public:boolean", "project:ref")
COPY_FIELDS = fields("zone:ref!")
RETRY_FIELDS = fields("zone:ref")
AFFINITY_GROUP_FIELDS = fields("project:ref!", "name!", "kind!", "description")


def _register_template(request) -> OsTemplate:
    """201 with the row in ``downloading``: the download is a job, which the worker runs after
    this request commits; GET the template to see it become ready (or error, and why)."""
    return admin.register_template(request.dbsession, **read_body(request, TEMPLATE_FIELDS), actor=actor(request),
                                   dispatcher=request.registry["occistack.dispatcher"])


def _list_templates(request) -> list[OsTemplate]:
    wanted = request.params.get("format")
    if wanted is not None and wanted not in admin.FORMATS:
        raise InvalidRequest(f"the format filter must be one of {', '.join(admin.FORMATS)}; got {wanted!r}")
    return admin.list_templates(request.dbsession, format=wanted)


def _delete_template(request, template_id: int) -> None:
    """The row goes now; its image leaves secondary storage by a job (events say how it went)."""
    admin.delete_template(request.dbsession, template_id, actor=actor(request),
                          dispatcher=request.registry["occistack.dispatcher"])


def _copy_template(request, template_id: int) -> OsTemplate:
    """copyTemplate: the template gets a copy in another zone, downloaded there by a job; the
    answer shows every zone's copy (the new one pending)."""
    template = admin.find_template(request.dbsession, template_id)
    admin.copy_template(request.dbsession, template, read_body(request, COPY_FIELDS)["zone"], actor=actor(request),
                        dispatcher=request.registry["occistack.dispatcher"])
    return template


def _retry_template(request, template_id: int) -> OsTemplate:
    """Download again the copies in error (of one zone, when the body names it)."""
    template = admin.find_template(request.dbsession, template_id)
    zone = read_body(request, RETRY_FIELDS).get("zone")
    admin.retry_template(request.dbsession, template, zone, actor=actor(request),
                         dispatcher=request.registry["occistack.dispatcher"])
    return template


def _template_json(template: OsTemplate) -> dict:
    """The row, with each zone's copy: its state, download progress and reason."""
    return row_json(template, zones=admin.copies_json(object_session(template), template.id))


def _create_affinity_group(request) -> AffinityGroup:
    body = read_body(request, AFFINITY_GROUP_FIELDS)
    project = admin.find_project(request.dbsession, body.pop("project"))
    return affinity.create_affinity_group(request.dbsession, project_id=project.id, **body, actor=actor(request))


def _list_affinity_groups(request) -> list[AffinityGroup]:
    project = query_ref(request, "project")
    project_id = admin.find_project(request.dbsession, project).id if project is not None else None
    return affinity.list_affinity_groups(request.dbsession, project_id=project_id)


def _delete_affinity_group(request, group_id: int) -> None:
    affinity.delete_affinity_group(request.dbsession, group_id, actor=actor(request))


def _affinity_group_json(group: AffinityGroup) -> dict:
    return row_json(group, members=affinity.members_count(object_session(group), group.id))


RESOURCES = (
    AdminResource(
        "templates", OsTemplate, "template",
        list_rows=_list_templates,
        create=_register_template,
        remove=_delete_template,
        actions={"copy": _copy_template, "retry": _retry_template},
        render=_template_json,
    ),
    AdminResource(
        "affinity-groups", AffinityGroup, "affinity group",
        list_rows=_list_affinity_groups,
        create=_create_affinity_group,
        remove=_delete_affinity_group,
        render=_affinity_group_json,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
