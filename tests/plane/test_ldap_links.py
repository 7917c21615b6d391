"""Who a directory user is at this site (plane/admin/ldap_links.py): made on the first login in
the project of their oldest linked group, found again by their entry, refused when no link of
their project admits them, a disabled one, or a name a local user has."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.model import EventRecord, FederatedUser, User
from occistack.plane.admin.ldap_links import admit_directory_user, link_group, unlink_group
from occistack.plane.admin.tenancy import create_account, create_project
from occistack.plane.errors import NotPermitted
from tests.factories import UserFactory

DN = "uid=alice,ou=people,dc=example,dc=org"


@pytest.fixture
def linked(session):
    create_account(session, name="physics")
    create_project(session, name="higgs", account="physics")
    create_project(session, name="neutrinos", account="physics")
    link_group(session, group="higgs-team", account="physics", project="higgs", role="member")
    link_group(session, group="cn=nu,ou=groups,dc=example,dc=org", account="physics", project="neutrinos",
               role="admin")
    return session


def admit(session, *groups, name="alice", dn=DN):
    return admit_directory_user(session, issuer="ldap", dn=dn, name=name, groups=groups)


def test_the_first_login_makes_the_user_in_the_oldest_linked_group_project(linked):
    user = admit(linked, "cn=nu,ou=groups,dc=example,dc=org", "nu", "HIGGS-TEAM")
    assert (user.name, user.project.name, user.role, user.password_hash) == ("alice", "higgs", "member", None)
    link = linked.scalar(select(FederatedUser).where(FederatedUser.user_id == user.id))
    assert (link.method, link.issuer, link.subject) == ("ldap", "ldap", DN)
    assert linked.scalar(select(EventRecord.actor).where(EventRecord.action == "user.create")) == "ldap:alice"


def test_later_logins_find_the_user_by_entry_and_the_role_follows_the_link(linked):
    first = admit(linked, "higgs-team")
    again = admit(linked, "higgs-team", "nu", name="ALICE", dn=DN.upper())
    assert again.id == first.id and again.name == "alice"
    unlink_group(linked, "higgs-team")
    link_group(linked, group="higgs-team", account="physics", project="higgs", role="reader")
    assert admit(linked, "higgs-team").role == "reader"


def test_a_user_no_link_of_their_project_admits_is_refused(linked):
    admit(linked, "higgs-team")
    with pytest.raises(NotPermitted, match="no LDAP group linked to their project 'higgs' any more"):
        admit(linked, "nu")  # another linked group does not move them
    with pytest.raises(NotPermitted, match="no LDAP group linked to a project"):
        admit(linked, "unlinked-group", name="bob", dn="uid=bob,dc=example,dc=org")
    assert linked.scalar(select(User.id).where(User.name == "bob")) is None


def test_a_disabled_user_and_a_local_name_are_refused(linked):
    user = admit(linked, "higgs-team")
    user.enabled = False
    with pytest.raises(NotPermitted, match="disabled"):
        admit(linked, "higgs-team")
    UserFactory(session=linked, name="carol", password="local-password", project_id=user.project_id)
    with pytest.raises(NotPermitted, match="local user named 'carol' already"):
        admit(linked, "higgs-team", name="carol", dn="uid=carol,dc=example,dc=org")


def test_unlinking_names_the_directory_users_of_the_project(linked):
    alice = admit(linked, "higgs-team")
    UserFactory(session=linked, name="local", password="local-password", project_id=alice.project_id)
    assert unlink_group(linked, "HIGGS-team") == [alice.id]
