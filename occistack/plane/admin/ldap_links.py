"""LDAP groups linked to accounts and projects, and the users of linked groups, made on their
first login (CloudStack's linkAccountToLdap, for a site whose people are in a directory).

A link says: a member of this directory group who signs in with their directory password
works in this project, belongs to this account and has this role. The first login makes the
user -- the same user creation an administrator's ``user add`` goes through, without a local
password -- and remembers which directory entry they are (a ``federated_users`` row with
method "ldap"), so later logins find them even if they type their name in another case.

Membership is read afresh at every login that the credential cache does not answer: a user
who left every linked group of their project, or whose group was unlinked, is refused. A user
stays in the project they were made in (their mixins tag its resources); their role and
account follow the link that admits them.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from occistack.model import ROLES, Account, FederatedUser, LdapGroupLink, Project, User, may_sign_in
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.plane.revocations import revoke_credentials
from occistack.plane.admin.common import SYSTEM, Actor, Ref, check_choice, is_id, record_change
from occistack.plane.admin.lookup import find_account, find_project
from occistack.plane.admin.users import create_user

#: ``federated_users.method`` of a directory's user (as occistack.federation.ldap says it).
DIRECTORY_METHOD = "ldap"
_LONGEST_GROUP = 255


def link_group(session: Session, *, group: str, account: Ref, project: Ref, role: str = "member",
               actor: Actor = SYSTEM) -> LdapGroupLink:
    """Link ``group`` (a group's name or DN; one link per group) to ``project`` and to
    ``account``, an account of the project's domain."""
    group = _checked_group(group)
    check_choice("role", role, ROLES)
    the_project = find_project(session, project)
    the_account = find_account(session, account, domain=the_project.domain_id)
    if the_project.account_id is not None and the_project.account_id != the_account.id:
        owner = session.get(Account, the_project.account_id)
        raise InvalidRequest(f"project {the_project.name!r} belongs to account {owner.name!r}, not "
                             f"{the_account.name!r}: link the group to the account that owns the project")
    existing = session.scalar(select(LdapGroupLink).where(func.lower(LdapGroupLink.group) == group.lower()))
    if existing is not None:
        linked = session.get(Project, existing.project_id)
        raise Conflict(f"LDAP group {existing.group!r} is linked already (to project {linked.name!r}); unlink it "
                       "first to link it elsewhere")
    link = LdapGroupLink(group=group, account_id=the_account.id, project_id=the_project.id, role=role)
    session.add(link)
    session.flush()
    record_change(session, actor, "ldap.link", "ldap-link", link.id,
                  f"LDAP group {group!r} linked to account {the_account.name!r} and project {the_project.name!r} "
                  f"as {role}", project_id=the_project.id)
    return link


def find_link(session: Session, link: Ref) -> LdapGroupLink:
    """A link by id, or by its group (without regard to case)."""
    if is_id(link):
        found = session.get(LdapGroupLink, link)
        if found is None:
            raise NotFound(f"there is no LDAP group link {link}")
        return found
    found = session.scalar(select(LdapGroupLink).where(func.lower(LdapGroupLink.group) == str(link).lower()))
    if found is None:
        raise NotFound(f"LDAP group {link!r} is not linked; `occistack ldap list` shows the links")
    return found


def list_links(session: Session, *, project: Ref | None = None, account: Ref | None = None) -> list[LdapGroupLink]:
    query = select(LdapGroupLink).order_by(LdapGroupLink.id)
    if project is not None:
        query = query.where(LdapGroupLink.project_id == find_project(session, project).id)
    if account is not None:
        query = query.where(LdapGroupLink.account_id == find_account(session, account).id)
    return list(session.scalars(query))


def unlink_group(session: Session, link: Ref, *, actor: Actor = SYSTEM) -> list[int]:
    """Remove a link. The users it made stay (with what their project owns); those no other
    link admits are refused at their next login: the remembered credentials of the project's
    directory users are revoked at commit, in every server process (plane/revocations.py), so
    that their next request asks the directory. Returns those users' ids."""
    found = find_link(session, link)
    session.delete(found)
    session.flush()
    record_change(session, actor, "ldap.unlink", "ldap-link", found.id, f"LDAP group {found.group!r} unlinked",
                  project_id=found.project_id)
    directory_users = list(session.scalars(select(User.id).join(FederatedUser, FederatedUser.user_id == User.id)
                                           .where(User.project_id == found.project_id,
                                                  FederatedUser.method == DIRECTORY_METHOD)))
    revoke_credentials(session, directory_users)
    return directory_users


def admit_directory_user(session: Session, *, issuer: str, dn: str, name: str, groups: tuple[str, ...]) -> User:
    """The user of the directory entry ``dn`` (login ``name``), whose password the directory has
    just accepted and who is in ``groups`` (names and DNs): found, or made on this first login
    in the project of their first linked group. NotPermitted when no link admits them or they
    are disabled; the user's row is in ``session``, to be committed by the caller."""
    subject = dn.lower()
    wanted = sorted({group.lower() for group in groups})
    links = list(session.scalars(select(LdapGroupLink).where(func.lower(LdapGroupLink.group).in_(wanted))
                                 .order_by(LdapGroupLink.id))) if wanted else []
    known = session.scalar(select(FederatedUser).where(FederatedUser.issuer == issuer,
                                                       FederatedUser.subject == subject))
    if known is None:
        user = _first_login(session, issuer, subject, name, links)
    else:
        user = session.get(User, known.user_id)
        _follow_link(session, user, links)
    if not session.scalar(select(may_sign_in()).where(User.id == user.id)):
        raise NotPermitted(f"the user {user.name!r} is disabled at this site (or their account is); ask its "
                           "administrators")
    return user


def _follow_link(session: Session, user: User, links: list[LdapGroupLink]) -> None:
    admitting = [link for link in links if link.project_id == user.project_id]
    if not admitting:
        project = session.get(Project, user.project_id)
        raise NotPermitted(f"{user.name!r} is in no LDAP group linked to their project {project.name!r} any more; "
                           "ask the site's administrators")
    link = admitting[0]
    if (user.role, user.account_id) != (link.role, link.account_id):
        before = user.role
        user.role, user.account_id = link.role, link.account_id
        session.flush()
        record_change(session, Actor(f"ldap:{user.name}"), "user.map", "user", user.id,
                      f"{user.name!r} is {link.role} (was {before}) by LDAP group {link.group!r}",
                      project_id=user.project_id)


def _first_login(session: Session, issuer: str, subject: str, name: str, links: list[LdapGroupLink]) -> User:
    if not links:
        raise NotPermitted(f"{name!r} is in no LDAP group linked to a project at this site; ask its administrators "
                           "to link one of your groups")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise NotPermitted(f"this site has a local user named {name!r} already, who is not the directory's; ask its "
                           "administrators")
    link = links[0]
    try:
        user = create_user(session, name=name, password=None, project=link.project_id, account=link.account_id,
                           role=link.role, directory_user=True, actor=Actor(f"ldap:{name}"))
    except InvalidRequest as unusable:
        raise NotPermitted(f"the directory's login name cannot be a user name here: {unusable}") from None
    session.add(FederatedUser(user_id=user.id, method=DIRECTORY_METHOD, issuer=issuer, subject=subject))
    session.flush()
    return user


def _checked_group(group: object) -> str:
    if not isinstance(group, str) or not group.strip():
        raise InvalidRequest("name the LDAP group: its name (cn) or its DN")
    group = group.strip()
    if len(group) > _LONGEST_GROUP:
        raise InvalidRequest(f"the LDAP group is {len(group)} characters long; at most {_LONGEST_GROUP}")
    return group
