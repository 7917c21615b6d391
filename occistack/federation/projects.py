"""Who holds a role where: a user's home project (``users.project_id``, with ``users.role``)
and the projects they are a member of (``project_memberships``), and the project a request
works in when it names one.

Every face authenticates a user once and then works in one project: a Keystone token's scope,
or -- for the credentials that carry no project (a password, an OIDC token, a certificate) --
the home project, unless the request names another one the user holds a role in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from occistack.federation.errors import ProjectNotHeld
from occistack.federation.identity import Identity
from occistack.model import Project, ProjectMembership, User, may_sign_in, project_in_disabled_domain


@dataclass(frozen=True, slots=True)
class ProjectRole:
    project_id: int
    project_name: str
    project_title: str | None
    role: str


def project_roles(session: Session, user_id: int) -> list[ProjectRole]:
    """The projects the user holds a role in, with the role: the home project first, then the
    others by name (leaving out those in a disabled domain). Empty for a user that is disabled
    or gone."""
    columns = (Project.id.label("id"), Project.name.label("name"), Project.title.label("title"))
    home = (select(*columns, User.role.label("role"), literal(0).label("rank"))
            .join(User, User.project_id == Project.id)
            .where(User.id == user_id, may_sign_in()))
    others = (select(*columns, ProjectMembership.role.label("role"), literal(1).label("rank"))
              .join(ProjectMembership, ProjectMembership.project_id == Project.id)
              .join(User, User.id == ProjectMembership.user_id)
              .where(User.id == user_id, may_sign_in(), ~project_in_disabled_domain(Project.id)))
    both = union_all(home, others).subquery()
    rows = session.execute(select(both).order_by(both.c.rank, both.c.name)).all()
    return [ProjectRole(row.id, row.name, row.title, row.role) for row in rows]


def project_name(session: Session, project_id: int) -> str | None:
    return session.scalar(select(Project.name).where(Project.id == project_id))


def in_project(session: Session, identity: Identity, wanted: str) -> Identity:
    """``identity`` working in the project ``wanted`` names (its name, or its id in digits),
    with the role the user holds there; ProjectNotHeld when they hold none."""
    wanted = wanted.strip()
    held = project_roles(session, identity.user_id)
    for entry in held:
        if entry.project_name == wanted or (wanted.isdigit() and str(entry.project_id) == wanted):
            return replace(identity, project_id=entry.project_id, role=entry.role)
    names = ", ".join(entry.project_name for entry in held) or "none"
    raise ProjectNotHeld(f"user {identity.user_name!r} holds no role in project {wanted!r}; the projects they "
                         f"may work in: {names}")
