"""Why a credential did not make an identity, in words a user can act on.

The security policy turns each into an answer: a refused credential is 401, a valid one that
no mapping rule accepts, or that names a project its owner holds no role in, is 403, an issuer that cannot be asked right now is 503.
"""

from __future__ import annotations


class AuthenticationFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CredentialRefused(AuthenticationFailed):
    """The credential proves nothing: malformed, forged, expired, for another audience, from an
    issuer this site does not trust."""


class IdentityNotMapped(AuthenticationFailed):
    """The credential is valid, but no mapping rule gives its owner a project here."""


class ProjectNotHeld(AuthenticationFailed):
    """The credential is valid, but the request names a project its owner holds no role in."""


class IssuerUnavailable(AuthenticationFailed):
    """The issuer's keys or introspection endpoint could not be reached: not the user's fault."""


class CertificateRefused(CredentialRefused):
    """A client certificate (or proxy) that proves nothing here: untrusted, expired, revoked,
    or carrying VOMS attributes that do not verify. Answered 401 like any refused credential,
    but with no bearer-token challenge: the client has nothing to fix in a token."""


class KeystoneTokenRefused(CredentialRefused):
    """An ``X-Auth-Token`` that opens nothing here: garbage, altered, expired, revoked, unscoped,
    or of a user who lost the project. Answered with the Keystone challenge, so that clients
    fetch a new token."""
