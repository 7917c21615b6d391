"""Identity: who a request comes from. Local passwords, and OIDC bearer tokens of trusted issuers
mapped onto projects by rules; X.509/VOMS proxies and Keystone tokens join later, each as one
more identity source beside these."""

from .errors import AuthenticationFailed, CredentialRefused, IdentityNotMapped, IssuerUnavailable
from .identity import FederatedIdentity, Identity, Membership
from .local import CredentialCache, LocalPasswordSource
from .mapping import Grant, MappingError, MappingRules
from .oidc import BearerTokenAuthenticator, TokenValidator
from .oidc_issuers import IssuerSettings, IssuerSettingsError, TrustedIssuer, issuers_from_settings
from .passwords import hash_password, verify_password

__all__ = [
    "AuthenticationFailed", "BearerTokenAuthenticator", "CredentialCache", "CredentialRefused", "FederatedIdentity",
    "Grant", "Identity", "IdentityNotMapped", "IssuerSettings", "IssuerSettingsError", "IssuerUnavailable",
    "LocalPasswordSource", "MappingError", "MappingRules", "Membership", "TokenValidator", "TrustedIssuer",
    "hash_password", "issuers_from_settings", "verify_password",
]
