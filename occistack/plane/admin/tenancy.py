"""Who owns what: the domain tree, the accounts in its domains and the projects they own.

A domain's path is its parent's path plus its name and a "/" ("/" → "/science/" →
"/science/physics/"), so a subtree is a prefix match. An account lives in one domain, and a
project belongs to the domain of the account that owns it.
"""

from __future__ import annotations

from typing import Mapping

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from occistack.model import (
    ROOT_DOMAIN_ID,
    Account,
    Domain,
    Entity,
    LdapGroupLink,
    OsTemplate,
    Project,
    ProjectMembership,
    User,
)
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.limits import apply_default_quotas
from occistack.plane.revocations import revoke_credentials
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_name,
    check_title,
    count,
    record_change,
    refuse_duplicate,
    refuse_if_used,
)
from occistack.plane.admin.lookup import find_account, find_domain, find_project

ACCOUNT_KINDS = ("user", "admin")
_LONGEST_PATH = 1024


def create_domain(session: Session, *, name: str, parent: Ref = "/", actor: Actor = SYSTEM) -> Domain:
    """A domain under ``parent`` (its path or id; the root "/" by default)."""
    the_parent = find_domain(session, parent)
    path = _new_domain_path(session, the_parent, name)
    domain = Domain(parent_id=the_parent.id, name=name, path=path)
    session.add(domain)
    session.flush()
    record_change(session, actor, "domain.create", "domain", domain.id, f"domain {path}")
    return domain


def _new_domain_path(session: Session, parent: Domain, name: str, deepest_below: int = 0) -> str:
    """The path of a domain named ``name`` under ``parent``, refused when it is not a name, is
    taken, or would make it (or its subdomain ``deepest_below`` characters longer) too long."""
    check_name("domain", name)
    path = f"{parent.path}{name}/"
    if len(path) + deepest_below > _LONGEST_PATH:
        raise InvalidRequest(f"the domain path {path[:80]}… is too long: at most {_LONGEST_PATH} characters")
    refuse_duplicate(session, Domain, "a domain", [Domain.path == path], f"with the path {path}")
    return path


def update_domain(session: Session, domain: Ref, *, name=UNCHANGED, actor: Actor = SYSTEM) -> Domain:
    """Rename a domain (CloudStack's updateDomain): its path and its subdomains' paths follow.
    The root has no name to change; a domain's parent stays, as CloudStack moves no domain (its
    accounts and projects would change hands)."""
    found = find_domain(session, domain)
    old_path = found.path
    changed = {}
    if name is not UNCHANGED and name != found.name:
        if found.id == ROOT_DOMAIN_ID:
            raise Conflict("the root domain / is the top of the tree: it has no name to change")
        below = list(session.scalars(select(Domain).where(Domain.path.startswith(old_path, autoescape=True),
                                                          Domain.id != found.id)))
        deepest = max((len(sub.path) - len(old_path) for sub in below), default=0)
        parent = session.get(Domain, found.parent_id)
        changed = {"name": name, "path": _new_domain_path(session, parent, name, deepest)}
        for sub in below:
            sub.path = changed["path"] + sub.path[len(old_path):]
    apply_changes(session, found, "domain", changed, actor, label=old_path)
    return found


def list_domains(session: Session, *, under: Ref | None = None) -> list[Domain]:
    """Every domain, or the subtree below ``under`` (itself included), in path order."""
    query = select(Domain).order_by(Domain.path)
    if under is not None:
        query = query.where(Domain.path.startswith(find_domain(session, under).path, autoescape=True))
    return list(session.scalars(query))


def users_below_domain(session: Session, domain: Domain) -> list[User]:
    """The users whose account or project is in ``domain`` or a subdomain of it, or who hold a
    role in a project there by membership."""
    below = select(Domain.id).where(Domain.path.startswith(domain.path, autoescape=True))
    members = (select(ProjectMembership.user_id).join(Project, Project.id == ProjectMembership.project_id)
               .where(Project.domain_id.in_(below)))
    return list(session.scalars(
        select(User).outerjoin(Account, Account.id == User.account_id).join(Project, Project.id == User.project_id)
        .where(or_(Account.domain_id.in_(below), Project.domain_id.in_(below), User.id.in_(members)))
        .order_by(User.id)))


def remove_domain(session: Session, domain: Ref, *, actor: Actor = SYSTEM) -> None:
    found = find_domain(session, domain)
    if found.id == ROOT_DOMAIN_ID:
        raise Conflict("the root domain / is the top of the tree: it cannot be removed")
    refuse_if_used(f"domain {found.path}", {
        "subdomain": count(session, Domain, Domain.parent_id == found.id),
        "account": count(session, Account, Account.domain_id == found.id),
        "project": count(session, Project, Project.domain_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "domain.remove", "domain", found.id, f"domain {found.path}")


def create_account(session: Session, *, name: str, domain: Ref = "/", kind: str = "user",
                   actor: Actor = SYSTEM) -> Account:
    check_name("account", name)
    check_choice("account kind", kind, ACCOUNT_KINDS)
    the_domain = find_domain(session, domain)
    refuse_duplicate(session, Account, "an account", [Account.domain_id == the_domain.id, Account.name == name],
                     f"named {name!r}", f"in domain {the_domain.path}")
    account = Account(domain_id=the_domain.id, name=name, kind=kind)
    session.add(account)
    session.flush()
    record_change(session, actor, "account.create", "account", account.id,
                  f"{kind} account {name!r} in domain {the_domain.path}")
    return account


def update_account(session: Session, account: Ref, *, domain: Ref | None = None, name=UNCHANGED,
                   actor: Actor = SYSTEM) -> Account:
    """Rename an account (named alone, it is looked up in ``domain``), as CloudStack's
    updateAccount does. Its kind stays, as CloudStack keeps an account's type: it says whether
    its users administer the site. Its domain stays: its projects and users are in that domain."""
    found = find_account(session, account, domain=domain)
    changed = {}
    if name is not UNCHANGED and name != found.name:
        check_name("account", name)
        the_domain = session.get(Domain, found.domain_id)
        refuse_duplicate(session, Account, "an account", [Account.domain_id == the_domain.id, Account.name == name],
                         f"named {name!r}", f"in domain {the_domain.path}")
        changed["name"] = name
    apply_changes(session, found, "account", changed, actor, label=repr(found.name))
    return found


def list_accounts(session: Session, *, domain: Ref | None = None) -> list[Account]:
    query = select(Account).order_by(Account.domain_id, Account.name)
    if domain is not None:
        query = query.where(Account.domain_id == find_domain(session, domain).id)
    return list(session.scalars(query))


def remove_account(session: Session, account: Ref, *, domain: Ref | None = None, actor: Actor = SYSTEM) -> None:
    found = find_account(session, account, domain=domain)
    refuse_if_used(f"account {found.name!r}", {
        "project": count(session, Project, Project.account_id == found.id),
        "user": count(session, User, User.account_id == found.id),
        "LDAP group link": count(session, LdapGroupLink, LdapGroupLink.account_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "account.remove", "account", found.id, f"account {found.name!r}")


def create_project(session: Session, *, name: str, title: str | None = None, domain: Ref | None = None,
                   account: Ref | None = None, quotas: Mapping[str, float] | None = None,
                   actor: Actor = SYSTEM) -> Project:
    """A project in ``domain`` (the root by default), owned by ``account`` (an account of that
    domain; named alone, it is looked up there). With an account and no domain, the project
    goes in the account's domain. It starts with ``quotas`` (the faces pass the site's
    ``SiteLimits.default_quotas``)."""
    check_name("project", name)
    the_account = None
    if account is not None:
        the_account = find_account(session, account, domain=domain)
        the_domain = find_domain(session, domain) if domain is not None else session.get(Domain, the_account.domain_id)
    else:
        the_domain = find_domain(session, domain if domain is not None else "/")
    refuse_duplicate(session, Project, "a project", [Project.name == name], f"named {name!r}")
    project = Project(name=name, title=check_title("project", title), domain_id=the_domain.id,
                      account_id=the_account.id if the_account else None)
    session.add(project)
    session.flush()
    apply_default_quotas(session, project.id, quotas or {})
    owner = f", owned by account {the_account.name!r}" if the_account else ""
    limits = f", with quotas {', '.join(f'{r}={v:g}' for r, v in quotas.items())}" if quotas else ""
    record_change(session, actor, "project.create", "project", project.id,
                  f"project {name!r} in domain {the_domain.path}{owner}{limits}", project_id=project.id)
    return project


def update_project(session: Session, project: Ref, *, title=UNCHANGED, account=UNCHANGED,
                   actor: Actor = SYSTEM) -> Project:
    """Change a project's title or the account that owns it (an account of the project's
    domain; None: none), as CloudStack's updateProject does. Its name stays: users log in to it
    by name and federation mapping rules grant it by name (a renamed project would be made
    again by the next login). Its domain stays: its users and accounts are in it."""
    found = find_project(session, project)
    changed = {}
    if title is not UNCHANGED:
        changed["title"] = check_title("project", title)
    if account is not UNCHANGED:
        changed["account_id"] = None if account is None else find_account(session, account,
                                                                           domain=found.domain_id).id
    apply_changes(session, found, "project", changed, actor)
    return found


def list_projects(session: Session, *, domain: Ref | None = None, account: Ref | None = None) -> list[Project]:
    query = select(Project).order_by(Project.name)
    if account is not None:
        query = query.where(Project.account_id == find_account(session, account, domain=domain).id)
    elif domain is not None:
        query = query.where(Project.domain_id == find_domain(session, domain).id)
    return list(session.scalars(query))


def remove_project(session: Session, project: Ref, *, actor: Actor = SYSTEM) -> None:
    """Its quotas and memberships go with it; not while it is a user's home project or has
    resources or private templates."""
    found = find_project(session, project)
    refuse_if_used(f"project {found.name!r}", {
        "user": count(session, User, User.project_id == found.id),
        "resource": count(session, Entity, Entity.project_id == found.id),
        "private template": count(session, OsTemplate, OsTemplate.project_id == found.id),
        "LDAP group link": count(session, LdapGroupLink, LdapGroupLink.project_id == found.id),
    })
    members = ProjectMembership.project_id == found.id
    revoke_credentials(session, list(session.scalars(select(ProjectMembership.user_id).where(members))))
    session.execute(delete(ProjectMembership).where(members))
    session.delete(found)
    session.flush()
    record_change(session, actor, "project.remove", "project", found.id, f"project {found.name!r}")
