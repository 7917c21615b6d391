"""Identity: who a request comes from. Local passwords here; X.509/VOMS proxies, OIDC tokens and
Keystone tokens join in issue 6, each as one more identity source beside these."""

from .errors import AuthenticationFailed, CredentialRefused, IdentityNotMapped, IssuerUnavailable
from .identity import FederatedIdentity, Identity, Membership
from .local import CredentialCache, LocalPasswordSource
from .mapping import Grant, MappingError, MappingRules
from .passwords import hash_password, verify_password

__all__ = [
    "AuthenticationFailed", "CredentialCache", "CredentialRefused", "FederatedIdentity", "Grant", "Identity",
    "IdentityNotMapped", "IssuerUnavailable", "LocalPasswordSource", "MappingError", "MappingRules", "Membership",
    "hash_password", "verify_password",
]
