"""A project's own OS templates -- those saved from its computes (the OCCI save action) -- and
their removal by the project's users. The site's public templates stay the administrator's."""

from __future__ import annotations

from sqlalchemy import or_, select

from occistack.model import OsTemplate, TemplateShare, VirtualMachine
from occistack.plane.admin.common import Actor, count
from occistack.plane.admin.templates import delete_template
from occistack.plane.context import PlaneContext
from occistack.plane.errors import Conflict, NotFound, NotPermitted


def delete_saved_template(ctx: PlaneContext, term: str) -> None:
    """Remove the caller's project's template ``term`` and its image.

    A template a compute still boots from stays: a compute keeps naming its os_tpl (its
    rendering, its usage records, a rebuild), so the computes go first -- the same rule as for
    the administrator's templates."""
    session, caller = ctx.session, ctx.caller
    template = session.scalar(select(OsTemplate).where(
        OsTemplate.term == term, OsTemplate.format == "template",
        or_(OsTemplate.project_id.is_(None), OsTemplate.project_id == caller.project_id)))
    if template is None:
        if session.scalar(select(TemplateShare.id).join(OsTemplate, OsTemplate.id == TemplateShare.template_id)
                          .where(OsTemplate.term == term, TemplateShare.project_id == caller.project_id)):
            raise NotPermitted(f"OS template {term!r} was shared with your project by another project: only its "
                               "owner removes it")
        raise NotFound(f"you have no OS template {term!r}; GET /os_tpl/ lists the templates you can use")
    if template.project_id is None:
        raise NotPermitted(f"OS template {term!r} is one of the site's public templates: only the site "
                           "administrator removes it; you can remove user-defined mixins and the templates your "
                           "project saved")
    users = list(session.scalars(select(VirtualMachine.id).where(VirtualMachine.template_id == template.id)
                                 .order_by(VirtualMachine.id).limit(5)))
    if users:
        total = count(session, VirtualMachine, VirtualMachine.template_id == template.id)
        listed = ", ".join(users) + (", …" if total > len(users) else "")
        raise Conflict(f"OS template {term!r} is still used by {total} compute{'' if total == 1 else 's'} "
                       f"({listed}); delete {'it' if total == 1 else 'them'} first")
    delete_template(session, template.id, format="template", dispatcher=ctx.dispatcher,
                    actor=Actor(caller.user_name, caller.user_id))
