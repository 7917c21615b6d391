"""``occistack ldap``: linking directory groups to accounts and projects, listing and unlinking."""

from __future__ import annotations


def test_groups_are_linked_listed_and_unlinked(occistack):
    occistack("account", "create", "physics")
    occistack("project", "create", "higgs", "--account", "physics")
    assert occistack("ldap", "link", "Physicists", "--account", "physics", "--project", "higgs", "--role",
                     "reader").stdout == "linked LDAP group Physicists to account physics and project higgs as reader\n"
    occistack("ldap", "link", "cn=theory,ou=groups,dc=example,dc=org", "--account", "physics", "--project", "higgs")
    links = occistack.json("ldap", "list", "--project", "higgs")
    assert [(link["group"], link["account"], link["project"], link["role"]) for link in links] == [
        ("Physicists", "physics", "higgs", "reader"),
        ("cn=theory,ou=groups,dc=example,dc=org", "physics", "higgs", "member")]
    assert occistack("ldap", "list").stdout.splitlines()[0].split() == ["ID", "GROUP", "ACCOUNT", "PROJECT", "ROLE"]
    # Groups are names as LDAP compares them: without regard to case.
    assert occistack.refused("ldap", "link", "physicists", "--account", "physics", "--project", "higgs") == \
        "LDAP group 'Physicists' is linked already (to project 'higgs'); unlink it first to link it elsewhere"
    assert occistack.refused("ldap", "link", "x", "--account", "physics", "--project", "nowhere") == \
        "no project named 'nowhere'; projects are: higgs"
    assert occistack.refused("project", "delete", "higgs") == \
        "project 'higgs' still has 2 LDAP group links; remove them first"
    assert occistack("ldap", "unlink", "PHYSICISTS").stdout == "unlinked LDAP group PHYSICISTS\n"
    assert occistack.refused("ldap", "unlink", "physicists") == \
        "LDAP group 'physicists' is not linked; `occistack ldap list` shows the links"
    assert [link["group"] for link in occistack.json("ldap", "list")] == ["cn=theory,ou=groups,dc=example,dc=org"]
    events = occistack.json("events")
    assert {"ldap.link", "ldap.unlink"} <= {event["action"] for event in events}


def test_a_link_needs_the_account_of_the_project(occistack):
    occistack("account", "create", "physics")
    occistack("account", "create", "chemistry")
    occistack("project", "create", "higgs", "--account", "physics")
    assert occistack.refused("ldap", "link", "g", "--account", "chemistry", "--project", "higgs") == \
        ("project 'higgs' belongs to account 'physics', not 'chemistry': link the group to the account that owns "
         "the project")
    assert "--account" in occistack("ldap", "link", "g", "--project", "higgs", status=2).stderr
