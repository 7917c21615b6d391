"""Who owns what: the domain tree, the accounts in its domains and the projects they own.

A domain's path is its parent's path plus its name and a "/" ("/" → "/science/" →
"/science/physics/"), so a subtree is a prefix match. An account lives in one domain, and a
project belongs to the domain of the account that owns it.
"""

from __future__ import annotations

from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import ROOT_DOMAIN_ID, Account, Domain, Entity, OsTemplate, Project, User
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.limits import apply_default_quotas
from occistack.plane.admin.common import (
    SYSTEM,
    Actor,
    Ref,
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
    check_name("domain", name)
    the_parent = find_domain(session, parent)
    path = f"{the_parent.path}{name}/"
    if len(path) > _LONGEST_PATH:
        raise InvalidRequest(f"the domain path {path[:80]}… is too long: at most {_LONGEST_PATH} characters")
    refuse_duplicate(session, Domain, "a domain", [Domain.path == path], f"with the path {path}")
    domain = Domain(parent_id=the_parent.id, name=name, path=path)
    session.add(domain)
    session.flush()
    record_change(session, actor, "domain.create", "domain", domain.id, f"domain {path}")
    return domain


def list_domains(session: Session, *, under: Ref | None = None) -> list[Domain]:
    """Every domain, or the subtree below ``under`` (itself included), in path order."""
    query = select(Domain).order_by(Domain.path)
    if under is not None:
        query = query.where(Domain.path.startswith(find_domain(session, under).path, autoescape=True))
    return list(session.scalars(query))


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


def list_projects(session: Session, *, domain: Ref | None = None, account: Ref | None = None) -> list[Project]:
    query = select(Project).order_by(Project.name)
    if account is not None:
        query = query.where(Project.account_id == find_account(session, account, domain=domain).id)
    elif domain is not None:
        query = query.where(Project.domain_id == find_domain(session, domain).id)
    return list(session.scalars(query))


def remove_project(session: Session, project: Ref, *, actor: Actor = SYSTEM) -> None:
    """Its quotas go with it; not while it has users, resources or private templates."""
    found = find_project(session, project)
    refuse_if_used(f"project {found.name!r}", {
        "user": count(session, User, User.project_id == found.id),
        "resource": count(session, Entity, Entity.project_id == found.id),
        "private template": count(session, OsTemplate, OsTemplate.project_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "project.remove", "project", found.id, f"project {found.name!r}")
