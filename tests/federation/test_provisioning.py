"""Federated users are made on first login, follow the mapping rules afterwards, and are
remembered per token; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from occistack.federation import (
    BearerTokenAuthenticator,
    CredentialCache,
    FederatedIdentity,
    Grant,
    Identity,
    IdentityNotMapped,
    MappingRules,
    Membership,
)
from occistack.federation.provisioning import provision
from occistack.model import EventRecord, FederatedUser, Project, User
from occistack.model.session import read_only_session
from tests.factories import ProjectFactory
from tests.federation.tokens import Clock, FakeIssuerWeb, rsa_key, sign, validator

EGI = "https://aai.egi.eu/auth/realms/egi"


def alice(subject="alice@egi.eu"):
    return FederatedIdentity("oidc", EGI, "egi", subject, memberships=(Membership("fedcloud.egi.eu", "member"),))


def rows(engine, model):
    """The table's rows, as plain rows that outlive the session."""
    with read_only_session(engine) as session:
        return list(session.execute(select(model.__table__)))


def test_the_first_login_makes_the_project_and_the_user(engine):
    identity = provision(engine, alice(), Grant("fedcloud", "member", 1))
    (project,) = rows(engine, Project)
    (user,) = rows(engine, User)
    (link,) = rows(engine, FederatedUser)
    assert (project.name, user.name, user.project_id, user.role, user.password_hash) == (
        "fedcloud", "alice@egi.eu@egi", project.id, "member", None)
    assert (link.user_id, link.issuer, link.subject, link.method) == (user.id, EGI, "alice@egi.eu", "oidc")
    assert (identity.user_id, identity.project_id, identity.role, identity.method) == (
        user.id, project.id, "member", "oidc")
    actions = sorted(event.action for event in rows(engine, EventRecord))
    assert actions == ["project.create", "user.create"]


def test_the_next_login_reads_and_writes_nothing(engine):
    first = provision(engine, alice(), Grant("fedcloud", "member", 1))
    again = provision(engine, alice(), Grant("fedcloud", "member", 1))
    assert again == first
    assert len(rows(engine, User)) == 1 and len(rows(engine, EventRecord)) == 2


def test_a_changed_mapping_moves_the_user(engine):
    first = provision(engine, alice(), Grant("fedcloud", "member", 1))
    moved = provision(engine, alice(), Grant("ops", "reader", 3))
    assert moved.user_id == first.user_id and moved.project_id != first.project_id and moved.role == "reader"
    assert {project.name for project in rows(engine, Project)} == {"fedcloud", "ops"}
    assert "user.map" in {event.action for event in rows(engine, EventRecord)}


def test_an_existing_project_is_joined(engine, tm_session):
    ProjectFactory(session=tm_session, name="fedcloud", title="made by the admin")
    tm_session.connection().commit()
    identity = provision(engine, alice(), Grant("fedcloud", "member", 1))
    (project,) = rows(engine, Project)
    assert identity.project_id == project.id and project.title == "made by the admin"


def test_long_subjects_and_taken_names_get_a_name_of_their_own(engine):
    checkin = "a" * 64 + "@egi.eu"  # EGI Check-in subjects are this long
    long_one = provision(engine, alice(checkin), Grant("fedcloud", "member", 1))
    assert long_one.user_name.startswith("egi-") and len(long_one.user_name) <= 64
    with read_only_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    other_issuer = FederatedIdentity("oidc", "https://other.example/", "egi", "alice@egi.eu")
    first = provision(engine, alice(), Grant("fedcloud", "member", 1))
    second = provision(engine, other_issuer, Grant("fedcloud", "member", 1))
    assert first.user_name == "alice@egi.eu@egi" and second.user_name.startswith("egi-")
    assert first.user_id != second.user_id


def test_a_disabled_user_is_refused(engine, tm_session):
    identity = provision(engine, alice(), Grant("fedcloud", "member", 1))
    with engine.begin() as connection:
        connection.execute(User.__table__.update().where(User.id == identity.user_id).values(enabled=False))
    with pytest.raises(IdentityNotMapped, match="disabled"):
        provision(engine, alice(), Grant("fedcloud", "member", 1))


# --- the whole way: token, validation, mapping, provisioning, the cache --------------------------------

class CountingValidator:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def validate(self, token):
        self.calls += 1
        return self.inner.validate(token)


RULES = MappingRules.from_data([{"match": {"vo": "fedcloud.egi.eu"}, "project": "fedcloud"}])


def test_a_token_is_validated_once_then_remembered(engine):
    key = rsa_key("k1")
    counting = CountingValidator(validator(FakeIssuerWeb(keys=[key])))
    authenticator = BearerTokenAuthenticator(counting, RULES, CredentialCache(ttl=60))
    token = sign(key)
    assert authenticator.cached(token) is None
    identity = authenticator.identify(token, engine)
    assert authenticator.cached(token) == identity
    assert authenticator.identify(token, engine) == identity
    assert counting.calls == 1
    assert authenticator.cached(sign(key, sub="bob")) is None


def test_a_token_is_remembered_no_longer_than_it_is_valid(engine):
    key = rsa_key("k1")
    clock = Clock()
    cache = CredentialCache(ttl=60, clock=clock)
    authenticator = BearerTokenAuthenticator(validator(FakeIssuerWeb(keys=[key]), clock), RULES, cache, clock=clock)
    token = sign(key, exp=int(clock.now) + 5)
    authenticator.identify(token, engine)
    assert authenticator.cached(token) is not None
    clock.now += 6
    assert authenticator.cached(token) is None


def test_an_unmapped_token_is_not_provisioned(engine):
    key = rsa_key("k1")
    authenticator = BearerTokenAuthenticator(validator(FakeIssuerWeb(keys=[key])), MappingRules.from_data(
        [{"match": {"vo": "another.vo"}, "project": "p"}]), CredentialCache(ttl=60))
    with pytest.raises(IdentityNotMapped, match="presented subject 'alice'"):
        authenticator.identify(sign(key), engine)
    assert rows(engine, User) == []


def test_the_cache_keeps_each_kind_of_credential_apart():
    """An OIDC token sent as X-Auth-Token must not find the identity its Bearer use left behind,
    and no user name and password can stand for a token."""
    cache = CredentialCache(ttl=60)
    alice = Identity(1, "alice", 1, "oidc")
    cache.put(cache.token_key("abc"), alice)
    assert cache.get(cache.token_key("abc")) == alice
    assert cache.get(cache.token_key("abc", "keystone-token")) is None
    assert cache.get(cache.fingerprint("abc", "")) is None
    with pytest.raises(ValueError, match="unknown kind of token 'cookie'; known: bearer-token, keystone-token"):
        cache.token_key("abc", "cookie")


# --- the FQAN accounting names a user's computes by ----------------------------------------------------

def test_the_fqan_of_the_login_is_kept_for_accounting(engine):
    proxy = FederatedIdentity("x509", "/DC=org/CN=CA", "x509", "/DC=org/CN=Alice",
                              memberships=(Membership("fedcloud.egi.eu", "VMManager"),),
                              fqans=("/fedcloud.egi.eu/Role=VMManager/Capability=NULL", "/fedcloud.egi.eu/sub"))
    provision(engine, proxy, Grant("fedcloud", "member", 1))
    (link,) = rows(engine, FederatedUser)
    assert (link.subject, link.fqan) == ("/DC=org/CN=Alice", "/fedcloud.egi.eu/Role=VMManager/Capability=NULL")


def test_an_oidc_membership_is_written_as_an_fqan(engine):
    provision(engine, alice(), Grant("fedcloud", "member", 1))
    (link,) = rows(engine, FederatedUser)
    assert link.fqan == "/fedcloud.egi.eu/Role=member"
    nobody = FederatedIdentity("oidc", EGI, "egi", "bob@egi.eu")
    provision(engine, nobody, Grant("fedcloud", "member", 1))
    assert {row.subject: row.fqan for row in rows(engine, FederatedUser)}["bob@egi.eu"] is None


def test_a_changed_fqan_is_kept_without_moving_the_user(engine):
    first = provision(engine, alice(), Grant("fedcloud", "member", 1))
    other_group = FederatedIdentity("oidc", EGI, "egi", "alice@egi.eu", memberships=(Membership("vo.access.egi.eu"),))
    again = provision(engine, other_group, Grant("fedcloud", "member", 1))
    assert again == first
    (link,) = rows(engine, FederatedUser)
    assert link.fqan == "/vo.access.egi.eu"
    assert "user.map" not in {event.action for event in rows(engine, EventRecord)}
