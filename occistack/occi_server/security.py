"""Authentication and authorization: a Pyramid 2 security policy composed of identity sources.

Each authentication method is one small source that either recognises the request's
credentials or passes; the policy asks them in order and the first identity wins (the shape of
warehouse's MultiSecurityPolicy). This issue has HTTP Basic against local users; issue 6 adds
X.509/VOMS, OIDC and Keystone sources to the list, nothing else changes.

Authorization is by ACL on the route contexts; which entities a user may see is decided by the
queries, which are always scoped to the caller's project (another project's entity is a 404).
"""

from __future__ import annotations

import base64
import binascii
from contextlib import ExitStack

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from ..federation import CredentialCache, Identity, LocalPasswordSource
from ..model.session import read_only_session
from ..orchestrator import Caller
from .settings import get_settings


class BasicAuthSource:
    """``Authorization: Basic`` against local users and their argon2 password hashes."""

    def __init__(self, passwords: LocalPasswordSource):
        self.passwords = passwords

    def identify(self, request) -> Identity | None:
        credentials = self._credentials(request)
        if credentials is None:
            return None
        # Not the request's session: on SQLite that would queue for the one writer and hold
        # it through the deliberately slow password hash.
        with ExitStack() as opened:
            def session():
                return opened.enter_context(read_only_session(request.registry["occistack.engine"]))
            return self.passwords.identify(session, *credentials)

    def identify_cached(self, request) -> Identity | None:
        """The identity if these credentials were verified recently, else None; no I/O."""
        credentials = self._credentials(request)
        return None if credentials is None else self.passwords.cached(*credentials)

    @staticmethod
    def _credentials(request) -> tuple[str, str] | None:
        header = request.environ.get("HTTP_AUTHORIZATION")
        if not header or not header[:6].lower() == "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            # ValueError: b64decode refuses non-ASCII text outright (a mangled header).
            return None
        user_name, separator, password = decoded.partition(":")
        if not separator or not user_name or "\x00" in user_name:
            # No user has a NUL in their name, and PostgreSQL cannot even be asked for one.
            return None
        return user_name, password


class OCCISecurityPolicy:
    def __init__(self, sources):
        self.sources = tuple(sources)
        self.acl = ACLHelper()

    def identity(self, request) -> Identity | None:
        # Computed once per request; sources may cost a database query or a hash.
        cached = request.environ.get("occistack.identity", _UNSET)
        if cached is not _UNSET:
            return cached
        identity = None
        for source in self.sources:
            identity = source.identify(request)
            if identity is not None:
                break
        request.environ["occistack.identity"] = identity
        return identity

    def cached_identity(self, request) -> Identity | None:
        """The identity when a source knows it without I/O (a recently verified password), for
        fast paths that run outside the request's transaction; None means "ask ``identity``"."""
        cached = request.environ.get("occistack.identity", _UNSET)
        if cached is not _UNSET:
            return cached
        for source in self.sources:
            identity = source.identify_cached(request)
            if identity is not None:
                request.environ["occistack.identity"] = identity
                return identity
        return None

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return None if identity is None else identity.user_id

    def permits(self, request, context, permission):
        return self.acl.permits(context, self.principals(request), permission)

    def principals(self, request) -> list[str]:
        identity = self.identity(request)
        if identity is None:
            return [Everyone]
        return [Everyone, Authenticated, f"user:{identity.user_id}", f"project:{identity.project_id}",
                f"role:{identity.role}"]

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


_UNSET = object()


def caller(request) -> Caller:
    """The authenticated caller; views reach it only behind a permission, so it exists."""
    identity = request.identity
    return Caller(identity.user_id, identity.user_name, identity.project_id)


def includeme(config) -> None:
    settings = get_settings(config.registry)
    cache = CredentialCache(ttl=settings.auth_cache_seconds)
    config.registry["occistack.credential_cache"] = cache
    config.set_security_policy(OCCISecurityPolicy([BasicAuthSource(LocalPasswordSource(cache))]))
    config.add_request_method(caller, "caller", reify=True)
