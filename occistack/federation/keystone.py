"""Keystone tokens (``X-Auth-Token``): the site's settings, and tokens of an external Keystone
validated with python-keystoneclient.

A site has one of three Keystone setups, chosen in the ini file::

    # an external Keystone validates the tokens, and the 401 challenge names it
    occistack.keystone.url = https://keystone.example.org:5000/v3
    occistack.keystone.username = occistack          # a service account that may validate tokens
    occistack.keystone.password = …
    occistack.keystone.project_name = service

    # or the built-in Keystone-compatible token service, at <server>/keystone
    occistack.keystone.builtin = true                # default "auto": on when the site accepts
                                                     # a federated credential (OIDC, X.509/VOMS)

    # or none: X-Auth-Token is refused, and the challenge is HTTP Basic's
    occistack.keystone.builtin = false

An external Keystone's token is validated once (``GET /v3/auth/tokens`` as the service
account), then remembered -- keyed by a keyed hash of the token, never the token -- until it
expires or ``occistack.auth.cache_seconds`` pass, whichever is first; so a token Keystone
revokes stops working here within that time. Its user, project and roles are read into a
federated identity (the issuer is the Keystone URL or its name ``keystone``, the subject the
Keystone user id, one membership per role with the project's name as ``vo`` and the role as
``vo_role``) and given a local project and role by the mapping rules, as OIDC identities are::

    - match: {issuer: keystone, vo: "*", vo_role: [member, admin]}
      project: "{vo}"
      role: member
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy.engine import Engine

from occistack.federation.errors import IssuerUnavailable, KeystoneTokenRefused
from occistack.federation.identity import FederatedIdentity, Identity, Membership
from occistack.federation.local import CredentialCache
from occistack.federation.mapping import MappingRules
from occistack.federation.provisioning import provision

_PREFIX = "occistack.keystone."
#: The protocols of OS-FEDERATION auth URLs the built-in service answers (EGI's names).
FEDERATION_PROTOCOLS = ("mapped", "oidc", "openid")
#: A Keystone token is longer than an ID but far shorter than this (fernet: ~200 characters).
LONGEST_TOKEN = 8 * 1024

_OPTIONS = {
    "url": "the URL of an external Keystone's v3 API, which validates the tokens",
    "public_url": "the Keystone URL the 401 challenge names (default: url, or <server>/keystone)",
    "builtin": "auto, true or false: the built-in Keystone-compatible token service (default auto: on when the "
               "site accepts a federated credential)",
    "token_lifetime_seconds": "how long a token of the built-in service lasts (default 3600)",
    "identity_providers": "the identity provider names the built-in service answers in OS-FEDERATION URLs, "
                          "separated by spaces (default egi.eu)",
    "username": "the external Keystone's service account that validates tokens",
    "password": "that account's password",
    "project_name": "the project the service account's token is scoped to",
    "user_domain_name": "the service account's domain (default Default)",
    "project_domain_name": "the project's domain (default Default)",
    "cafile": "the CA bundle that verifies the external Keystone's TLS certificate",
    "timeout_seconds": "how long a request to the external Keystone may take (default 5)",
}


class KeystoneSettingsError(ValueError):
    """The ini file's Keystone settings cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class KeystoneSettings:
    #: "external", "builtin" or "off".
    mode: str
    url: str | None = None
    public_url: str | None = None
    token_lifetime_seconds: float = 3600.0
    identity_providers: tuple[str, ...] = ("egi.eu",)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    project_name: str | None = None
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    cafile: str | None = None
    timeout_seconds: float = 5.0


def keystone_settings(ini: Mapping[str, Any], federated_credentials: bool) -> KeystoneSettings:
    """The Keystone setup of the ini settings; ``federated_credentials``: whether the site accepts
    any (which turns the built-in service on when ``builtin`` is auto)."""
    for key in ini:
        if key.startswith(_PREFIX) and key[len(_PREFIX):] not in _OPTIONS:
            raise KeystoneSettingsError(f"{key}: unknown setting; the Keystone settings are: " + "; ".join(
                f"{_PREFIX}{option} ({meaning})" for option, meaning in _OPTIONS.items()))

    def option(name: str, default: Any = None) -> Any:
        value = ini.get(_PREFIX + name)
        return default if value is None or str(value).strip() == "" else str(value).strip()

    def seconds(name: str, default: float) -> float:
        value = option(name, default)
        try:
            number = float(value)
        except ValueError:
            raise KeystoneSettingsError(f"{_PREFIX}{name} must be a number of seconds, not {value!r}") from None
        if number <= 0:
            raise KeystoneSettingsError(f"{_PREFIX}{name} must be more than 0 seconds, not {value!r}")
        return number

    builtin = option("builtin", "auto").lower()
    if builtin not in ("auto", "true", "false"):
        raise KeystoneSettingsError(f"{_PREFIX}builtin must be auto, true or false, not {builtin!r}")
    url = option("url")
    public_url = option("public_url")
    common = {"public_url": public_url.rstrip("/") if public_url else None,
              "token_lifetime_seconds": seconds("token_lifetime_seconds", 3600),
              "identity_providers": tuple(option("identity_providers", "egi.eu").split())}
    if url is None:
        on = builtin == "true" or (builtin == "auto" and federated_credentials)
        return KeystoneSettings(mode="builtin" if on else "off", **common)
    if builtin == "true":
        raise KeystoneSettingsError(f"{_PREFIX}url and {_PREFIX}builtin = true exclude each other: tokens come "
                                    "either from an external Keystone or from the built-in service")
    if not url.startswith(("http://", "https://")):
        raise KeystoneSettingsError(f"{_PREFIX}url must be an http(s) URL of Keystone's v3 API, not {url!r}")
    missing = [name for name in ("username", "password", "project_name") if option(name) is None]
    if missing:
        raise KeystoneSettingsError(f"{_PREFIX}url is set, so {', '.join(_PREFIX + name for name in missing)} "
                                    "must say which service account validates tokens there")
    return KeystoneSettings(
        mode="external", url=url.rstrip("/"), username=option("username"), password=option("password"),
        project_name=option("project_name"), user_domain_name=option("user_domain_name", "Default"),
        project_domain_name=option("project_domain_name", "Default"), cafile=option("cafile"),
        timeout_seconds=seconds("timeout_seconds", 5), **common)


# --- an external Keystone ----------------------------------------------------------------------------

class ExternalKeystone:
    """Validates tokens at an external Keystone through python-keystoneclient, as its service
    account (whose own token keystoneauth gets, and gets again when it expires)."""

    def __init__(self, settings: KeystoneSettings):
        self.settings = settings
        self._client = None
        self._lock = threading.Lock()

    def _keystone(self):
        # Built on the first token, not at start: a site starts while its Keystone is down.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from keystoneauth1 import session
                    from keystoneauth1.identity import v3
                    from keystoneclient.v3 import client

                    settings = self.settings
                    auth = v3.Password(auth_url=settings.url, username=settings.username,
                                       password=settings.password, project_name=settings.project_name,
                                       user_domain_name=settings.user_domain_name,
                                       project_domain_name=settings.project_domain_name)
                    keystone_session = session.Session(auth=auth, timeout=settings.timeout_seconds,
                                                       verify=settings.cafile or True)
                    # Straight to the configured URL: the catalog may list addresses this
                    # server cannot reach (an admin network, a public name behind NAT).
                    self._client = client.Client(session=keystone_session, endpoint_override=settings.url)
        return self._client

    def validate(self, token: str) -> FederatedIdentity:
        from keystoneauth1 import exceptions

        url = self.settings.url
        if len(token) > LONGEST_TOKEN:
            raise KeystoneTokenRefused(f"the token is {len(token)} characters long; no Keystone token is longer "
                                       f"than {LONGEST_TOKEN}")
        try:
            access = self._keystone().tokens.validate(token, include_catalog=False)
        except exceptions.NotFound:
            raise KeystoneTokenRefused(f"the Keystone at {url} does not accept the token: expired, revoked or never "
                                       "issued by it; get a new one there") from None
        except exceptions.Unauthorized:
            raise IssuerUnavailable(f"the Keystone at {url} refuses this site's service account "
                                    f"({self.settings.username!r}), so no token can be validated; the site's "
                                    "administrators must fix occistack.keystone.username and password") from None
        except exceptions.Forbidden:
            raise IssuerUnavailable(f"the Keystone at {url} does not let this site's service account validate tokens "
                                    "(it needs the admin or service role); the site's administrators must fix "
                                    "it") from None
        except exceptions.ClientException as error:
            raise IssuerUnavailable(f"cannot validate the token at the Keystone at {url} "
                                    f"({error.__class__.__name__}); try again shortly") from None
        return identity_from_access(access, url)


def identity_from_access(access, keystone_url: str) -> FederatedIdentity:
    """A validated Keystone token (keystoneauth's AccessInfo) as a federated identity."""
    if not access.project_scoped:
        raise KeystoneTokenRefused(f"the token is not scoped to a project, so it opens no OCCI request; ask the "
                                   f"Keystone at {keystone_url} for a project-scoped token")
    memberships = tuple(Membership(access.project_name, role) for role in sorted(set(access.role_names)))
    expires = access.expires
    return FederatedIdentity(
        method="keystone", issuer=keystone_url, source="keystone", subject=access.user_id,
        memberships=memberships, display_name=access.username,
        expires_at=expires.timestamp() if expires is not None else None)


class ExternalTokenAuthenticator:
    """An external Keystone's token → the local Identity: validated, mapped, provisioned and
    remembered."""

    def __init__(self, keystone: ExternalKeystone, rules: MappingRules, cache: CredentialCache,
                 clock: Callable[[], float] = time.time):
        self.keystone = keystone
        self.rules = rules
        self.cache = cache
        self._clock = clock

    def cached(self, token: str) -> Identity | None:
        return self.cache.get(self.cache.token_key(token, "keystone-token"))

    def identify(self, token: str, engine: Engine) -> Identity:
        key = self.cache.token_key(token, "keystone-token")
        identity = self.cache.get(key)
        if identity is not None:
            return identity
        federated = self.keystone.validate(token)
        identity = provision(engine, federated, self.rules.grant(federated))
        lifetime = None if federated.expires_at is None else federated.expires_at - self._clock()
        if lifetime is None or lifetime > 0:
            self.cache.put(key, identity, lifetime=lifetime)
        return identity
