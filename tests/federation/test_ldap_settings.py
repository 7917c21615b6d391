"""The ``occistack.ldap.*`` settings: what a site writes, and the refusals that stop a server with a
misconfigured directory at start rather than at a user's login."""

from __future__ import annotations

import pytest

from occistack.federation.ldap import LdapSettings, LdapSettingsError


def test_no_url_means_no_directory():
    assert LdapSettings.from_ini({}) is None
    assert LdapSettings.from_ini({"occistack.ldap.url": "  ", "occistack.ldap.user_base": "dc=x"}) is None


def test_defaults_and_several_servers():
    settings = LdapSettings.from_ini({"occistack.ldap.url": "ldaps://one.example.org/ ldap://two.example.org:389",
                                      "occistack.ldap.user_base": "ou=people,dc=example,dc=org"})
    assert settings.urls == ("ldaps://one.example.org", "ldap://two.example.org:389")
    assert (settings.user_filter, settings.group_base, settings.group_member_attribute, settings.bind_dn) == \
        ("(uid={user})", "ou=people,dc=example,dc=org", "member", None)
    assert (settings.connect_timeout, settings.timeout, settings.cache_seconds, settings.start_tls) == \
        (5.0, 10.0, None, False)


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("url", "http://ldap.example.org", "is not a server URL"),
    ("url", "ldap://host/dc=example", "is not a server URL"),
    ("user_filter", "uid=someone", "with {user} where the login name goes"),
    ("group_member_value", "uid", "must be one of dn, name"),
    ("start_tls", "maybe", "must be true or false"),
    ("timeout", "0", "more than 0"),
    ("connect_timeout", "soon", "more than 0"),
])
def test_mistakes_are_named(setting, value, message):
    ini = {"occistack.ldap.url": "ldap://ldap.example.org", "occistack.ldap.user_base": "dc=example",
           f"occistack.ldap.{setting}": value}
    with pytest.raises(LdapSettingsError, match=message.replace("{", r"\{").replace("}", r"\}")):
        LdapSettings.from_ini(ini)


def test_a_directory_without_a_user_base_is_refused():
    with pytest.raises(LdapSettingsError, match="occistack.ldap.user_base is not"):
        LdapSettings.from_ini({"occistack.ldap.url": "ldap://ldap.example.org"})


def test_a_server_refuses_to_start_with_a_misconfigured_directory(db_url):
    from pyramid.exceptions import ConfigurationError

    from tests.conftest import make_app

    with pytest.raises(ConfigurationError, match="occistack.ldap.user_base"):
        make_app(db_url, **{"occistack.ldap.url": "ldap://127.0.0.1:1"})
