"""Local users (who work in one project, with one role) and the quotas of projects."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...federation import hash_password
from ...model import QUOTA_RESOURCES, ROLES, Quota, User
from ..errors import InvalidRequest, NotFound
from .common import (
    SYSTEM,
    Actor,
    Ref,
    check_choice,
    check_number,
    record_change,
    refuse_duplicate,
)
from .lookup import find_account, find_project, find_user

#: HTTP Basic cannot carry a ':' in a user name; '@' is allowed for e-mail-like names.
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}")
#: Quota resources counted in whole things (the others are GiB).
_COUNTED = tuple(resource for resource, unit in QUOTA_RESOURCES.items() if not unit.startswith("GiB"))


def create_user(session: Session, *, name: str, password: str, project: Ref, account: Ref | None = None,
                role: str = "member", password_hash: str | None = None, actor: Actor = SYSTEM) -> User:
    """A user of ``project``; ``account``, when given, is an account of the project's domain
    (a name is looked up there). ``password_hash`` skips hashing for callers that already have
    one (an argon2 PHC string)."""
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        raise InvalidRequest(f"the user name {name!r} is not usable: at most 64 letters, digits, '.', '-', '_' "
                             "and '@', starting with a letter or digit")
    check_choice("role", role, ROLES)
    if password_hash is None and (not isinstance(password, str) or not password):
        raise InvalidRequest("the user needs a password")
    the_project = find_project(session, project)
    the_account = None
    if account is not None:
        the_account = find_account(session, account, the_project.domain_id)
    refuse_duplicate(session, User, "a user", [User.name == name], f"named {name!r}")
    user = User(name=name, password_hash=password_hash or hash_password(password), project_id=the_project.id,
                account_id=the_account.id if the_account else None, role=role)
    session.add(user)
    session.flush()
    record_change(session, actor, "user.create", "user", user.id,
                  f"{role} {name!r} in project {the_project.name!r}", project_id=the_project.id)
    return user


def list_users(session: Session, *, project: Ref | None = None, account: Ref | None = None) -> list[User]:
    query = select(User).order_by(User.name)
    if project is not None:
        query = query.where(User.project_id == find_project(session, project).id)
    if account is not None:
        query = query.where(User.account_id == find_account(session, account).id)
    return list(session.scalars(query))


def remove_user(session: Session, user: Ref, *, actor: Actor = SYSTEM) -> None:
    """The user's own mixins go with them; what their project owns stays with the project."""
    found = find_user(session, user)
    project_id = found.project_id
    session.delete(found)
    session.flush()
    record_change(session, actor, "user.remove", "user", found.id, f"user {found.name!r}", project_id=project_id)


# --- quotas ---------------------------------------------------------------------------------------------

def set_quota(session: Session, *, project: Ref, resource: str, limit: float, actor: Actor = SYSTEM) -> Quota:
    """The most of ``resource`` the project may hold (replacing any earlier limit)."""
    the_project = find_project(session, project)
    _check_resource(resource)
    if resource in _COUNTED:
        limit = float(_whole_limit(resource, limit))
    else:
        limit = check_number(f"the {resource} limit", limit, minimum=0)
    quota = session.scalar(select(Quota).where(Quota.project_id == the_project.id, Quota.resource == resource))
    if quota is None:
        quota = Quota(project_id=the_project.id, resource=resource, limit=limit)
        session.add(quota)
    else:
        quota.limit = limit
    session.flush()
    record_change(session, actor, "quota.set", "quota", quota.id,
                  f"project {the_project.name!r} may hold {limit:g} {QUOTA_RESOURCES[resource]}",
                  project_id=the_project.id)
    return quota


def _whole_limit(resource: str, limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit != int(limit) or limit < 0:
        raise InvalidRequest(f"the {resource} limit counts {QUOTA_RESOURCES[resource]}: it must be a whole number, "
                             f"0 or more; got {limit!r}")
    return int(limit)


def _check_resource(resource: object) -> None:
    if resource not in QUOTA_RESOURCES:
        raise InvalidRequest(f"{resource!r} is not a quota resource; quotas limit: {', '.join(QUOTA_RESOURCES)}")


def clear_quota(session: Session, *, project: Ref, resource: str, actor: Actor = SYSTEM) -> None:
    """No limit on ``resource`` any more."""
    the_project = find_project(session, project)
    _check_resource(resource)
    quota = session.scalar(select(Quota).where(Quota.project_id == the_project.id, Quota.resource == resource))
    if quota is None:
        raise NotFound(f"project {the_project.name!r} has no {resource} quota")
    session.delete(quota)
    session.flush()
    record_change(session, actor, "quota.clear", "quota", quota.id,
                  f"project {the_project.name!r} has no {resource} limit now", project_id=the_project.id)


def list_quotas(session: Session, *, project: Ref | None = None) -> list[Quota]:
    query = select(Quota).order_by(Quota.project_id, Quota.resource)
    if project is not None:
        query = query.where(Quota.project_id == find_project(session, project).id)
    return list(session.scalars(query))
