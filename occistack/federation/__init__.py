"""Identity: who a request comes from. Local passwords; OIDC bearer tokens of trusted issuers,
X.509 certificates and VOMS proxies, mapped onto projects by rules; and Keystone tokens (of an
external Keystone, or of the built-in token service)."""

from .certificates import CertificateAuthenticator
from .errors import (
    AuthenticationFailed,
    CertificateRefused,
    CredentialRefused,
    IdentityNotMapped,
    IssuerUnavailable,
    KeystoneTokenRefused,
)
from .identity import FederatedIdentity, Identity, Membership
from .local import CredentialCache, LocalPasswordSource
from .mapping import Grant, MappingError, MappingRules
from .oidc import BearerTokenAuthenticator, TokenValidator
from .oidc_issuers import IssuerSettings, IssuerSettingsError, TrustedIssuer, issuers_from_settings
from .passwords import hash_password, verify_password
from .voms import VomsVerifier
from .x509 import ChainVerifier, TrustStore

__all__ = [
    "AuthenticationFailed", "BearerTokenAuthenticator", "CertificateAuthenticator", "CertificateRefused",
    "ChainVerifier", "TrustStore", "VomsVerifier", "CredentialCache", "CredentialRefused", "FederatedIdentity",
    "Grant", "Identity", "IdentityNotMapped", "IssuerSettings", "IssuerSettingsError", "IssuerUnavailable",
    "KeystoneTokenRefused", "LocalPasswordSource", "MappingError", "MappingRules", "Membership", "TokenValidator",
    "TrustedIssuer", "hash_password", "issuers_from_settings", "verify_password",
]
