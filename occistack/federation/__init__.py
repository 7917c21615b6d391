"""Identity: who a request comes from. Local passwords here; X.509/VOMS proxies, OIDC tokens and
Keystone tokens join in issue 6, each as one more identity source beside these."""

from .identity import Identity
from .local import CredentialCache, LocalPasswordSource
from .passwords import hash_password, verify_password

__all__ = ["CredentialCache", "Identity", "LocalPasswordSource", "hash_password", "verify_password"]
