"""Who owns what, as the faces ask for it: domains, accounts, projects (with their default
networks and affinity groups). Users and quotas are in ``users``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from occistack.model import ROOT_DOMAIN_ID, User
from occistack.plane.admin import affinity, default_networks, tenancy
from occistack.plane.admin.cases.common import UNCHANGED, Switch, Unchanged, actor_of, changes_of
from occistack.plane.admin.common import Ref, set_enabled
from occistack.plane.admin.lookup import find_account, find_domain, find_project
from occistack.plane.admin.records.tenancy import (
    AccountRecord,
    AffinityGroupRecord,
    DomainRecord,
    ProjectRecord,
    account_record,
    account_records,
    affinity_group_record,
    affinity_group_records,
    domain_record,
    project_record,
    project_records,
)
from occistack.plane.context import PlaneContext
from occistack.plane.errors import Conflict
from occistack.plane.revocations import revoke_credentials


@dataclass(frozen=True)
class NewDomain:
    name: str
    #: the parent domain, by path (like /science/) or id.
    parent: Ref = "/"


@dataclass(frozen=True)
class DomainChanges:
    """What may change of a domain (tenancy.update_domain says why its parent may not)."""

    name: str | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewAccount:
    name: str
    domain: Ref = "/"
    #: one of tenancy.ACCOUNT_KINDS.
    kind: str = "user"


@dataclass(frozen=True)
class AccountChanges:
    """What may change of an account (tenancy.update_account says why its kind and domain may not)."""

    name: str | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewProject:
    name: str
    title: str | None = None
    #: its domain (the account's, or the root, when not named).
    domain: Ref | None = None
    #: the account that owns it (an account of the domain).
    account: Ref | None = None


@dataclass(frozen=True)
class ProjectChanges:
    """What may change of a project (tenancy.update_project says why its name and domain may not)."""

    title: str | None | Unchanged = UNCHANGED
    #: the account that owns it, of the project's domain; None: none.
    account: Ref | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class ProjectFilter:
    domain: Ref | None = None
    account: Ref | None = None


@dataclass(frozen=True)
class DefaultNetwork:
    """The network (its id) a project's computes join in its zone when they are created without
    a network link; with no network, clear ``zone``'s choice."""

    zone: Ref | None = None
    network: str | None = None


@dataclass(frozen=True)
class AffinityGroupChanges:
    """What may change of an affinity group (affinity.update_affinity_group says why the rest may not)."""

    description: str | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class NewAffinityGroup:
    project: Ref
    name: str
    #: affinity (one host for all) or anti-affinity (a different host for each).
    kind: str
    description: str | None = None


# --- domains and accounts ---------------------------------------------------------------------------

def add_domain(ctx: PlaneContext, new: NewDomain) -> DomainRecord:
    return domain_record(tenancy.create_domain(ctx.session, name=new.name, parent=new.parent, actor=actor_of(ctx)))


def list_domains(ctx: PlaneContext, under: Ref | None = None) -> list[DomainRecord]:
    """Every domain, or the subtree below ``under`` (itself included), in path order."""
    return [domain_record(domain) for domain in tenancy.list_domains(ctx.session, under=under)]


def show_domain(ctx: PlaneContext, domain: Ref) -> DomainRecord:
    return domain_record(find_domain(ctx.session, domain))


def update_domain(ctx: PlaneContext, domain: Ref, changes: DomainChanges) -> DomainRecord:
    return domain_record(tenancy.update_domain(ctx.session, domain, **changes_of("domain", changes),
                                               actor=actor_of(ctx)))


def act_on_domain(ctx: PlaneContext, domain: Ref, action: Switch) -> DomainRecord:
    """Enable or disable a domain as a whole, as CloudStack's disableDomain does: while it is
    disabled, every user of an account or project in it or in any of its subdomains is refused
    as a disabled user is (model.may_sign_in); what they own stays, and each subdomain, account
    and user keeps its own flag. The root cannot be disabled: that would lock out the site's
    administrators too. Every process that remembers verified credentials forgets those users'
    when this commits (plane/revocations.py)."""
    found = find_domain(ctx.session, domain)
    enable = Switch(action) is Switch.ENABLE
    if not enable and found.id == ROOT_DOMAIN_ID:
        raise Conflict("the root domain / cannot be disabled: every user, the site's administrators too, is in "
                       "it; disable a domain below it, an account or a user instead")
    set_enabled(ctx.session, found, "domain", enable, actor_of(ctx))
    revoke_credentials(ctx.session, (user.id for user in tenancy.users_below_domain(ctx.session, found)))
    return domain_record(found)


def remove_domain(ctx: PlaneContext, domain: Ref) -> None:
    tenancy.remove_domain(ctx.session, domain, actor=actor_of(ctx))


def add_account(ctx: PlaneContext, new: NewAccount) -> AccountRecord:
    return account_record(ctx.session, tenancy.create_account(ctx.session, name=new.name, domain=new.domain,
                                                              kind=new.kind, actor=actor_of(ctx)))


def list_accounts(ctx: PlaneContext, domain: Ref | None = None) -> list[AccountRecord]:
    return account_records(ctx.session, tenancy.list_accounts(ctx.session, domain=domain))


def show_account(ctx: PlaneContext, account: Ref, *, domain: Ref | None = None) -> AccountRecord:
    return account_record(ctx.session, find_account(ctx.session, account, domain=domain))


def update_account(ctx: PlaneContext, account: Ref, changes: AccountChanges, *,
                   domain: Ref | None = None) -> AccountRecord:
    return account_record(ctx.session, tenancy.update_account(ctx.session, account, domain=domain,
                                                              **changes_of("account", changes), actor=actor_of(ctx)))


def act_on_account(ctx: PlaneContext, account: Ref, action: Switch, *, domain: Ref | None = None) -> AccountRecord:
    """Enable or disable an account as a whole: while it is disabled, every user of it is refused
    as a disabled user is (model.may_sign_in), and what its projects own stays. Every process that
    remembers verified credentials forgets its users' when this commits (plane/revocations.py)."""
    found = set_enabled(ctx.session, find_account(ctx.session, account, domain=domain), "account",
                        Switch(action) is Switch.ENABLE, actor_of(ctx))
    revoke_credentials(ctx.session, ctx.session.scalars(select(User.id).where(User.account_id == found.id)))
    return account_record(ctx.session, found)


def remove_account(ctx: PlaneContext, account: Ref, *, domain: Ref | None = None) -> None:
    tenancy.remove_account(ctx.session, account, domain=domain, actor=actor_of(ctx))


# --- projects ---------------------------------------------------------------------------------------

def add_project(ctx: PlaneContext, new: NewProject) -> ProjectRecord:
    """A project with the site's default quotas (``occistack.default_quotas``)."""
    return project_record(ctx.session, tenancy.create_project(
        ctx.session, name=new.name, title=new.title, domain=new.domain, account=new.account,
        quotas=ctx.limits.default_quotas, actor=actor_of(ctx)))


def list_projects(ctx: PlaneContext, where: ProjectFilter = ProjectFilter()) -> list[ProjectRecord]:
    return project_records(ctx.session, tenancy.list_projects(ctx.session, domain=where.domain, account=where.account))


def show_project(ctx: PlaneContext, project: Ref) -> ProjectRecord:
    return project_record(ctx.session, find_project(ctx.session, project))


def update_project(ctx: PlaneContext, project: Ref, changes: ProjectChanges) -> ProjectRecord:
    return project_record(ctx.session, tenancy.update_project(ctx.session, project, **changes_of("project", changes),
                                                              actor=actor_of(ctx)))


def remove_project(ctx: PlaneContext, project: Ref) -> None:
    """Its quotas go with it; not while it has users, resources or private templates."""
    tenancy.remove_project(ctx.session, project, actor=actor_of(ctx))


def set_default_network(ctx: PlaneContext, project: Ref, choice: DefaultNetwork) -> ProjectRecord:
    """Choose (or clear) the project's default network in a zone; the project, with its defaults
    by zone."""
    default_networks.set_project_default_network(ctx.session, project=project, zone=choice.zone,
                                                 network=choice.network, actor=actor_of(ctx))
    return show_project(ctx, project)


# --- affinity groups --------------------------------------------------------------------------------

def add_affinity_group(ctx: PlaneContext, new: NewAffinityGroup) -> AffinityGroupRecord:
    """OCCI users cannot create groups themselves: the administrator makes them for a project."""
    owner = find_project(ctx.session, new.project)
    return affinity_group_record(ctx.session, affinity.create_affinity_group(
        ctx.session, project_id=owner.id, name=new.name, kind=new.kind, description=new.description,
        actor=actor_of(ctx)))


def list_affinity_groups(ctx: PlaneContext, project: Ref | None = None) -> list[AffinityGroupRecord]:
    return affinity_group_records(ctx.session, affinity.list_affinity_groups(ctx.session,
                                                                             project_id=_project_id(ctx, project)))


def show_affinity_group(ctx: PlaneContext, group: Ref, *, project: Ref | None = None) -> AffinityGroupRecord:
    """A group by id (of any project, unless ``project`` is named), or by name in ``project``."""
    return affinity_group_record(ctx.session, affinity.find_affinity_group(ctx.session, group,
                                                                           project_id=_project_id(ctx, project)))


def update_affinity_group(ctx: PlaneContext, group: Ref, changes: AffinityGroupChanges, *,
                          project: Ref | None = None) -> AffinityGroupRecord:
    """A group by id (of any project, unless ``project`` is named), or by name in ``project``."""
    changed = changes_of("affinity group", changes)
    return affinity_group_record(ctx.session, affinity.update_affinity_group(
        ctx.session, group, project_id=_project_id(ctx, project), **changed, actor=actor_of(ctx)))


def remove_affinity_group(ctx: PlaneContext, group: Ref, *, project: Ref | None = None) -> None:
    """A group (by id, or by name in ``project``) that no compute belongs to."""
    affinity.delete_affinity_group(ctx.session, group, project_id=_project_id(ctx, project), actor=actor_of(ctx))


def _project_id(ctx: PlaneContext, project: Ref | None) -> int | None:
    return find_project(ctx.session, project).id if project is not None else None
