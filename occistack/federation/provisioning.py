"""Local users for federated identities, made on their first login.

A federated identity gets a local user (no password) linked to it by a ``federated_users`` row,
and the project the mapping rules name is created if it does not exist yet. At every later
validation of a fresh credential the user's project and role follow the rules again, so a user
whose VO membership changed lands where the rules now say. The steady state is one read; a
write happens only when something changes.

Provisioning runs in a short transaction of its own, before the request's view opens one: the
user exists whatever becomes of the request.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from occistack.model import ROOT_DOMAIN_ID, EventRecord, FederatedUser, Project, Quota, User, may_sign_in, utcnow
from occistack.model.session import read_only_session
from occistack.federation.errors import IdentityNotMapped
from occistack.federation.identity import FederatedIdentity, Identity
from occistack.federation.mapping import Grant

#: What a user may be called (the admin API's rule): the subject itself when it fits.
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}")

_CURRENT = (select(User.id, User.name, may_sign_in().label("enabled"), User.role, User.project_id,
                   Project.name.label("project"), FederatedUser.fqan)
            .join(FederatedUser, FederatedUser.user_id == User.id)
            .join(Project, Project.id == User.project_id))


def provision(engine: Engine, identity: FederatedIdentity, grant: Grant) -> Identity:
    """The local identity of ``identity`` in the project and role of ``grant``."""
    with read_only_session(engine) as session:
        current = session.execute(_CURRENT.where(FederatedUser.issuer == identity.issuer,
                                                 FederatedUser.subject == identity.subject)).first()
    if (current is not None and current.project == grant.project and current.role == grant.role
            and current.fqan == accounting_fqan(identity)):
        return _identity(identity, current.id, current.name, current.enabled, current.project_id, grant.role)
    try:
        return _provision_in_transaction(engine, identity, grant)
    except IntegrityError:
        # Another process made the same user or project a moment ago; its rows are there now.
        return _provision_in_transaction(engine, identity, grant)


def _provision_in_transaction(engine: Engine, identity: FederatedIdentity, grant: Grant) -> Identity:
    actor = f"federation:{identity.source}"
    with Session(engine, expire_on_commit=False) as session, session.begin():
        project = session.scalar(select(Project).where(Project.name == grant.project))
        if project is None:
            project = Project(name=grant.project, domain_id=ROOT_DOMAIN_ID)
            session.add(project)
            session.flush()
            # The site's default quotas (occistack.default_quotas), as every new project gets them.
            session.add_all(Quota(project_id=project.id, resource=resource, limit=float(limit))
                            for resource, limit in grant.project_quotas)
            quotas = ", ".join(f"{resource}={limit:g}" for resource, limit in grant.project_quotas)
            _record(session, actor, "project.create", "project", project.id, project.id,
                    f"project {project.name!r}, created for {identity.subject!r} of {identity.issuer} by mapping "
                    f"rule {grant.rule}{f', with quotas {quotas}' if quotas else ''}")
        link = session.scalar(select(FederatedUser).where(FederatedUser.issuer == identity.issuer,
                                                          FederatedUser.subject == identity.subject))
        if link is None:
            user = User(name=_free_user_name(session, identity), password_hash=None, project_id=project.id,
                        role=grant.role)
            session.add(user)
            session.flush()
            session.add(FederatedUser(user_id=user.id, method=identity.method, issuer=identity.issuer,
                                      subject=identity.subject, fqan=accounting_fqan(identity)))
            _record(session, actor, "user.create", "user", user.id, project.id,
                    f"{grant.role} {user.name!r} in project {project.name!r} for {identity.subject!r} of "
                    f"{identity.issuer} (mapping rule {grant.rule})")
        else:
            user = session.get(User, link.user_id)
            moved = f"from project id {user.project_id} as {user.role} "
            remapped = (user.project_id, user.role) != (project.id, grant.role)
            user.project_id, user.role = project.id, grant.role
            # The FQAN alone may have changed (another primary group): no move to record.
            link.mapped_at, link.fqan = utcnow(), accounting_fqan(identity)
        if link is not None and remapped:
            _record(session, actor, "user.map", "user", user.id, project.id,
                    f"{user.name!r} moved {moved}to project {project.name!r} as {grant.role} (mapping rule "
                    f"{grant.rule})")
        session.flush()
        enabled = session.scalar(select(may_sign_in()).where(User.id == user.id))
        return _identity(identity, user.id, user.name, enabled, project.id, grant.role)


def accounting_fqan(identity: FederatedIdentity) -> str | None:
    """The FQAN accounting names the identity's computes by: a VOMS proxy's first FQAN (VOMS
    puts the primary one first), else the first membership an OIDC issuer vouched for, written
    as an FQAN (``/vo/group/Role=role``); None when the credential names no VO."""
    if identity.fqans:
        return identity.fqans[0][:512]
    if identity.memberships:
        first = identity.memberships[0]
        return (f"/{first.group}" + (f"/Role={first.role}" if first.role else ""))[:512]
    return None


def _identity(identity: FederatedIdentity, user_id: int, name: str, enabled: bool, project_id: int,
              role: str) -> Identity:
    if not enabled:
        raise IdentityNotMapped(f"the user {name!r} of {identity.subject!r} of {identity.issuer} is disabled at this "
                                "site (or their account is); ask its administrators")
    return Identity(user_id, name, project_id, identity.method, role)


def _free_user_name(session: Session, identity: FederatedIdentity) -> str:
    """``<subject>@<issuer name>`` when that is a usable name nobody has; otherwise the issuer's
    name and a digest of the subject (EGI Check-in subjects alone are 71 characters)."""
    digest = hashlib.sha256(f"{identity.issuer}\0{identity.subject}".encode()).hexdigest()
    for name in (f"{identity.subject}@{identity.source}", f"{identity.source}-{digest[:16]}",
                 f"{identity.source}-{digest[:40]}"):
        if _USER_NAME.fullmatch(name) and session.scalar(select(User.id).where(User.name == name)) is None:
            return name
    return f"fed-{digest[:60]}"


def _record(session: Session, actor: str, action: str, resource_type: str, resource_id: int, project_id: int,
            description: str) -> None:
    session.add(EventRecord(action=action, state="completed", resource_type=resource_type,
                            resource_id=str(resource_id), actor=actor[:128], project_id=project_id,
                            description=description[:4000]))
