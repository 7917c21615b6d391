"""Users in several projects: the role a user holds in a project besides their home one.

A user's home project and role there stay on the user (``users.project_id``, ``users.role``):
it is where a request works when it names no project, and what a federated user's mapping
rules set at each login. Every other project they may work in is a membership here, with a
role of its own. Any change of memberships revokes the user's remembered credentials, whose
identities (a Keystone token's scope among them) name a project and a role.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import ROLES, Project, ProjectMembership, User
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    find_row,
    record_change,
)
from occistack.plane.admin.lookup import find_project, find_user
from occistack.plane.errors import Conflict, NotFound
from occistack.plane.revocations import revoke_credentials


def add_membership(session: Session, *, user: Ref, project: Ref, role: str = "member",
                   actor: Actor = SYSTEM) -> ProjectMembership:
    """Give ``user`` ``role`` in ``project``, which must not be their home project (change
    their role there with update_user) nor one they already hold a role in."""
    the_user, the_project = find_user(session, user), find_project(session, project)
    check_choice("role", role, ROLES)
    if the_project.id == the_user.project_id:
        raise Conflict(f"project {the_project.name!r} is the home project of user {the_user.name!r}; change their "
                       "role there by updating the user")
    held = session.scalar(select(ProjectMembership).where(ProjectMembership.user_id == the_user.id,
                                                          ProjectMembership.project_id == the_project.id))
    if held is not None:
        raise Conflict(f"user {the_user.name!r} already holds the role {held.role!r} in project "
                       f"{the_project.name!r} (membership {held.id}); update that membership instead")
    membership = ProjectMembership(user_id=the_user.id, project_id=the_project.id, role=role)
    session.add(membership)
    session.flush()
    revoke_credentials(session, [the_user.id])
    record_change(session, actor, "membership.add", "membership", membership.id,
                  f"user {the_user.name!r} is {role} in project {the_project.name!r}", project_id=the_project.id)
    return membership


def find_membership(session: Session, membership: int | tuple[Ref, Ref]) -> ProjectMembership:
    """By id, or by (user, project)."""
    if isinstance(membership, int):
        return find_row(session, ProjectMembership, membership, "membership")
    user, project = membership
    the_user, the_project = find_user(session, user), find_project(session, project)
    found = session.scalar(select(ProjectMembership).where(ProjectMembership.user_id == the_user.id,
                                                           ProjectMembership.project_id == the_project.id))
    if found is None:
        raise NotFound(f"user {the_user.name!r} holds no role in project {the_project.name!r}"
                       + (" (it is their home project: see the user)" if the_project.id == the_user.project_id
                          else ""))
    return found


def update_membership(session: Session, membership: ProjectMembership, *, role=UNCHANGED,
                      actor: Actor = SYSTEM) -> ProjectMembership:
    """A new role in the project; the user and project are what the membership is."""
    changed = {} if role is UNCHANGED else {"role": check_choice("role", role, ROLES)}
    apply_changes(session, membership, "membership", changed, actor, label=f"membership {membership.id}")
    if changed:
        revoke_credentials(session, [membership.user_id])
    return membership


def remove_membership(session: Session, membership: ProjectMembership, *, actor: Actor = SYSTEM) -> None:
    """The user no longer works in the project; what they made there stays with the project."""
    user_id, project_id = membership.user_id, membership.project_id
    user_name = session.get(User, user_id).name
    project_name = session.get(Project, project_id).name
    session.delete(membership)
    session.flush()
    revoke_credentials(session, [user_id])
    record_change(session, actor, "membership.remove", "membership", membership.id,
                  f"user {user_name!r} left project {project_name!r}", project_id=project_id)


def list_memberships(session: Session, *, user: Ref | None = None, project: Ref | None = None) -> list[ProjectMembership]:
    query = select(ProjectMembership).order_by(ProjectMembership.id)
    if user is not None:
        query = query.where(ProjectMembership.user_id == find_user(session, user).id)
    if project is not None:
        query = query.where(ProjectMembership.project_id == find_project(session, project).id)
    return list(session.scalars(query))


def members_of(session: Session, project_id: int) -> list[int]:
    """The ids of the users who hold a role in the project by membership (not its home users)."""
    return list(session.scalars(select(ProjectMembership.user_id).where(ProjectMembership.project_id == project_id)))

