"""Client certificates → local identities: a verified chain (and its VOMS attributes) read into
a federated identity, mapped, provisioned and remembered.

The federated identity of a certificate is its owner's DN, issued by the DN of the CA that
signed the end-entity certificate; the method is ``x509`` and the issuer's name for the mapping
rules is ``x509`` too (so ``match: {issuer: x509, vo: atlas}`` reads as it means). VOMS FQANs
become its memberships: ``/atlas/production/Role=pilot`` is a membership of ``atlas/production``
with the role ``pilot``.

A TLS terminator that forwards only a DN (nginx cannot forward a proxy, nor a chain) has
verified the certificate itself; such an identity has no VOMS attributes.

A verified chain is remembered by the digest of its certificates until the first of them
expires or ``occistack.auth.cache_seconds`` pass, whichever is first: a revocation (a new
CRL) applies to a client already known within that time.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from cryptography import x509
from sqlalchemy.engine import Engine

from occistack.federation.errors import CertificateRefused
from occistack.federation.identity import FederatedIdentity, Identity, membership_from_fqan
from occistack.federation.local import CredentialCache
from occistack.federation.mapping import MappingRules
from occistack.federation.provisioning import provision
from occistack.federation.voms import VomsVerifier
from occistack.federation.x509 import ChainVerifier, VerifiedChain, host_names

#: The issuer name rules use for every certificate identity.
SOURCE = "x509"
#: What the database keeps of an issuer and a subject (federated_users).
_LONGEST_DN = 255


class CertificateAuthenticator:
    def __init__(self, chains: ChainVerifier, voms: VomsVerifier | None, rules: MappingRules,
                 cache: CredentialCache, clock: Callable[[], float] = time.time):
        self.chains = chains
        self.voms = voms
        self.rules = rules
        self.cache = cache
        self._clock = clock

    def cached(self, chain: Sequence[bytes]) -> Identity | None:
        return self.cache.get(self.cache.certificate_fingerprint(chain))

    def identify(self, chain: Sequence[bytes], engine: Engine) -> Identity:
        """The local identity of the DER certificates ``chain`` (leaf first)."""
        fingerprint = self.cache.certificate_fingerprint(chain)
        identity = self.cache.get(fingerprint)
        if identity is not None:
            return identity
        federated = self.federated_identity(chain)
        identity = provision(engine, federated, self.rules.grant(federated))
        lifetime = federated.expires_at - self._clock()
        if lifetime > 0:
            self.cache.put(fingerprint, identity, lifetime=lifetime)
        return identity

    def identify_dn(self, dn: str, issuer_dn: str, engine: Engine) -> Identity:
        """The local identity of a DN that a trusted TLS terminator verified (no chain, no VOMS)."""
        federated = _identity(dn, issuer_dn, (), None)
        return provision(engine, federated, self.rules.grant(federated))

    def federated_identity(self, chain: Sequence[bytes]) -> FederatedIdentity:
        verified = self.chains.verify(load_chain(chain))
        attributes = self.voms.attributes(verified) if self.voms is not None else ()
        fqans = tuple(fqan for attribute in attributes for fqan in attribute.fqans)
        expires = min([verified.not_after, *(attribute.not_after for attribute in attributes)])
        return _identity(verified.dn, verified.issuer_dn, fqans, expires.timestamp())

    def host_certificate(self, chain: Sequence[bytes]) -> tuple[VerifiedChain, frozenset[str]]:
        """A host's own certificate, verified, and the host names it vouches for. A proxy never
        stands for a host: proxies are how users delegate, and hosts have no need to."""
        verified = self.chains.verify(load_chain(chain))
        if verified.proxies:
            raise CertificateRefused(f"an agent authenticates with its host's own certificate, not with a proxy "
                                     f"(of {verified.dn})")
        return verified, host_names(verified.end_entity)


def load_chain(chain: Sequence[bytes]) -> list[x509.Certificate]:
    try:
        return [x509.load_der_x509_certificate(certificate) for certificate in chain]
    except ValueError as error:
        raise CertificateRefused(f"a presented certificate cannot be read ({error})") from None


def _identity(dn: str, issuer_dn: str, fqans: tuple[str, ...], expires_at: float | None) -> FederatedIdentity:
    if len(dn) > _LONGEST_DN or len(issuer_dn) > _LONGEST_DN:
        raise CertificateRefused(f"the DN {dn[:80]!r}… (or its CA's) is longer than {_LONGEST_DN} characters, "
                                 "more than this site can record")
    memberships = []
    for membership in map(membership_from_fqan, fqans):
        if membership is not None and membership not in memberships:
            memberships.append(membership)
    common_names = [part[3:] for part in dn.split("/") if part.startswith("CN=")]
    return FederatedIdentity(method="x509", issuer=issuer_dn, source=SOURCE, subject=dn, memberships=tuple(memberships),
                             fqans=fqans, dn=dn, display_name=common_names[0] if common_names else None,
                             expires_at=expires_at)
