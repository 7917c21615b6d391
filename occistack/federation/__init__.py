"""Identity: who a request comes from. Local passwords; OIDC bearer tokens of trusted issuers,
X.509 certificates and VOMS proxies, mapped onto projects by rules; Keystone tokens (of an
external Keystone, or of the built-in token service); and requests signed with API keys."""

from occistack.federation.api_keys import ApiKeyRefused, ApiKeyVerifier, SignatureAlgorithm, SignedRequest
from occistack.federation.certificates import CertificateAuthenticator
from occistack.federation.errors import (
    AuthenticationFailed,
    CertificateRefused,
    CredentialRefused,
    IdentityNotMapped,
    IssuerUnavailable,
    KeystoneTokenRefused,
)
from occistack.federation.identity import FederatedIdentity, Identity, Membership
from occistack.federation.local import CredentialCache, LocalPasswordSource
from occistack.federation.mapping import Grant, MappingError, MappingRules
from occistack.federation.oidc import BearerTokenAuthenticator, TokenValidator
from occistack.federation.oidc_issuers import IssuerSettings, IssuerSettingsError, TrustedIssuer, issuers_from_settings
from occistack.federation.passwords import hash_password, verify_password
from occistack.federation.voms import VomsVerifier
from occistack.federation.x509 import ChainVerifier, TrustStore

__all__ = [
    "ApiKeyRefused", "ApiKeyVerifier", "AuthenticationFailed", "BearerTokenAuthenticator", "CertificateAuthenticator",
    "CertificateRefused", "ChainVerifier", "TrustStore", "VomsVerifier", "CredentialCache", "CredentialRefused",
    "FederatedIdentity", "Grant", "Identity", "IdentityNotMapped", "IssuerSettings", "IssuerSettingsError",
    "IssuerUnavailable", "KeystoneTokenRefused", "LocalPasswordSource", "MappingError", "MappingRules", "Membership",
    "SignatureAlgorithm", "SignedRequest", "TokenValidator", "TrustedIssuer", "hash_password",
    "issuers_from_settings", "verify_password",
]
