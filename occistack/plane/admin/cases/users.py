"""Users, their roles in other projects, and quotas, as the faces ask for them. A password is held to the site's shortest
(``occistack.password_min_length``), and a project created with its first user gets the site's
default quotas; both come from the context's services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from occistack.model import Project, Quota
from occistack.plane.admin import memberships, users
from occistack.plane.admin.cases.common import UNCHANGED, Switch, Unchanged, actor_of, changes_of
from occistack.plane.admin.common import Ref, set_enabled
from occistack.plane.admin.lookup import find_project, find_user
from occistack.plane.admin.records.users import (
    MembershipRecord,
    QuotaRecord,
    UserRecord,
    membership_record,
    membership_records,
    quota_record,
    quota_records,
    user_record,
    user_records,
)
from occistack.plane.context import PlaneContext
from occistack.plane.errors import NotFound
from occistack.plane.revocations import revoke_credentials


@dataclass(frozen=True)
class NewUser:
    name: str
    password: str
    #: the project the user works in.
    project: Ref
    #: an account of the project's domain.
    account: Ref | None = None
    role: str = "member"
    #: create the project when it does not exist yet (in ``domain``, owned by ``account``).
    create_project: bool = False
    domain: Ref | None = None


@dataclass(frozen=True)
class UserChanges:
    """What may change of a user (users.update_user says why their name and project may not)."""

    #: one of model.ROLES.
    role: str | Unchanged = UNCHANGED
    #: an account of their project's domain; None: none.
    account: Ref | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class QuotaChanges:
    """A quota's new limit (its project and resource are what it is: set another quota instead)."""

    limit: float | Unchanged = UNCHANGED


@dataclass(frozen=True)
class AddedUser:
    user: UserRecord
    #: whether the project was created for this user.
    project_created: bool


@dataclass(frozen=True)
class NewPassword:
    password: str


@dataclass(frozen=True)
class UserFilter:
    project: Ref | None = None
    account: Ref | None = None


@dataclass(frozen=True)
class NewMembership:
    """``role`` for ``user`` in ``project``, a project besides their home one."""

    user: Ref
    project: Ref
    role: str = "member"


@dataclass(frozen=True)
class MembershipChanges:
    """A membership's new role (its user and project are what it is)."""

    role: str | Unchanged = UNCHANGED


@dataclass(frozen=True)
class MembershipFilter:
    user: Ref | None = None
    project: Ref | None = None


#: A membership by id, or by (user, project).
MembershipRef = int | tuple[Ref, Ref]


@dataclass(frozen=True)
class QuotaLimit:
    """The most of ``resource`` (one of model.QUOTA_RESOURCES) the project may hold."""

    project: Ref
    resource: str
    limit: float


@dataclass(frozen=True)
class QuotaOf:
    """A project's quota on one resource."""

    project: Ref
    resource: str


@dataclass(frozen=True)
class SetQuota:
    quota: QuotaRecord
    #: False when the limit replaced an earlier one.
    created: bool


# --- users ------------------------------------------------------------------------------------------

def add_user(ctx: PlaneContext, new: NewUser) -> AddedUser:
    existed = (ctx.session.scalar(select(Project.id).where(Project.name == new.project)) is not None
               if isinstance(new.project, str) else True)
    user = users.create_user(ctx.session, name=new.name, password=new.password, project=new.project,
                             account=new.account, role=new.role, create_project=new.create_project,
                             domain=new.domain, password_min_length=ctx.services.password_min_length,
                             project_quotas=ctx.limits.default_quotas, actor=actor_of(ctx))
    return AddedUser(user_record(ctx.session, user), project_created=not existed)


def set_user_password(ctx: PlaneContext, user: Ref, new: NewPassword) -> UserRecord:
    return user_record(ctx.session, users.set_user_password(
        ctx.session, user, password=new.password, password_min_length=ctx.services.password_min_length,
        actor=actor_of(ctx)))


def update_user(ctx: PlaneContext, user: Ref, changes: UserChanges) -> UserRecord:
    return user_record(ctx.session, users.update_user(ctx.session, user, **changes_of("user", changes),
                                                      actor=actor_of(ctx)))


def list_users(ctx: PlaneContext, where: UserFilter = UserFilter()) -> list[UserRecord]:
    return user_records(ctx.session, users.list_users(ctx.session, project=where.project, account=where.account))


def show_user(ctx: PlaneContext, user: Ref) -> UserRecord:
    return user_record(ctx.session, find_user(ctx.session, user))


def act_on_user(ctx: PlaneContext, user: Ref, action: Switch) -> UserRecord:
    """Enable or disable a user. A disabled user's every credential is refused -- a password, a
    Keystone token issued before, an OIDC token or a certificate mapped to them -- and what their
    project owns stays. Every process that remembers verified credentials forgets the user's
    when this commits (plane/revocations.py)."""
    found = set_enabled(ctx.session, find_user(ctx.session, user), "user", Switch(action) is Switch.ENABLE,
                        actor_of(ctx))
    revoke_credentials(ctx.session, [found.id])
    return user_record(ctx.session, found)


def remove_user(ctx: PlaneContext, user: Ref) -> None:
    """The user's own mixins go with them; what their project owns stays with the project."""
    users.remove_user(ctx.session, user, actor=actor_of(ctx))


# --- memberships ------------------------------------------------------------------------------------

def add_membership(ctx: PlaneContext, new: NewMembership) -> MembershipRecord:
    """The user may work in the project too, with the role given; a request names the project
    (a Keystone token's scope, or the project a Basic request names) to work there."""
    return membership_record(ctx.session, memberships.add_membership(
        ctx.session, user=new.user, project=new.project, role=new.role, actor=actor_of(ctx)))


def list_memberships(ctx: PlaneContext, where: MembershipFilter = MembershipFilter()) -> list[MembershipRecord]:
    return membership_records(ctx.session, memberships.list_memberships(ctx.session, user=where.user,
                                                                        project=where.project))


def show_membership(ctx: PlaneContext, membership: MembershipRef) -> MembershipRecord:
    return membership_record(ctx.session, memberships.find_membership(ctx.session, membership))


def update_membership(ctx: PlaneContext, membership: MembershipRef, changes: MembershipChanges) -> MembershipRecord:
    found = memberships.find_membership(ctx.session, membership)
    return membership_record(ctx.session, memberships.update_membership(
        ctx.session, found, **changes_of("membership", changes), actor=actor_of(ctx)))


def remove_membership(ctx: PlaneContext, membership: MembershipRef) -> None:
    memberships.remove_membership(ctx.session, memberships.find_membership(ctx.session, membership),
                                  actor=actor_of(ctx))


# --- quotas -----------------------------------------------------------------------------------------

def set_quota(ctx: PlaneContext, new: QuotaLimit) -> SetQuota:
    """Limit the project's resource, replacing any earlier limit."""
    project = find_project(ctx.session, new.project)
    existed = ctx.session.scalar(select(Quota.id).where(Quota.project_id == project.id,
                                                        Quota.resource == new.resource)) is not None
    quota = users.set_quota(ctx.session, project=project.id, resource=new.resource, limit=new.limit,
                            actor=actor_of(ctx))
    return SetQuota(quota_record(ctx.session, quota), created=not existed)


def update_quota(ctx: PlaneContext, quota_id: int, changes: QuotaChanges) -> QuotaRecord:
    return quota_record(ctx.session, users.update_quota(ctx.session, _quota(ctx, quota_id),
                                                        **changes_of("quota", changes), actor=actor_of(ctx)))


def list_quotas(ctx: PlaneContext, project: Ref | None = None) -> list[QuotaRecord]:
    return quota_records(ctx.session, users.list_quotas(ctx.session, project=project))


def show_quota(ctx: PlaneContext, quota_id: int) -> QuotaRecord:
    return quota_record(ctx.session, _quota(ctx, quota_id))


def clear_quota(ctx: PlaneContext, quota: int | QuotaOf) -> None:
    """No limit on the resource any more; the quota named by its id or by project and resource."""
    if isinstance(quota, QuotaOf):
        project, resource = quota.project, quota.resource
    else:
        row = _quota(ctx, quota)
        project, resource = row.project_id, row.resource
    users.clear_quota(ctx.session, project=project, resource=resource, actor=actor_of(ctx))


def _quota(ctx: PlaneContext, quota_id: int) -> Quota:
    row = ctx.session.get(Quota, quota_id)
    if row is None:
        raise NotFound(f"no quota with id {quota_id}")
    return row
