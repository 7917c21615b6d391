"""Mapping rules: the first matching rule decides; every refusal says what was presented and
what is accepted; a rules file that cannot work is refused when it is loaded."""

from __future__ import annotations

import json

import pytest

from occistack.federation import FederatedIdentity, IdentityNotMapped, MappingError, MappingRules, Membership

EGI = "https://aai.egi.eu/auth/realms/egi"

RULES = """
# the order is the order of preference
rules:
  - match: {issuer: egi, vo: fedcloud.egi.eu, vo_role: vm_operator}
    project: fedcloud
    role: member
  - match: {issuer: egi, vo: fedcloud.egi.eu}
    project: fedcloud
    role: reader
  - match: {entitlement: "urn:mace:egi.eu:group:ops:*"}
    project: ops
    role: reader
  - match: {group: "/science.example.org/*"}
    project: "{vo}"
  - match: {dn: "/DC=org/DC=example/CN=Site Admin", issuer: [egi, "https://other.example/"]}
    project: admins
    role: admin
  - match: {fqan: "/biomed/Role=*"}
    project: biomed
"""


def person(*memberships, issuer=EGI, source="egi", entitlements=(), dn=None, fqans=()):
    return FederatedIdentity("oidc", issuer, source, "someone@egi.eu", memberships=tuple(memberships),
                             entitlements=tuple(entitlements), dn=dn, fqans=tuple(fqans))


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(RULES)
    return MappingRules.from_file(path)


def test_the_first_matching_rule_decides(rules):
    operator = rules.grant(person(Membership("fedcloud.egi.eu", "vm_operator")))
    assert (operator.project, operator.role, operator.rule) == ("fedcloud", "member", 1)
    member = rules.grant(person(Membership("fedcloud.egi.eu", "member")))
    assert (member.project, member.role, member.rule) == ("fedcloud", "reader", 2)


def test_membership_conditions_must_hold_for_the_same_membership(rules):
    # vm_operator of another VO and a plain member of fedcloud: rule 1 must not match.
    grant = rules.grant(person(Membership("other.vo", "vm_operator"), Membership("fedcloud.egi.eu", "member")))
    assert grant.rule == 2


def test_the_issuer_is_matched_by_its_name_or_its_url(rules):
    by_url = MappingRules.from_data([{"match": {"issuer": EGI}, "project": "p"}])
    assert by_url.grant(person(Membership("x"))).project == "p"
    with pytest.raises(IdentityNotMapped):
        rules.grant(person(Membership("fedcloud.egi.eu", "vm_operator"), issuer="https://other.example/",
                           source="other"))


def test_entitlements_match_as_written_with_wildcards(rules):
    grant = rules.grant(person(entitlements=["urn:mace:egi.eu:group:ops:role=member#aai.egi.eu"]))
    assert (grant.project, grant.role) == ("ops", "reader")


def test_a_project_per_vo(rules):
    grant = rules.grant(person(Membership("other"), Membership("science.example.org/physics")))
    assert (grant.project, grant.role) == ("science.example.org", "member")


def test_dn_and_fqan_conditions(rules):
    admin = rules.grant(person(dn="/DC=org/DC=example/CN=Site Admin", source="other",
                               issuer="https://other.example/"))
    assert (admin.project, admin.role) == ("admins", "admin")
    assert rules.grant(person(fqans=["/biomed/Role=NULL/Capability=NULL"])).project == "biomed"


def test_an_unmapped_identity_hears_what_it_presented_and_what_is_accepted(rules):
    with pytest.raises(IdentityNotMapped) as refused:
        rules.grant(person(Membership("unknown.vo", "member"),
                           entitlements=["urn:mace:egi.eu:group:unknown.vo:role=member#aai.egi.eu"]))
    message = refused.value.message
    assert "subject 'someone@egi.eu' of https://aai.egi.eu/auth/realms/egi" in message
    assert "memberships: unknown.vo (role member)" in message
    assert "rule 1: issuer egi, VO fedcloud.egi.eu, VO role vm_operator → project fedcloud as member" in message
    assert "rule 3: entitlement urn:mace:egi.eu:group:ops:* → project ops as reader" in message


def test_no_rules_accept_nobody_and_say_so():
    with pytest.raises(IdentityNotMapped, match="no mapping rules"):
        MappingRules(()).grant(person(Membership("vo")))


def test_json_is_read_as_well(tmp_path):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps([{"match": {"vo": ["a.vo", "b.vo"]}, "project": "shared", "role": "member"}]))
    rules = MappingRules.from_file(path)
    assert rules.grant(person(Membership("b.vo"))).project == "shared"
    with pytest.raises(IdentityNotMapped):
        rules.grant(person(Membership("c.vo")))


def test_a_wildcard_is_the_only_special_character():
    rules = MappingRules.from_data([{"match": {"vo": "vo.(a|b)"}, "project": "p"}])
    with pytest.raises(IdentityNotMapped):
        rules.grant(person(Membership("vo.a")))
    assert rules.grant(person(Membership("vo.(a|b)"))).project == "p"


def test_a_vo_name_that_is_no_project_name_is_refused_with_the_rule():
    rules = MappingRules.from_data([{"match": {"vo": "*"}, "project": "{vo}"}])
    with pytest.raises(IdentityNotMapped, match="rule 1 .* not a usable project name"):
        rules.grant(person(Membership("bad vo!")))


@pytest.mark.parametrize("data, problem", [
    ({"rules": "all"}, "expected a list of rules"),
    ([["vo"]], "rule 1: a rule is a mapping"),
    ([{"match": {"vo": "a"}, "project": "p", "roles": "x"}], "unknown keys roles"),
    ([{"project": "p"}], "'match' must give at least one condition"),
    ([{"match": {}, "project": "p"}], "'match' must give at least one condition"),
    ([{"match": {"colour": "blue"}, "project": "p"}], "unknown condition 'colour'"),
    ([{"match": {"vo": ""}, "project": "p"}], "non-empty string"),
    ([{"match": {"vo": 3}, "project": "p"}], "non-empty string"),
    ([{"match": {"vo": "a"}}], "'project' names the project"),
    ([{"match": {"issuer": "egi"}, "project": "{vo}"}], "needs a vo, group or vo_role condition"),
    ([{"match": {"vo": "a"}, "project": "has space"}], "not usable"),
    ([{"match": {"vo": "a"}, "project": "{user}"}], "placeholder other than {vo}"),
    ([{"match": {"vo": "a"}, "project": "p", "role": "owner"}], "not one of admin, member, reader"),
])
def test_unusable_rules_are_refused_with_where_and_why(data, problem):
    with pytest.raises(MappingError, match=problem):
        MappingRules.from_data(data, source="mapping.yaml")


def test_an_unreadable_file_says_so(tmp_path):
    with pytest.raises(MappingError, match="cannot read the mapping rules"):
        MappingRules.from_file(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n")
    with pytest.raises(MappingError, match="neither YAML nor JSON"):
        MappingRules.from_file(broken)
