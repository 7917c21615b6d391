"""Local users whose password an LDAP directory checks (``occistack.ldap.*`` in the ini file).

A client sends HTTP Basic credentials as it would for any local user. When the name is a local
user who is not the directory's (a user made with a password, or a federated one), the
directory is never asked: local users work as they always did, whether the directory answers
or not. Any other name is looked up in the directory with the site's own bind (or anonymously),
the password proved by binding as the entry found, and the groups the entry belongs to read
with the site's bind. Who the user then is at this site -- a user made on their first login in
the project of a linked group -- is decided by an ``admit`` function the security policy hands
in (the plane's, through the admin use cases), not here.

A directory that cannot be reached is the site's trouble, not the user's: it raises
``IssuerUnavailable`` (503) and lets nobody in on that account. A wrong password, an unknown
name, an empty password (which LDAP would take as an anonymous bind) are simply no identity.
"""

from __future__ import annotations

import logging
import math
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.core.results import RESULT_INVALID_CREDENTIALS
from ldap3.utils.conv import escape_filter_chars
from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import FederatedUser, User
from occistack.federation.errors import IssuerUnavailable
from occistack.federation.identity import Identity
from occistack.federation.local import LocalPasswordSource

log = logging.getLogger(__name__)

#: ``federated_users.method`` of a user the directory authenticates.
DIRECTORY_METHOD = "ldap"
#: Where the login name goes in the user filter.
LOGIN_PLACEHOLDER = "{user}"
#: What a group's member attribute holds: the member's DN (groupOfNames' ``member``) or their
#: login name (posixGroup's ``memberUid``).
MEMBER_VALUES = ("dn", "name")
DEFAULT_USER_FILTER = f"(uid={LOGIN_PLACEHOLDER})"
DEFAULT_GROUP_FILTER = "(objectClass=groupOfNames)"


class LdapSettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LdapSettings:
    urls: tuple[str, ...]
    user_base: str
    user_filter: str = DEFAULT_USER_FILTER
    user_name_attribute: str = "uid"
    #: None: search anonymously.
    bind_dn: str | None = None
    bind_password: str = ""
    group_base: str = ""
    group_filter: str = DEFAULT_GROUP_FILTER
    group_member_attribute: str = "member"
    group_member_value: str = "dn"
    group_name_attribute: str = "cn"
    start_tls: bool = False
    ca_file: str | None = None
    verify_certificates: bool = True
    connect_timeout: float = 5.0
    timeout: float = 10.0
    #: how long a verified directory password is remembered; None: the site's auth cache time.
    cache_seconds: float | None = None

    @property
    def issuer(self) -> str:
        """What ``federated_users.issuer`` says for this directory's users."""
        return "ldap"

    @classmethod
    def from_ini(cls, ini: Mapping[str, object]) -> LdapSettings | None:
        """The settings of ``occistack.ldap.*``; None when ``occistack.ldap.url`` is not set."""
        def text(name: str, default: str | None = None) -> str | None:
            value = ini.get(f"occistack.ldap.{name}")
            value = str(value).strip() if value is not None else ""
            return value or default

        urls = tuple(_server_url(url) for url in (text("url") or "").replace(",", " ").split() if url)
        if not urls:
            return None
        user_base = text("user_base")
        if not user_base:
            raise LdapSettingsError("occistack.ldap.url is set but occistack.ldap.user_base is not: say under which "
                                    "DN the users are (like ou=people,dc=example,dc=org)")
        user_filter = text("user_filter", DEFAULT_USER_FILTER)
        if LOGIN_PLACEHOLDER not in user_filter or not user_filter.startswith("("):
            raise LdapSettingsError(f"occistack.ldap.user_filter must be an LDAP filter in parentheses with "
                                    f"{LOGIN_PLACEHOLDER} where the login name goes; got {user_filter!r}")
        member_value = text("group_member_value", "dn").lower()
        if member_value not in MEMBER_VALUES:
            raise LdapSettingsError(f"occistack.ldap.group_member_value must be one of {', '.join(MEMBER_VALUES)}; "
                                    f"got {member_value!r}")
        group_filter = text("group_filter", DEFAULT_GROUP_FILTER)
        if not group_filter.startswith("("):
            raise LdapSettingsError(f"occistack.ldap.group_filter must be an LDAP filter in parentheses; got "
                                    f"{group_filter!r}")
        cache = text("cache_seconds")
        return cls(
            urls=urls, user_base=user_base, user_filter=user_filter,
            user_name_attribute=text("user_name_attribute", "uid"),
            bind_dn=text("bind_dn"), bind_password=text("bind_password", ""),
            group_base=text("group_base", user_base), group_filter=group_filter,
            group_member_attribute=text("group_member_attribute", "member"), group_member_value=member_value,
            group_name_attribute=text("group_name_attribute", "cn"),
            start_tls=_flag(text("start_tls", "false"), "start_tls"), ca_file=text("ca_file"),
            verify_certificates=_flag(text("verify_certificates", "true"), "verify_certificates"),
            connect_timeout=_seconds(text("connect_timeout", "5"), "connect_timeout"),
            timeout=_seconds(text("timeout", "10"), "timeout"),
            cache_seconds=None if cache is None else _seconds(cache, "cache_seconds", zero_allowed=True),
        )


def _server_url(url: str) -> str:
    """``ldap[s]://host[:port]``; a trailing "/" is allowed, a DN or query after it is not."""
    scheme, separator, rest = url.partition("://")
    host = rest.rstrip("/")
    if not separator or scheme.lower() not in ("ldap", "ldaps") or not host or "/" in host or "?" in host:
        raise LdapSettingsError(f"occistack.ldap.url: {url!r} is not a server URL like ldap://host:389 or "
                                "ldaps://host:636 (several are separated by spaces)")
    return f"{scheme.lower()}://{host}"


def _flag(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise LdapSettingsError(f"occistack.ldap.{name} must be true or false; got {value!r}")


def _seconds(value: str, name: str, zero_allowed: bool = False) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0 or (seconds == 0 and not zero_allowed) or seconds != seconds:
        raise LdapSettingsError(f"occistack.ldap.{name} must be a number of seconds, more than 0; got {value!r}")
    return seconds


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """An entry whose password was just proved, and the groups it belongs to."""

    dn: str
    #: the login name as the directory spells it (``user_name_attribute``).
    name: str
    #: each group's name and its DN.
    groups: tuple[str, ...]


class LdapDirectory:
    """Asks the directory, with a fresh connection per question: logins that miss the cache are
    rare (one per user and cache lifetime), and a connection kept open would be one more thing to
    find broken."""

    def __init__(self, settings: LdapSettings):
        self.settings = settings
        self._tls = None
        if settings.start_tls or any(url.lower().startswith("ldaps://") for url in settings.urls):
            self._tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if settings.verify_certificates else ssl.CERT_NONE,
                                  ca_certs_file=settings.ca_file)

    def describe(self) -> str:
        return " ".join(self.settings.urls)

    def authenticate(self, login: str, password: str) -> DirectoryUser | None:
        """The entry of ``login`` if ``password`` is its password; None otherwise. Raises
        IssuerUnavailable when the directory cannot be asked."""
        if not password or not login:
            return None  # an empty password binds anonymously, proving nothing
        settings = self.settings
        try:
            with self._connection(settings.bind_dn, settings.bind_password, site=True) as service:
                entry = self._find_user(service, login)
                if entry is None:
                    return None
                dn, name = entry
                if not self._password_proves(dn, password):
                    return None
                return DirectoryUser(dn, name, self._groups(service, dn, name))
        except LDAPException as error:
            log.warning("the LDAP directory %s could not be asked about %r: %s", self.describe(), login, error)
            trouble = "cannot be used right now" if isinstance(error, _DirectoryTrouble) and not \
                error.unreachable else "cannot be reached right now"
            raise IssuerUnavailable(f"the site's LDAP directory ({self.describe()}) {trouble} ({error}); directory "
                                    "users cannot sign in until it answers. Try again later, or tell the site's "
                                    "administrators") from None

    @contextmanager
    def _connection(self, user: str | None, password: str, site: bool = False) -> Iterator[ldap3.Connection]:
        connection = self._open(user, password)
        try:
            if self.settings.start_tls and not connection.start_tls():
                raise _DirectoryTrouble(f"StartTLS refused: {connection.result.get('description')}")
            if site and not connection.bind():
                # The site's own bind DN refused: a configuration fault, not the user's.
                raise _DirectoryTrouble(f"the directory refused occistack.ldap.bind_dn: "
                                        f"{connection.result.get('description')}")
            yield connection
        finally:
            try:
                connection.unbind()
            except LDAPException:
                pass  # a connection that broke is gone either way

    def _open(self, user: str | None, password: str) -> ldap3.Connection:
        """A connection to the first server, in the order of occistack.ldap.url, that answers."""
        failures = []
        for url in self.settings.urls:
            # A new Server each time: ldap3's remembers an address that failed once as unusable,
            # and would refuse a directory that came back.
            server = ldap3.Server(url, connect_timeout=self.settings.connect_timeout, tls=self._tls,
                                  get_info=ldap3.NONE)
            # receive_timeout in whole seconds: ldap3 packs it into a socket option as an integer.
            connection = ldap3.Connection(server, user=user, password=password if user else None,
                                          authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
                                          receive_timeout=max(1, math.ceil(self.settings.timeout)),
                                          raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE, read_only=True)
            try:
                connection.open()
                return connection
            except LDAPException as error:
                failures.append(f"{url}: {error}")
        raise _DirectoryTrouble("; ".join(failures), unreachable=True)

    def _find_user(self, service: ldap3.Connection, login: str) -> tuple[str, str] | None:
        settings = self.settings
        query = settings.user_filter.replace(LOGIN_PLACEHOLDER, escape_filter_chars(login))
        if not service.search(settings.user_base, query, ldap3.SUBTREE, attributes=[settings.user_name_attribute],
                              size_limit=2):
            self._check_search(service, "users")
            return None
        entries = service.entries
        if len(entries) != 1:
            log.warning("LDAP: %d entries match %s under %s; refusing %r", len(entries), query, settings.user_base,
                        login)
            return None
        entry = entries[0]
        values = entry.entry_attributes_as_dict.get(settings.user_name_attribute) or [login]
        return entry.entry_dn, str(values[0])

    def _password_proves(self, dn: str, password: str) -> bool:
        with self._connection(dn, password) as own:
            if own.bind():
                return True
            if own.result.get("result") != RESULT_INVALID_CREDENTIALS:
                log.info("LDAP refused the bind of %s: %s", dn, own.result.get("description"))
            return False

    def _groups(self, service: ldap3.Connection, dn: str, name: str) -> tuple[str, ...]:
        settings = self.settings
        member = dn if settings.group_member_value == "dn" else name
        query = f"(&{settings.group_filter}({settings.group_member_attribute}={escape_filter_chars(member)}))"
        if not service.search(settings.group_base, query, ldap3.SUBTREE, attributes=[settings.group_name_attribute]):
            self._check_search(service, "groups")
            return ()
        groups = []
        for entry in service.entries:
            groups.extend(str(value) for value in entry.entry_attributes_as_dict.get(settings.group_name_attribute, ()))
            groups.append(entry.entry_dn)
        return tuple(groups)

    @staticmethod
    def _check_search(connection: ldap3.Connection, what: str) -> None:
        """A search that found nothing answers success; anything else -- a base that does not
        exist (noSuchObject: the settings name the wrong one), an unreadable base, a timeout --
        is trouble with the directory, not the user's."""
        outcome = connection.result or {}
        if outcome.get("result") not in (0, 4):  # success, sizeLimitExceeded (the caller sees the entries)
            raise _DirectoryTrouble(f"searching {what} failed: {outcome.get('description')} "
                                    f"{outcome.get('message') or ''}".strip())


class _DirectoryTrouble(LDAPException):
    """No server answered (``unreachable``), or one answered, but not as a working directory
    would (the site's bind refused, a search base missing)."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


class DirectoryPasswordSource:
    """HTTP Basic credentials, checked by the directory for its users and by the local hash for
    every local user; the same interface as LocalPasswordSource, which it stands in for."""

    def __init__(self, local: LocalPasswordSource, directory: LdapDirectory,
                 admit: Callable[[DirectoryUser], Identity]):
        self.local = local
        self.cache = local.cache
        self.directory = directory
        self.admit = admit

    def cached(self, user_name: str, password: str) -> Identity | None:
        return self.local.cached(user_name, password)

    def identify(self, session: Callable[[], Session], user_name: str, password: str) -> Identity | None:
        identity = self.local.cached(user_name, password)
        if identity is not None:
            return identity
        known = session().execute(select(User.id, FederatedUser.method)
                                  .outerjoin(FederatedUser, FederatedUser.user_id == User.id)
                                  .where(User.name == user_name)).first()
        if known is not None and known.method != DIRECTORY_METHOD:
            # A local user by that name is never the directory's, even if the directory has one:
            # a directory entry must not take over a local account.
            return self.local.identify(session, user_name, password)
        found = self.directory.authenticate(user_name, password)
        if found is None:
            return None
        identity = self.admit(found)
        self.cache.put(self.cache.fingerprint(user_name, password), identity,
                       lifetime=self.directory.settings.cache_seconds)
        return identity
