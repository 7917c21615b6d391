"""Sharing a private template with other projects, as CloudStack's updateTemplatePermissions
adds and removes projects.

A share puts the template in the os_tpl mixins of the project it names, whose users may then
make computes from it; the template stays its owner's (only the owner's users and the
administrator remove it). Writing or removing a share bumps the catalog generation (the flush
hook of model/session.py), so the project's discovery changes at its next request. Unsharing
stops new computes only: those already made keep running, and keep naming their template.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, Project, TemplateShare
from occistack.plane.admin.common import SYSTEM, Actor, Ref, record_change
from occistack.plane.admin.lookup import find_project
from occistack.plane.errors import Conflict, InvalidRequest


def share_template(session: Session, template: OsTemplate, project: Ref, *, actor: Actor = SYSTEM) -> Project:
    """Share the private ``template`` with ``project``; the project it was shared with."""
    the_project = find_project(session, project)
    _check_shareable(session, template, the_project)
    if _share_of(session, template, the_project) is not None:
        raise Conflict(f"template {template.term!r} is already shared with project {the_project.name!r}")
    session.add(TemplateShare(template_id=template.id, project_id=the_project.id))
    session.flush()
    record_change(session, actor, "template.share", "template", template.id,
                  f"template {template.term!r} with project {the_project.name!r}", project_id=template.project_id)
    return the_project


def unshare_template(session: Session, template: OsTemplate, project: Ref, *, actor: Actor = SYSTEM) -> Project:
    """Stop sharing ``template`` with ``project``: it leaves that project's catalog, and the
    project's computes made from it stay as they are."""
    the_project = find_project(session, project)
    share = _share_of(session, template, the_project)
    if share is None:
        shared = ", ".join(shared_with(session, template.id)) or "no project"
        raise Conflict(f"template {template.term!r} is not shared with project {the_project.name!r} "
                       f"(it is shared with {shared})")
    session.delete(share)
    session.flush()
    record_change(session, actor, "template.unshare", "template", template.id,
                  f"template {template.term!r} from project {the_project.name!r}", project_id=template.project_id)
    return the_project


def shared_with(session: Session, template_id: int) -> list[str]:
    """The names of the projects ``template_id`` is shared with, by name."""
    return shares_of(session, [template_id]).get(template_id, [])


def shares_of(session: Session, template_ids: list[int]) -> dict[int, list[str]]:
    """template id → the names of the projects it is shared with, in one query."""
    found: dict[int, list[str]] = {}
    if not template_ids:
        return found
    for template_id, name in session.execute(
            select(TemplateShare.template_id, Project.name).join(Project, Project.id == TemplateShare.project_id)
            .where(TemplateShare.template_id.in_(template_ids)).order_by(Project.name)):
        found.setdefault(template_id, []).append(name)
    return found


def _share_of(session: Session, template: OsTemplate, project: Project) -> TemplateShare | None:
    return session.scalar(select(TemplateShare).where(TemplateShare.template_id == template.id,
                                                      TemplateShare.project_id == project.id))


def _check_shareable(session: Session, template: OsTemplate, project: Project) -> None:
    if template.format != "template":
        raise InvalidRequest(f"{template.term!r} is an ISO: ISOs are never published to projects, so there is "
                             "nothing to share; share an OS template")
    if template.project_id is None:
        raise Conflict(f"template {template.term!r} is public: every project already has it; only a private "
                       "template (registered with a project, or saved from a compute) is shared")
    if template.project_id == project.id:
        owner = session.get(Project, template.project_id)
        raise InvalidRequest(f"template {template.term!r} belongs to project {owner.name!r}; share it with "
                             "another project")
