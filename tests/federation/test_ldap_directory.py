"""The directory client (federation/ldap.py) against the real slapd: what it finds of an entry,
groups by DN (groupOfNames) or by login name (posixGroup's memberUid), anonymous searches, names
that try to widen the filter, and several servers where the first is down."""

from __future__ import annotations

import ldap3
import pytest

from occistack.federation import IssuerUnavailable
from occistack.federation.ldap import LdapDirectory, LdapSettings
from tests.federation.slapd import GROUPS, PASSWORDS, ROOT_DN, ROOT_PASSWORD, person_dn


def directory(slapd, **extra) -> LdapDirectory:
    return LdapDirectory(LdapSettings.from_ini(slapd.settings(**{f"occistack.ldap.{k}": v for k, v in extra.items()})))


def test_an_entry_with_its_groups(slapd):
    found = directory(slapd).authenticate("Alice", PASSWORDS["alice"])
    assert (found.dn, found.name) == (person_dn("alice"), "alice")  # the directory's spelling of the name
    assert set(found.groups) == {"physics", f"cn=physics,{GROUPS}"}
    assert directory(slapd).authenticate("alice", PASSWORDS["bob"]) is None
    assert directory(slapd).authenticate("*", PASSWORDS["alice"]) is None
    assert directory(slapd).authenticate("alice)(uid=*", PASSWORDS["alice"]) is None


def test_anonymous_searches(slapd):
    settings = {key: value for key, value in slapd.settings().items() if "bind" not in key}
    found = LdapDirectory(LdapSettings.from_ini(settings)).authenticate("carol", PASSWORDS["carol"])
    assert "chemistry" in found.groups


@pytest.fixture
def posix_group(slapd):
    root = ldap3.Connection(ldap3.Server(slapd.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)
    dn = f"cn=labs,{GROUPS}"
    assert root.add(dn, ["posixGroup"], {"cn": "labs", "gidNumber": 5000, "memberUid": ["bob"]}), root.result
    yield dn
    root.delete(dn)
    root.unbind()


def test_posix_groups_list_members_by_name(slapd, posix_group):
    posix = directory(slapd, group_filter="(objectClass=posixGroup)", group_member_attribute="memberUid",
                      group_member_value="name")
    assert set(posix.authenticate("bob", PASSWORDS["bob"]).groups) == {"labs", posix_group}
    assert posix.authenticate("alice", PASSWORDS["alice"]).groups == ()


def test_the_first_server_that_answers_is_asked(slapd):
    both = directory(slapd, url=f"ldap://127.0.0.1:1 {slapd.url}")
    assert both.authenticate("alice", PASSWORDS["alice"]).name == "alice"
    with pytest.raises(IssuerUnavailable, match="cannot be reached right now"):
        directory(slapd, url="ldap://127.0.0.1:1").authenticate("alice", PASSWORDS["alice"])
