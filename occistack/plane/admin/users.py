"""Local users (who work in one project, with one role) and the quotas of projects."""

from __future__ import annotations

import re
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.federation.passwords import hash_password
from occistack.model import QUOTA_RESOURCES, ROLES, Project, Quota, User
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_number,
    is_id,
    record_change,
    refuse_duplicate,
)
from occistack.plane.admin.tenancy_limits import ceilings_of_project, check_within_hierarchy
from occistack.plane.admin.lookup import find_account, find_project, find_user
from occistack.plane.admin.tenancy import create_project
from occistack.plane.revocations import revoke_credentials

#: HTTP Basic cannot carry a ':' in a user name; '@' is allowed for e-mail-like names.
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}")
#: The shortest password a user may be given unless the site says otherwise
#: (``occistack.password_min_length``).
DEFAULT_PASSWORD_MIN_LENGTH = 10
#: Quota resources counted in whole things (the others are GiB).
_COUNTED = tuple(resource for resource, unit in QUOTA_RESOURCES.items() if not unit.startswith("GiB"))


def create_user(session: Session, *, name: str, password: str | None, project: Ref, account: Ref | None = None,
                role: str = "member", password_hash: str | None = None,
                password_min_length: int = DEFAULT_PASSWORD_MIN_LENGTH, short_password_allowed: bool = False,
                create_project: bool = False, domain: Ref | None = None,
                project_quotas: Mapping[str, float] | None = None, directory_user: bool = False,
                actor: Actor = SYSTEM) -> User:
    """A user of ``project``; ``account``, when given, is an account of the project's domain
    (a name is looked up there). ``password_hash`` skips hashing for callers that already have
    one (an argon2 PHC string). The password has at least ``password_min_length`` characters,
    unless ``short_password_allowed`` (the demo user's well-known ``demo``). A project that does
    not exist is an error, unless ``create_project`` (in ``domain``, owned by ``account``, with
    ``project_quotas``: the faces pass the site's default quotas). A ``directory_user`` has no
    local password at all: an LDAP directory checks theirs (plane/admin/ldap_links.py)."""
    if not isinstance(name, str) or not _USER_NAME.fullmatch(name):
        raise InvalidRequest(f"the user name {name!r} is not usable: at most 64 letters, digits, '.', '-', '_' "
                             "and '@', starting with a letter or digit")
    check_choice("role", role, ROLES)
    if password_hash is None and not directory_user:
        check_password(password, password_min_length, short_password_allowed)
    the_project = _project_for(session, project, create_project, domain, account, project_quotas, actor)
    the_account = None
    if account is not None:
        the_account = find_account(session, account, domain=the_project.domain_id)
    refuse_duplicate(session, User, "a user", [User.name == name], f"named {name!r}")
    if directory_user:
        password_hash = None
    elif not password_hash:
        password_hash = hash_password(password)
    user = User(name=name, password_hash=password_hash, project_id=the_project.id,
                account_id=the_account.id if the_account else None, role=role)
    session.add(user)
    session.flush()
    record_change(session, actor, "user.create", "user", user.id,
                  f"{role} {name!r} in project {the_project.name!r}", project_id=the_project.id)
    return user


def _project_for(session: Session, project: Ref, create: bool, domain: Ref | None, account: Ref | None,
                 quotas: Mapping[str, float] | None, actor: Actor) -> Project:
    if create and isinstance(project, str) and project:
        existing = session.scalar(select(Project).where(Project.name == project))
        return existing or create_project(session, name=project, domain=domain, account=account, quotas=quotas,
                                          actor=actor)
    try:
        return find_project(session, project)
    except NotFound as missing:
        if is_id(project):
            raise
        raise NotFound(f"{missing}; to create the project with its first user, ask for it "
                       "(command line: --create-project; admin API: \"create_project\": true)") from None


def check_password(password: object, minimum: int, short_allowed: bool = False) -> str:
    if not isinstance(password, str) or not password:
        raise InvalidRequest("the user needs a password")
    if len(password) < minimum and not short_allowed:
        raise InvalidRequest(f"the password is too short: {len(password)} characters; the site asks for at least "
                             f"{minimum} (occistack.password_min_length)")
    return password


def set_user_password(session: Session, user: Ref, *, password: str,
                      password_min_length: int = DEFAULT_PASSWORD_MIN_LENGTH, actor: Actor = SYSTEM) -> User:
    """A new password for ``user``, held to the same minimum as a new user's."""
    found = find_user(session, user)
    found.password_hash = hash_password(check_password(password, password_min_length))
    session.flush()
    revoke_credentials(session, [found.id])  # the old password among them
    record_change(session, actor, "user.password", "user", found.id, f"user {found.name!r} has a new password",
                  project_id=found.project_id)
    return found


def update_user(session: Session, user: Ref, *, role=UNCHANGED, account=UNCHANGED, actor: Actor = SYSTEM) -> User:
    """Change a user's role or account (an account of their project's domain; None: none), as
    CloudStack's updateUser changes a user's profile. Their name stays: it is what they log in
    with, and every client holding it would be locked out. Their project stays: their mixins
    tag its resources. Their password and whether they may log in have their own operations."""
    found = find_user(session, user)
    changed = {}
    if role is not UNCHANGED:
        changed["role"] = check_choice("role", role, ROLES)
    if account is not UNCHANGED:
        the_project = session.get(Project, found.project_id)
        changed["account_id"] = None if account is None else find_account(session, account,
                                                                           domain=the_project.domain_id).id
    apply_changes(session, found, "user", changed, actor)
    if changed:
        # Remembered identities carry the old role and account.
        revoke_credentials(session, [found.id])
    return found


def password_min_length_of(settings: Mapping[str, object]) -> int:
    """``occistack.password_min_length`` of the ini file: a whole number, at least 1."""
    raw = settings.get("occistack.password_min_length")
    if raw in (None, ""):
        return DEFAULT_PASSWORD_MIN_LENGTH
    try:
        minimum = int(str(raw).strip())
    except ValueError:
        minimum = 0
    if minimum < 1:
        raise ValueError(f"occistack.password_min_length must be a whole number, at least 1; got {raw!r}")
    return minimum


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
    revoke_credentials(session, [found.id])
    record_change(session, actor, "user.remove", "user", found.id, f"user {found.name!r}", project_id=project_id)


# --- quotas ---------------------------------------------------------------------------------------------

def set_quota(session: Session, *, project: Ref, resource: str, limit: float, actor: Actor = SYSTEM) -> Quota:
    """The most of ``resource`` the project may hold (replacing any earlier limit)."""
    the_project = find_project(session, project)
    limit = checked_quota_limit(resource, limit)
    _check_under_limits_above(session, the_project, resource, limit)
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


def update_quota(session: Session, quota: Quota, *, limit=UNCHANGED, actor: Actor = SYSTEM) -> Quota:
    """A new limit for ``quota`` (CloudStack's updateResourceLimit); what the project already
    holds beyond it stays, and only new requests are refused."""
    changed = {} if limit is UNCHANGED else {"limit": _checked_limit(quota.resource, limit)}
    the_project = session.get(Project, quota.project_id)
    if changed:
        _check_under_limits_above(session, the_project, quota.resource, changed["limit"])
    apply_changes(session, quota, "quota", changed, actor, label=f"{quota.resource} of project {the_project.name!r}")
    return quota


def checked_quota_limit(resource: object, limit: object) -> float:
    """``limit`` as a limit on ``resource`` (a quota's, an account's or a domain's), or
    InvalidRequest saying what a limit on it may be."""
    _check_resource(resource)
    return _checked_limit(resource, limit)


def _check_under_limits_above(session: Session, project: Project, resource: str, limit: float) -> None:
    # A project may not be given more than its account or a domain above it may hold.
    check_within_hierarchy(session, resource, limit, f"project {project.name!r}",
                           above=ceilings_of_project(session, project, resource), below=[])


def _checked_limit(resource: str, limit: object) -> float:
    if resource in _COUNTED:
        return float(_whole_limit(resource, limit))
    return check_number(f"the {resource} limit", limit, minimum=0)


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
