"""Authentication and authorization: a Pyramid 2 security policy composed of identity sources.

Each authentication method is one small source that recognises its own credentials or passes;
the policy asks them in order and the first identity wins (the shape of warehouse's
MultiSecurityPolicy): Keystone tokens (``X-Auth-Token``, of an external Keystone or of the
built-in token service), HTTP Basic against local users, OIDC bearer tokens of the trusted
issuers, and X.509 client certificates and VOMS proxies (asked last: a client that sends an
Authorization header means it, while a certificate may be presented to every site).

A Keystone token comes first: a client that went through the Keystone dance to get one means
to use it, even when it also sends the credential it got it with (IM sends its OIDC token on
every request).

The 401 answer to a request without credentials challenges with exactly
``WWW-Authenticate: Keystone uri='<url>'`` when the site has a Keystone (external, or the
built-in service): rOCCI, VMDIRAC and IM read the URL from it and fetch a token there, and
VMDIRAC slices the header by position, so it is the only challenge. A site without one
challenges with HTTP Basic (and Bearer when it trusts OIDC issuers), which curl and browsers
understand; Basic clients send their credentials unasked either way.

A source that recognises its credentials but cannot accept them raises one of the federation's
``AuthenticationFailed`` errors. The policy keeps it for the forbidden view, which answers with
its reason: 401 for a refused credential, 403 for a valid one no mapping rule accepts, 503 for
an issuer that cannot be asked. Views open to everyone (the host agents' channel) never see it.

Authorization is by ACL on the route contexts; which entities a user may see is decided by the
queries, which are always scoped to the caller's project (another project's entity is a 404).
"""

from __future__ import annotations

import base64
import binascii
from contextlib import ExitStack

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.exceptions import ConfigurationError

from occistack.federation import (
    AuthenticationFailed,
    BearerTokenAuthenticator,
    CertificateAuthenticator,
    CertificateRefused,
    CredentialCache,
    CredentialRefused,
    Identity,
    IdentityNotMapped,
    IssuerSettingsError,
    IssuerUnavailable,
    KeystoneTokenRefused,
    LocalPasswordSource,
    MappingError,
    MappingRules,
    TokenValidator,
    TrustedIssuer,
    issuers_from_settings,
)
from occistack.federation.keystone import (
    ExternalKeystone,
    ExternalTokenAuthenticator,
    KeystoneSettings,
    KeystoneSettingsError,
    keystone_settings,
)
from occistack.federation.errors import ProjectNotHeld
from occistack.federation.keystone_tokens import BuiltinTokenAuthenticator, TokenService, derive_token_key
from occistack.federation.projects import in_project, project_name
from occistack.model.session import read_only_session
from occistack.plane import Caller
from occistack.plane.limits import SiteLimits
from occistack.plane.sealing import site_secret_key
from occistack.api.client_certificates import CertificateSettings, certificate_authenticator, presented_certificate
from occistack.api.mounts import BUILTIN_KEYSTONE_PATH
from occistack.api.orchestration import server_plane
from occistack.api.settings import get_settings


class BasicAuthSource:
    """``Authorization: Basic`` against local users and their argon2 password hashes."""

    #: A local password is no outside authority's word: it buys no Keystone token by federation.
    federated = False

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


class BearerTokenSource:
    """``Authorization: Bearer <token>``: an OIDC access token of a trusted issuer."""

    federated = True

    def __init__(self, authenticator: BearerTokenAuthenticator):
        self.authenticator = authenticator

    def identify(self, request) -> Identity | None:
        token = self._token(request)
        if token is None:
            return None
        return self.authenticator.identify(token, request.registry["occistack.engine"])

    def identify_cached(self, request) -> Identity | None:
        token = self._token(request)
        return None if token is None else self.authenticator.cached(token)

    @staticmethod
    def _token(request) -> str | None:
        header = request.environ.get("HTTP_AUTHORIZATION")
        if not header or not header[:7].lower() == "bearer ":
            return None
        token = header[7:].strip()
        if not token:
            raise CredentialRefused("the Authorization header says Bearer but carries no token")
        return token


class ClientCertificateSource:
    """A client certificate or (VOMS) proxy, from gunicorn's TLS or a trusted TLS terminator."""

    def __init__(self, authenticator: CertificateAuthenticator, settings: CertificateSettings):
        self.authenticator = authenticator
        self.settings = settings

    def identify(self, request) -> Identity | None:
        presented = presented_certificate(request.environ, self.settings)
        if presented is None:
            return None
        engine = request.registry["occistack.engine"]
        if presented.chain:
            return self.authenticator.identify(presented.chain, engine)
        return self.authenticator.identify_dn(presented.dn, presented.issuer_dn, engine)

    def identify_cached(self, request) -> Identity | None:
        presented = presented_certificate(request.environ, self.settings)
        if presented is None or not presented.chain:
            return None
        return self.authenticator.cached(presented.chain)


class KeystoneTokenSource:
    """``X-Auth-Token: <token>``: a project-scoped token of the site's Keystone, external or
    built-in; ``authenticator`` is None when the site has no Keystone (every token refused,
    saying so)."""

    federated = False

    def __init__(self, authenticator: BuiltinTokenAuthenticator | ExternalTokenAuthenticator | None):
        self.authenticator = authenticator

    def identify(self, request) -> Identity | None:
        token = keystone_token(request)
        if token is None:
            return None
        if self.authenticator is None:
            raise KeystoneTokenRefused("this site has no Keystone, so it takes no X-Auth-Token; authenticate "
                                       "with HTTP Basic credentials or as the answer's challenge says")
        return self.authenticator.identify(token, request.registry["occistack.engine"])

    def identify_cached(self, request) -> Identity | None:
        try:
            token = keystone_token(request)
        except KeystoneTokenRefused:
            return None
        if token is None or self.authenticator is None:
            return None
        return self.authenticator.cached(token)


def keystone_token(request) -> str | None:
    """The token of the request's ``X-Auth-Token`` header, or None without one."""
    value = request.environ.get("HTTP_X_AUTH_TOKEN")
    if value is None:
        return None
    token = value.strip()
    if not token:
        raise KeystoneTokenRefused("the X-Auth-Token header is empty; send the token Keystone gave in "
                                   "X-Subject-Token")
    return token


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
        try:
            for source in self.sources:
                identity = source.identify(request)
                if identity is not None:
                    break
            if identity is not None and PROJECT_HEADER in request.environ:
                identity = self._in_named_project(request, identity, request.environ[PROJECT_HEADER])
        except AuthenticationFailed as failure:
            identity = None
            request.environ[AUTHENTICATION_FAILURE] = failure
        request.environ["occistack.identity"] = identity
        return identity

    @staticmethod
    def _in_named_project(request, identity: Identity, wanted: str) -> Identity:
        """The request names the project it works in (federation/projects.py). A Keystone
        token works in its scope only; the other credentials in any project their user holds
        a role in (read on every such request: a membership taken away counts at once)."""
        if identity.method == "keystone":
            if wanted.strip() in (str(identity.project_id), project_name(request.dbsession, identity.project_id)):
                return identity
            raise ProjectNotHeld(f"the token is scoped to project {identity.project_id}, and a token works in its "
                                 f"scope only; get a token scoped to {wanted.strip()!r}, or send no {PROJECT_HEADER_NAME}")
        return in_project(request.dbsession, identity, wanted)

    def federated_identity(self, request) -> Identity | None:
        """The identity an outside authority vouches for -- an OIDC access token, an X.509/VOMS
        proxy -- ignoring local passwords and Keystone tokens: what the built-in token service
        exchanges for a token. A source says it is not federated with ``federated = False``.
        A credential that is not accepted raises its AuthenticationFailed."""
        for source in self.sources:
            if getattr(source, "federated", True):
                identity = source.identify(request)
                if identity is not None:
                    return identity
        return None

    def cached_identity(self, request) -> Identity | None:
        """The identity when a source knows it without I/O (a recently verified password), for
        fast paths that run outside the request's transaction; None means "ask ``identity``"."""
        cached = request.environ.get("occistack.identity", _UNSET)
        if cached is not _UNSET:
            return cached
        if PROJECT_HEADER in request.environ:
            return None  # the project named is checked against the database
        for source in self.sources:
            try:
                identity = source.identify_cached(request)
            except AuthenticationFailed:
                return None  # the full check will say why
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
#: Names the project a request works in, by name or id, for credentials that carry none (a
#: password, an OIDC token, a certificate); without it, the user's home project. The header
#: python-novaclient sent for the same purpose.
PROJECT_HEADER_NAME = "X-Auth-Project-Id"
PROJECT_HEADER = "HTTP_X_AUTH_PROJECT_ID"
#: Where the policy keeps why a request's credentials were not accepted, for the forbidden view.
AUTHENTICATION_FAILURE = "occistack.authentication_failure"


def authentication_refusal(request) -> tuple[int, str, list[tuple[str, str]]]:
    """The answer to a request without an accepted identity: its status, its message and its
    headers (the challenges of the methods this site accepts)."""
    failure = request.environ.get(AUTHENTICATION_FAILURE)
    issuers = request.registry["occistack.oidc_issuers"]
    keystone = keystone_url(request)
    if keystone is not None:
        challenges = [("WWW-Authenticate", keystone_challenge(keystone))]
    else:
        challenges = [("WWW-Authenticate", 'Basic realm="occistack"')]
        if issuers:
            challenges.append(("WWW-Authenticate", 'Bearer realm="occistack"'))
    if isinstance(failure, (IdentityNotMapped, ProjectNotHeld)):
        return 403, failure.message, []
    if isinstance(failure, IssuerUnavailable):
        return 503, failure.message, [("Retry-After", "10")]
    if isinstance(failure, (CertificateRefused, KeystoneTokenRefused)):
        return 401, failure.message, challenges
    if isinstance(failure, CredentialRefused):
        # RFC 6750 §3: say that the token is invalid, and why, in the challenge as well.
        description = failure.message.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "/")
        bearer = f'Bearer realm="occistack", error="invalid_token", error_description="{description}"'
        return 401, failure.message, [("WWW-Authenticate", bearer)] + challenges[:1]
    if request.environ.get("HTTP_AUTHORIZATION", "")[:6].lower() == "basic ":
        message = "the user name or password is wrong (or the user is disabled)"
    elif keystone is not None:
        message = (f"authentication required: send a project-scoped token of the Keystone at {keystone} as "
                   "X-Auth-Token, or HTTP Basic credentials")
    else:
        message = "authentication required: send HTTP Basic credentials"
    if issuers:
        message += (", or an OIDC access token as 'Authorization: Bearer <token>' from one of: "
                    + ", ".join(issuers))
    if request.registry.get("occistack.x509") is not None:
        message += ", or a client certificate or (VOMS) proxy over TLS"
    return 401, message, challenges


def keystone_url(request) -> str | None:
    """The URL of the site's Keystone -- external, or the built-in service below this server --
    or None when it has none."""
    keystone: KeystoneSettings = request.registry["occistack.keystone"]
    if keystone.mode == "off":
        return None
    if keystone.public_url:
        return keystone.public_url
    if keystone.mode == "external":
        return keystone.url
    return (get_settings(request.registry).public_url or request.application_url) + BUILTIN_KEYSTONE_PATH


def keystone_challenge(url: str) -> str:
    # Single quotes, nothing after: VMDIRAC reads the URL as header[14:-1], rOCCI by a regular
    # expression anchored at both ends, IM by splitting at "=".
    return f"Keystone uri='{url}'"


def caller(request) -> Caller:
    """The authenticated caller; views reach it only behind a permission, so it exists."""
    identity = request.identity
    return Caller(identity.user_id, identity.user_name, identity.project_id)


def bearer_token_authenticator(ini: dict, cache: CredentialCache) -> BearerTokenAuthenticator:
    """The OIDC issuers and mapping rules of the ini settings (none configured: every bearer
    token is refused, saying so)."""
    try:
        issuers = issuers_from_settings(ini)
    except IssuerSettingsError as error:
        raise ConfigurationError(str(error)) from None
    rules_file = (ini.get("occistack.mapping_file") or "").strip()
    if issuers and not rules_file:
        raise ConfigurationError("occistack.oidc.issuers is set but occistack.mapping_file is not: without mapping "
                                 "rules no federated user can be given a project")
    try:
        rules = MappingRules.from_file(rules_file) if rules_file else MappingRules(())
    except MappingError as error:
        raise ConfigurationError(str(error)) from None
    rules = rules.with_project_quotas(SiteLimits.from_ini(ini).default_quotas)
    return BearerTokenAuthenticator(TokenValidator(TrustedIssuer(issuer) for issuer in issuers), rules, cache)


def keystone_token_authenticator(ini: dict, keystone: KeystoneSettings, rules: MappingRules,
                                 cache: CredentialCache):
    """What reads X-Auth-Token: the external Keystone, the built-in service's tokens, or None."""
    if keystone.mode == "external":
        if not (ini.get("occistack.mapping_file") or "").strip():
            raise ConfigurationError("occistack.keystone.url is set but occistack.mapping_file is not: without "
                                     "mapping rules no Keystone user can be given a project here")
        return ExternalTokenAuthenticator(ExternalKeystone(keystone), rules, cache)
    if keystone.mode == "builtin":
        return BuiltinTokenAuthenticator(builtin_token_service(ini, keystone), cache)
    return None


def builtin_token_service(ini: dict, keystone: KeystoneSettings) -> TokenService:
    return TokenService(derive_token_key(site_secret_key(ini)), keystone.token_lifetime_seconds)


def includeme(config) -> None:
    settings = get_settings(config.registry)
    ini = config.get_settings()
    cache = CredentialCache(ttl=settings.auth_cache_seconds)
    config.registry["occistack.credential_cache"] = cache
    # A user disabled, removed or given a new password or role -- by this process, another
    # server process or the command line -- is forgotten when that change commits.
    server_plane(config.registry).revocations.subscribe(cache.forget_revoked)
    bearer = bearer_token_authenticator(ini, cache)
    config.registry["occistack.oidc_issuers"] = [issuer.settings.issuer for issuer in bearer.validator.issuers]
    passwords = LocalPasswordSource(cache)
    # Also the token service's, which checks a user's password before they change it.
    config.registry["occistack.local_passwords"] = passwords
    sources = [BasicAuthSource(passwords), BearerTokenSource(bearer)]
    certificates = certificate_authenticator(ini, cache)
    config.registry["occistack.x509"] = certificates
    config.registry["occistack.x509_settings"] = CertificateSettings.from_ini(ini)
    if certificates is not None:
        sources.append(ClientCertificateSource(certificates, config.registry["occistack.x509_settings"]))
    # Federated: the OIDC source when it trusts an issuer; any other federated source (X.509/VOMS,
    # present only when configured) by being in the list at all.
    federated = bool(bearer.validator.issuers) or any(
        getattr(source, "federated", True) for source in sources if not isinstance(source, BearerTokenSource))
    try:
        keystone = keystone_settings(ini, federated_credentials=federated)
    except KeystoneSettingsError as error:
        raise ConfigurationError(str(error)) from None
    config.registry["occistack.keystone"] = keystone
    tokens = keystone_token_authenticator(ini, keystone, bearer.rules, cache)
    # The built-in service's views issue and read tokens with the same service.
    config.registry["occistack.keystone_tokens"] = getattr(tokens, "tokens", None)
    config.set_security_policy(OCCISecurityPolicy([KeystoneTokenSource(tokens), *sources]))
    config.add_request_method(caller, "caller", reify=True)
