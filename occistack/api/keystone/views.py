"""The views of the built-in token service (the list is in this package's docstring).

Refusals are Keystone's: 400 for a body it cannot read, 401 (with the ``Keystone uri='…'``
challenge) for a credential or token it does not accept and for a project the user holds no
role in, 403 for a valid federated credential no mapping rule gives a project, 404 for an
identity provider or protocol it does not serve, 503 when an issuer cannot be asked. Each
message says what was wrong and what is accepted.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any, Callable

import orjson
from pyramid.interfaces import ISecurityPolicy
from pyramid.response import Response

from occistack.federation import (
    AuthenticationFailed,
    Identity,
    IdentityNotMapped,
    IssuerUnavailable,
    KeystoneTokenRefused,
)
from occistack.federation.keystone import FEDERATION_PROTOCOLS
from occistack.federation.keystone_tokens import TokenContent, TokenService, user_name
from occistack.federation.projects import ProjectRole, project_roles
from occistack.plane.admin.cases import users
from occistack.plane.admin.cases.users import NewPassword
from occistack.plane.context import PlaneContext
from occistack.plane.errors import InvalidRequest, NotFound, NotPermitted, Unavailable
from occistack.api.orchestration import plane_services
from occistack.api.errors import HTTPRefusal
from occistack.api.security import keystone_challenge, keystone_token, keystone_url
from occistack.api.errors import not_allowed
from occistack.api.settings import base_url
from occistack.api.keystone import documents
from occistack.api.keystone.context import JSON, KEYSTONE

#: The v3 methods that mean "the federated credential this request carries".
FEDERATED_METHODS = ("mapped", "openid", "oidc")


# --- versions --------------------------------------------------------------------------------------------

def versions(request) -> Response:
    return _json(documents.versions(keystone_url(request)), status=300)


def version_v3(request) -> Response:
    return _json(documents.version_v3(keystone_url(request)))


def version_v2(request) -> Response:
    return _json(documents.version_v2(keystone_url(request)))


# --- v3 --------------------------------------------------------------------------------------------------

def federation_auth(request) -> Response:
    provider, protocol = request.matchdict["identity_provider"], request.matchdict["protocol"]
    accepted = request.registry["occistack.keystone"].identity_providers
    if provider not in accepted:
        raise NotFound(f"no identity provider {provider!r} here; this service answers for: {', '.join(accepted)}")
    if protocol not in FEDERATION_PROTOCOLS:
        raise NotFound(f"no protocol {protocol!r} for {provider}; the protocols are mapped (X.509/VOMS proxies) "
                       "and oidc or openid (OIDC access tokens)")
    caller = federated_caller(request)
    token, content = _tokens(request).issue(caller.user_id, None, (protocol,))
    document = documents.token_v3(content, caller.user_name, None, root=keystone_url(request),
                                  occi_url=base_url(request), federation=(provider, protocol))
    return _json(document, status=201, headers={"X-Subject-Token": token})


def issue_v3(request) -> Response:
    auth = _auth_object(request, '{"auth": {"identity": {"methods": ["token"], "token": {"id": "<token>"}}, '
                                 '"scope": {"project": {"id": "<project id>"}}}}')
    identity = auth.get("identity")
    methods = identity.get("methods") if isinstance(identity, dict) else None
    if not isinstance(methods, list) or not methods or not all(isinstance(method, str) for method in methods):
        raise InvalidRequest('auth.identity.methods must list how you authenticate: ["token"] with '
                             'auth.identity.token.id, or ["mapped"], ["openid"] or ["oidc"] with a federated credential '
                             "on the request")
    federated = [method for method in methods if method in FEDERATED_METHODS]
    if "token" in methods:
        token = identity.get("token")
        source = _read(request, token.get("id") if isinstance(token, dict) else None, "auth.identity.token.id")
        user_id, expires_at, audit_id, used = source.user_id, source.expires_at, source.audit_id, ("token",)
    elif federated:
        user_id, expires_at, audit_id, used = federated_caller(request).user_id, None, None, (federated[0],)
    else:
        raise unauthorized(request, f"this service does not authenticate by {', '.join(map(repr, methods))}; it "
                                    f"accepts the methods token and {', '.join(FEDERATED_METHODS)}")
    project = _project_scope(request, user_id, auth.get("scope"))
    token, content = _tokens(request).issue(user_id, project.project_id if project else None, used,
                                            expires_at=expires_at, audit_id=audit_id)
    document = documents.token_v3(content, _user_name(request, user_id), project, root=keystone_url(request),
                                  occi_url=base_url(request), catalog="nocatalog" not in request.GET)
    return _json(document, status=201, headers={"X-Subject-Token": token})


def change_password_v3(request) -> Response:
    """A local user changes their own password, proving the one they have (Keystone's
    ``POST /v3/users/{user_id}/password``, which ``openstack user password set`` sends); 204.
    The new one is held to the site's shortest, as an administrator's reset is."""
    user = _body_object(request, "user", '{"user": {"original_password": "<the password now>", '
                                         '"password": "<the new one>"}}')
    original, new = user.get("original_password"), user.get("password")
    if not isinstance(original, str) or not isinstance(new, str):
        raise InvalidRequest("user.original_password and user.password must both be text: the password the user "
                             "has now, and the new one")
    user_id = request.matchdict["user_id"]  # digits (the route says so)
    name = user_name(request.dbsession, int(user_id)) if len(user_id) <= 18 else None
    passwords = request.registry["occistack.local_passwords"]
    # An unknown id costs a password check too (against no user), so ids cannot be probed by timing.
    proved = passwords.identify(lambda: request.dbsession, name or "", original)
    if proved is None or str(proved.user_id) != user_id:
        # One answer for a wrong password, an unknown user and a disabled one: nothing to probe.
        raise unauthorized(request, "user.original_password is not the password of that user (or the user does not "
                                    "exist, is disabled or has no local password)")
    context = PlaneContext(request.dbsession, None, plane_services(request.registry), operator=f"user:{name}")
    # Remembered credentials of the user's (the old password among them) are forgotten at commit.
    users.set_user_password(context, proved.user_id, NewPassword(new))
    return Response(status=204)


def projects_v3(request) -> Response:
    content = _request_token(request)
    _user_name(request, content.user_id)
    return _json(documents.projects_v3(project_roles(request.dbsession, content.user_id), keystone_url(request)))


def _project_scope(request, user_id: int, scope: Any) -> ProjectRole | None:
    if scope is None or scope == "unscoped":
        return None
    project = scope.get("project") if isinstance(scope, dict) else None
    if not isinstance(project, dict):
        raise InvalidRequest('this service scopes tokens to projects only: give "scope": {"project": {"id": "<id>"}} or '
                             '{"project": {"name": "<name>", "domain": {"id": "default"}}}, or no scope')
    domain = project.get("domain")
    if isinstance(domain, dict):
        # Only text names a domain; any other JSON value (a list is not even hashable) names none.
        named = [value for value in (domain.get("id"), domain.get("name")) if isinstance(value, str)]
        if not set(named) & set(documents.DOMAIN.values()):
            raise unauthorized(request, f"no domain {(named or [None])[0]!r} here; the projects of this site are all "
                                        "in the domain default (Default)")
    if isinstance(project.get("id"), str):
        return _held(request, user_id, lambda held: str(held.project_id) == project["id"], f"id {project['id']!r}")
    if isinstance(project.get("name"), str):
        return _held(request, user_id, lambda held: held.project_name == project["name"], repr(project["name"]))
    raise InvalidRequest("scope.project must give the project's id or name (text)")


# --- v2.0 ------------------------------------------------------------------------------------------------

def issue_v2(request) -> Response:
    auth = _auth_object(request, '{"auth": {"voms": true, "tenantName": "<project>"}}')
    if auth.get("voms") is True:
        user_id, expires_at, audit_id, used = federated_caller(request).user_id, None, None, ("mapped",)
    elif "token" in auth:
        token = auth["token"]
        source = _read(request, token.get("id") if isinstance(token, dict) else None, "auth.token.id")
        user_id, expires_at, audit_id, used = source.user_id, source.expires_at, source.audit_id, ("token",)
    elif "passwordCredentials" in auth:
        raise unauthorized(request, "this service does not take passwords; authenticate with voms: true and a "
                                    "federated credential on the request, or with a token")
    else:
        raise InvalidRequest('auth must hold "voms": true (the request\'s VOMS proxy or other federated credential) or '
                             '"token": {"id": "<token>"}, with "tenantName" or "tenantId" for a scoped token')
    project = None
    if isinstance(auth.get("tenantId"), str):
        project = _held(request, user_id, lambda held: str(held.project_id) == auth["tenantId"],
                        f"id {auth['tenantId']!r}")
    elif isinstance(auth.get("tenantName"), str):
        project = _held(request, user_id, lambda held: held.project_name == auth["tenantName"],
                        repr(auth["tenantName"]))
    token, content = _tokens(request).issue(user_id, project.project_id if project else None, used,
                                            expires_at=expires_at, audit_id=audit_id)
    return _json(documents.access_v2(token, content, _user_name(request, user_id), project,
                                     root=keystone_url(request), occi_url=base_url(request)))


def tenants_v2(request) -> Response:
    content = _request_token(request)
    _user_name(request, content.user_id)
    return _json(documents.tenants_v2(project_roles(request.dbsession, content.user_id)))


def unknown(request) -> Response:
    raise NotFound(f"nothing at {request.path}; this Keystone-compatible service answers GET /keystone, "
                   "/keystone/v3/OS-FEDERATION/identity_providers/<idp>/protocols/<protocol>/auth, "
                   "GET /keystone/v3/auth/projects, POST /keystone/v3/auth/tokens, POST /keystone/v2.0/tokens "
                   "and GET /keystone/v2.0/tenants")


# --- who is asking ----------------------------------------------------------------------------------------

def federated_caller(request) -> Identity:
    """The local identity of the request's federated credential, as the security policy's
    federated sources establish it (OIDC today; X.509/VOMS once that source is in the policy)."""
    policy = request.registry.getUtility(ISecurityPolicy)
    try:
        identity = policy.federated_identity(request)
    except IdentityNotMapped as refusal:
        raise NotPermitted(refusal.message) from None
    except IssuerUnavailable as refusal:
        raise Unavailable(refusal.message, retry_after_seconds=10) from None
    except AuthenticationFailed as refusal:
        raise unauthorized(request, refusal.message) from None
    if identity is None:
        issuers = request.registry["occistack.oidc_issuers"]
        oidc = f"an OIDC access token of {', '.join(issuers)} as 'Authorization: Bearer <token>', or " if issuers else ""
        raise unauthorized(request, f"this exchanges a federated credential for a token, and the request carries "
                                    f"none: send {oidc}an X.509/VOMS proxy as the TLS client certificate where this "
                                    "site accepts them")
    return identity


def unauthorized(request, message: str) -> HTTPRefusal:
    return HTTPRefusal(message, status=401, headers={"WWW-Authenticate": keystone_challenge(keystone_url(request))})


def _request_token(request) -> TokenContent:
    """What the request's X-Auth-Token says: a token of this service, scoped or not."""
    try:
        token = keystone_token(request)
    except KeystoneTokenRefused as refusal:
        raise unauthorized(request, refusal.message) from None
    return _read(request, token, "X-Auth-Token")


def _read(request, token: Any, where: str) -> TokenContent:
    if not isinstance(token, str) or not token.strip():
        raise unauthorized(request, f"{where} must carry a token of this service (the X-Subject-Token of an "
                                    "earlier answer)")
    try:
        return _tokens(request).read(token.strip())
    except KeystoneTokenRefused as refusal:
        raise unauthorized(request, refusal.message) from None


def _held(request, user_id: int, matches: Callable[[ProjectRole], bool], described: str) -> ProjectRole:
    held = project_roles(request.dbsession, user_id)
    for project in held:
        if matches(project):
            return project
    names = ", ".join(f"{project.project_name} (id {project.project_id})" for project in held) or "none"
    raise unauthorized(request, f"the user holds no role in the project {described} (or there is no such project); "
                                f"it holds roles in: {names}")


def _user_name(request, user_id: int) -> str:
    name = user_name(request.dbsession, user_id)
    if name is None:
        raise unauthorized(request, "the token's user no longer exists or is disabled at this site")
    return name


def _auth_object(request, example: str) -> dict[str, Any]:
    return _body_object(request, "auth", example)


def _body_object(request, member: str, example: str) -> dict[str, Any]:
    """The body's ``member`` object (Keystone wraps each request so: "auth", "user")."""
    try:
        document = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(f"the body is not JSON; send a JSON object such as {example}") from None
    except RecursionError:
        raise InvalidRequest(f"the body's JSON nests too deeply; send a JSON object such as {example}") from None
    found = document.get(member) if isinstance(document, dict) else None
    if not isinstance(found, dict):
        raise InvalidRequest(f'the body must be a JSON object with an "{member}" object, such as {example}')
    return found


def _tokens(request) -> TokenService:
    return request.registry["occistack.keystone_tokens"]


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(body=orjson.dumps(document), status=status, content_type=JSON, charset=None)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def includeme(config) -> None:
    if config.registry["occistack.keystone"].mode != "builtin":
        return  # neither are the routes added
    view = partial(config.add_view, permission=KEYSTONE)
    served = (
        ("keystone_versions", versions, ("GET",)),
        ("keystone_v3", version_v3, ("GET",)),
        ("keystone_v2", version_v2, ("GET",)),
        ("keystone_v3_federation_auth", federation_auth, ("GET", "POST")),
        ("keystone_v3_tokens", issue_v3, ("POST",)),
        ("keystone_v3_projects", projects_v3, ("GET",)),
        ("keystone_v3_user_password", change_password_v3, ("POST",)),
        ("keystone_v2_tokens", issue_v2, ("POST",)),
        ("keystone_v2_tenants", tenants_v2, ("GET",)),
    )
    for route, handler, methods in served:
        view(handler, route_name=route, request_method=methods)
        view(_refusing_all_but(methods), route_name=route)
    view(unknown, route_name="keystone_unknown")


def _refusing_all_but(methods: tuple[str, ...]) -> Callable:
    allowed = ("HEAD", *methods) if "GET" in methods else methods

    def other_method(request):
        return not_allowed(request, allowed)

    return other_method
