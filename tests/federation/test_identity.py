"""Memberships read from the three spellings issuers use: entitlements, FQANs, group claims."""

from __future__ import annotations

import pytest

from occistack.federation.identity import (
    FederatedIdentity,
    Membership,
    membership_from_entitlement,
    membership_from_fqan,
    membership_from_group,
    normalise_group,
)


@pytest.mark.parametrize("entitlement, expected", [
    ("urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu",
     Membership("fedcloud.egi.eu", "vm_operator")),
    ("urn:mace:egi.eu:group:fedcloud.egi.eu:role=member#aai.egi.eu", Membership("fedcloud.egi.eu", "member")),
    ("urn:mace:egi.eu:group:vo.access.egi.eu:tutorial:role=member#aai.egi.eu",
     Membership("vo.access.egi.eu/tutorial", "member")),
    ("urn:mace:egi.eu:group:fedcloud.egi.eu#aai.egi.eu", Membership("fedcloud.egi.eu")),
    ("urn:geant:example.org:group:my%3Agroup:role=admin#example.org", Membership("my:group", "admin")),
])
def test_group_entitlements_become_memberships(entitlement, expected):
    assert membership_from_entitlement(entitlement) == expected


@pytest.mark.parametrize("entitlement", [
    "urn:mace:egi.eu:res:rcauth#aai.egi.eu",     # a capability, not a group
    "http://example.org/licence",
    "urn:mace:egi.eu:group::role=member#aai.egi.eu",
])
def test_other_entitlements_are_no_memberships(entitlement):
    assert membership_from_entitlement(entitlement) is None


@pytest.mark.parametrize("fqan, expected", [
    ("/fedcloud.egi.eu/Role=NULL/Capability=NULL", Membership("fedcloud.egi.eu")),
    ("/fedcloud.egi.eu/Role=VMManager/Capability=NULL", Membership("fedcloud.egi.eu", "VMManager")),
    ("/atlas/lcg1/Role=production", Membership("atlas/lcg1", "production")),
    ("/ops", Membership("ops")),
])
def test_fqans_become_memberships(fqan, expected):
    assert membership_from_fqan(fqan) == expected


def test_a_fqan_must_be_a_path():
    assert membership_from_fqan("ops") is None
    assert membership_from_fqan("/Role=x") is None


def test_group_claims_are_memberships_without_role():
    assert membership_from_group("vo.example") == Membership("vo.example")
    assert membership_from_group("/vo.example/sub/") == Membership("vo.example/sub")
    assert membership_from_group("  ") is None
    assert Membership("vo.example/sub").vo == "vo.example"


def test_groups_as_rules_write_them():
    assert normalise_group("/vo/sub") == normalise_group("vo:sub") == normalise_group("vo/sub") == "vo/sub"


def test_an_identity_describes_what_it_presented():
    identity = FederatedIdentity(
        "oidc", "https://aai.example/", "egi", "abc@egi.eu",
        memberships=(Membership("fedcloud.egi.eu", "member"), Membership("ops")),
        entitlements=("urn:mace:egi.eu:group:fedcloud.egi.eu:role=member#aai.egi.eu",))
    text = identity.describe()
    assert "subject 'abc@egi.eu' of https://aai.example/" in text
    assert "memberships: fedcloud.egi.eu (role member), ops" in text
    assert "urn:mace:egi.eu:group:fedcloud.egi.eu:role=member#aai.egi.eu" in text
    assert identity.vos == ("fedcloud.egi.eu", "ops")
