"""The built-in token service's tokens, and the Keystone settings of a site: unit tests, no
server."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from occistack.federation import KeystoneTokenRefused
from occistack.federation.keystone import KeystoneSettingsError, keystone_settings
from occistack.federation.keystone_tokens import TokenService, derive_token_key
from tests.federation.tokens import Clock

SITE_KEY = Fernet.generate_key()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def tokens(clock):
    return TokenService(derive_token_key(SITE_KEY), lifetime=3600, clock=clock)


def test_a_token_says_whom_for_which_project_how_and_until_when(tokens, clock):
    token, issued = tokens.issue(7, 3, ("openid",))
    read = tokens.read(token)
    assert read == issued
    assert (read.user_id, read.project_id, read.methods, read.scoped) == (7, 3, ("openid",), True)
    assert read.expires_at == pytest.approx(clock.now + 3600, abs=1)
    assert len(token) < 300


def test_an_unscoped_token_has_no_project(tokens):
    token, _ = tokens.issue(7, None, ("mapped",))
    assert not tokens.read(token).scoped


def test_an_exchanged_token_keeps_the_expiry_and_audit_id_of_the_first(tokens, clock):
    first, unscoped = tokens.issue(7, None, ("openid",))
    clock.now += 600
    _, scoped = tokens.issue(7, 3, ("token",), expires_at=unscoped.expires_at, audit_id=unscoped.audit_id)
    assert (scoped.expires_at, scoped.audit_id) == (unscoped.expires_at, unscoped.audit_id)
    assert scoped.issued_at == pytest.approx(unscoped.issued_at + 600, abs=1)


def test_every_token_is_new(tokens):
    first, one = tokens.issue(7, 3, ("token",))
    second, other = tokens.issue(7, 3, ("token",))
    assert first != second and one.audit_id != other.audit_id


def test_an_expired_token_is_refused_with_when(tokens, clock):
    token, _ = tokens.issue(7, 3, ("token",))
    clock.now += 3601
    with pytest.raises(KeystoneTokenRefused, match=r"the token expired at .*Z \(1 s ago\); get a new one"):
        tokens.read(token)


@pytest.mark.parametrize("mangle", [
    lambda token: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
    lambda token: token[:40],
    lambda token: "not a token at all",
    lambda token: "é" + token,
])
def test_an_altered_or_foreign_token_is_refused(tokens, mangle):
    token, _ = tokens.issue(7, 3, ("token",))
    with pytest.raises(KeystoneTokenRefused, match="not issued by this site's token service, or was altered"):
        tokens.read(mangle(token))


def test_a_token_of_another_site_key_is_refused(tokens, clock):
    elsewhere = TokenService(derive_token_key(Fernet.generate_key()), lifetime=3600, clock=clock)
    token, _ = elsewhere.issue(7, 3, ("token",))
    with pytest.raises(KeystoneTokenRefused, match="or the site's secret key changed since"):
        tokens.read(token)


def test_the_token_key_is_not_the_site_key_itself():
    # A token opened with the site key would let a sealed BMC password be read as a token, or
    # the other way round.
    assert derive_token_key(SITE_KEY) != SITE_KEY
    assert derive_token_key(SITE_KEY) == derive_token_key(SITE_KEY)


def test_an_overlong_token_is_refused_unread(tokens):
    with pytest.raises(KeystoneTokenRefused, match="characters long"):
        tokens.read("x" * 5000)


# --- settings ------------------------------------------------------------------------------------------

def test_without_settings_the_built_in_service_runs_when_the_site_accepts_federated_credentials():
    assert keystone_settings({}, federated_credentials=True).mode == "builtin"
    assert keystone_settings({}, federated_credentials=False).mode == "off"
    assert keystone_settings({"occistack.keystone.builtin": "true"}, federated_credentials=False).mode == "builtin"
    assert keystone_settings({"occistack.keystone.builtin": "false"}, federated_credentials=True).mode == "off"


def test_an_external_keystone_needs_a_service_account():
    external = {"occistack.keystone.url": "https://keystone.test:5000/v3/", "occistack.keystone.username": "occi",
                "occistack.keystone.password": "secret", "occistack.keystone.project_name": "service"}
    settings = keystone_settings(external, federated_credentials=True)
    assert (settings.mode, settings.url, settings.user_domain_name) == ("external", "https://keystone.test:5000/v3",
                                                                        "Default")
    assert "secret" not in repr(settings)
    del external["occistack.keystone.password"]
    with pytest.raises(KeystoneSettingsError, match="occistack.keystone.password must say which service account"):
        keystone_settings(external, federated_credentials=True)


@pytest.mark.parametrize("settings, problem", [
    ({"occistack.keystone.builtin": "maybe"}, "must be auto, true or false"),
    ({"occistack.keystone.token_lifetime_seconds": "an hour"}, "must be a number of seconds"),
    ({"occistack.keystone.token_lifetime_seconds": "0"}, "must be more than 0 seconds"),
    ({"occistack.keystone.urll": "x"}, "occistack.keystone.urll: unknown setting; the Keystone settings are: "),
    ({"occistack.keystone.url": "keystone.test/v3"}, "must be an http"),
    ({"occistack.keystone.url": "https://k/v3", "occistack.keystone.builtin": "true"}, "exclude each other"),
])
def test_unusable_settings_are_refused_naming_the_setting(settings, problem):
    with pytest.raises(KeystoneSettingsError, match=problem):
        keystone_settings(settings, federated_credentials=False)
