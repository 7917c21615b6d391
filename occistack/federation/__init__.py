"""Identity: who a request comes from. Local passwords, and OIDC bearer tokens of trusted issuers
mapped onto projects by rules, X.509 certificates and VOMS proxies; Keystone tokens join later,
as one more identity source beside these."""

from .certificates import CertificateAuthenticator
from .errors import AuthenticationFailed, CertificateRefused, CredentialRefused, IdentityNotMapped, IssuerUnavailable
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
    "LocalPasswordSource", "MappingError", "MappingRules", "Membership", "TokenValidator", "TrustedIssuer",
    "hash_password", "issuers_from_settings", "verify_password",
]
