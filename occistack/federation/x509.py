"""X.509 client certificates and RFC 3820 proxies: the chain verified, the identity it proves.

A grid user presents either their end-entity certificate (EEC), issued by a CA of the IGTF, or
a *proxy*: a short-lived certificate the EEC signed itself (RFC 3820), possibly a proxy of a
proxy, possibly carrying VOMS attributes (federation/voms.py). Whoever terminates TLS (gunicorn
here, or Apache with mod_gridsite in front) has checked that the client holds the leaf's key;
this module checks the chain again, the same way whatever the front, and adds what a TLS stack
does not know about:

* proxies: each issued and signed by the certificate after it, named after it with one more
  CN, valid now, within the path length its issuer allows, with the policy "inherit all" (a
  limited or independent proxy does not stand for its owner here);
* the EEC: not a CA, valid now, chained to a self-signed CA of the site's CA directory through
  CAs that are valid and allowed to sign;
* revocation: the EEC and every intermediate CA against its issuer's CRL from the CRL
  directory (``<hash>.r0`` files kept current by fetch-crl), and, when the site requires it
  (the default, as grid middleware does), a CA without a current CRL is not trusted at all.

The identity is the EEC's, whatever proxies stand in front of it: its subject DN, written the
way grid tools print it (``/DC=org/DC=terena/C=NL/CN=Jane Doe``), and its issuer's DN.

The directories are read again when their files change (looked at every ``reload_seconds`` at
most), so new CRLs and CAs apply without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtensionOID, NameOID

from occistack.federation import der
from occistack.federation.errors import CertificateRefused

log = logging.getLogger(__name__)

PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")
#: RFC 3820 policy languages: the only one that lets a proxy act for its owner in full.
INHERIT_ALL = "1.3.6.1.5.5.7.21.1"
POLICY_NAMES = {INHERIT_ALL: "inherit all", "1.3.6.1.5.5.7.21.2": "independent",
                "1.3.6.1.4.1.3536.1.1.1.9": "limited (Globus)"}
#: Longer chains are refused unread: no real one comes near.
LONGEST_CHAIN = 16

# The short names OpenSSL prints in one-line DNs, which grid tools, VOMS and APEL all use.
_SHORT_NAMES = {
    NameOID.COUNTRY_NAME: "C", NameOID.STATE_OR_PROVINCE_NAME: "ST", NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.COMMON_NAME: "CN",
    NameOID.DOMAIN_COMPONENT: "DC", NameOID.EMAIL_ADDRESS: "emailAddress", NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.USER_ID: "UID", NameOID.TITLE: "title", NameOID.GIVEN_NAME: "GN", NameOID.SURNAME: "SN",
    NameOID.STREET_ADDRESS: "street", NameOID.POSTAL_CODE: "postalCode", NameOID.PSEUDONYM: "pseudonym",
}
SHORT_NAMES = {oid.dotted_string: short for oid, short in _SHORT_NAMES.items()}


def dn_string(rdns: x509.Name | Iterable[Iterable[tuple[str, str]]]) -> str:
    """``/C=EU/O=Test Grid/CN=Alice``: a name as OpenSSL's one-line form writes it, from a
    `cryptography` Name or from RDNs of (dotted OID, value) pairs."""
    if isinstance(rdns, x509.Name):
        rdns = [[(attribute.oid.dotted_string, str(attribute.value)) for attribute in rdn] for rdn in rdns.rdns]
    return "".join("/" + "+".join(f"{SHORT_NAMES.get(oid, oid)}={value}" for oid, value in rdn) for rdn in rdns)


def dn_from_text(text: str) -> str:
    """A DN as a TLS terminator forwards it -- RFC 4514 (``CN=Alice,O=Test Grid,C=EU``, what
    Apache 2.4 and nginx send) or already one-line (``/C=EU/...``) -- in the one-line form."""
    text = text.strip()
    if text.startswith("/"):
        return text
    try:
        return dn_string(x509.Name.from_rfc4514_string(text))
    except ValueError:
        raise CertificateRefused(f"the TLS terminator forwarded the DN {text!r}, which is neither an RFC 4514 "
                                 "DN nor one in the /C=../CN=.. form") from None


def is_proxy(certificate: x509.Certificate) -> bool:
    return any(extension.oid == PROXY_CERT_INFO for extension in certificate.extensions)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """A chain that verified: the identity it proves and what it is made of."""

    end_entity: x509.Certificate
    #: the proxies in front of the EEC, the presented leaf first (none: the EEC itself).
    proxies: tuple[x509.Certificate, ...]
    #: the EEC's issuer up to the trusted self-signed CA.
    authorities: tuple[x509.Certificate, ...]

    @property
    def dn(self) -> str:
        return dn_string(self.end_entity.subject)

    @property
    def issuer_dn(self) -> str:
        return dn_string(self.end_entity.issuer)

    @property
    def not_after(self) -> datetime:
        """When the first certificate of the chain expires, and the chain with it."""
        return min(c.not_valid_after_utc for c in (self.end_entity, *self.proxies, *self.authorities))


class TrustStore:
    """The CAs a site trusts and their CRLs, read from directories and re-read when they change.

    Any file of the CA directory holding PEM CA certificates counts (IGTF's ``<hash>.0`` and
    ``*.pem``); the other files of an IGTF bundle (``.signing_policy``, ``.namespaces``,
    ``.info``) are left alone. CRLs are the PEM or DER ``<hash>.r0``/``*.crl`` files of the CRL
    directory, which is the CA directory unless said otherwise.
    """

    def __init__(self, ca_dir: str | Path, crl_dir: str | Path | None = None, require_crls: bool = True,
                 reload_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.ca_dir = Path(ca_dir)
        self.crl_dir = Path(crl_dir) if crl_dir else self.ca_dir
        self.require_crls = require_crls
        self.reload_seconds = reload_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._signature: tuple = ()
        self._authorities: dict[str, list[x509.Certificate]] = {}
        self._crls: dict[str, list[x509.CertificateRevocationList]] = {}
        for directory, what in ((self.ca_dir, "CA"), (self.crl_dir, "CRL")):
            if not directory.is_dir():
                raise ValueError(f"the {what} directory {directory} does not exist")
        self.refresh(force=True)

    def authorities_named(self, dn: str) -> list[x509.Certificate]:
        self.refresh()
        return self._authorities.get(dn, [])

    def crls_of(self, dn: str) -> list[x509.CertificateRevocationList]:
        self.refresh()
        return self._crls.get(dn, [])

    @property
    def authority_count(self) -> int:
        return sum(map(len, self._authorities.values()))

    def refresh(self, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._checked_at < self.reload_seconds:
            return
        with self._lock:
            if not force and now - self._checked_at < self.reload_seconds:
                return
            self._checked_at = now
            signature = (_listing(self.ca_dir), _listing(self.crl_dir))
            if signature == self._signature:
                return
            self._authorities = _read_authorities(self.ca_dir)
            self._crls = _read_crls(self.crl_dir)
            self._signature = signature


def _listing(directory: Path) -> tuple:
    try:
        entries = [(entry.name, entry.stat().st_mtime_ns, entry.stat().st_size) for entry in os.scandir(directory)]
    except OSError:
        return ()
    return tuple(sorted(entries))


def _is_ca_file(name: str) -> bool:
    stem, dot, suffix = name.rpartition(".")
    return bool(dot) and (suffix in ("pem", "crt", "cer") or (suffix.isdigit() and len(stem) == 8))


def _is_crl_file(name: str) -> bool:
    stem, dot, suffix = name.rpartition(".")
    return bool(dot) and (suffix in ("crl", "pem") or (suffix[:1] == "r" and suffix[1:].isdigit()))


def _read_authorities(directory: Path) -> dict[str, list[x509.Certificate]]:
    found: dict[str, list[x509.Certificate]] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or not _is_ca_file(path.name):
            continue
        try:
            certificates = x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as error:
            log.warning("skipping %s of the CA directory: %s", path, error)
            continue
        for certificate in certificates:
            if _is_authority(certificate):
                found.setdefault(dn_string(certificate.subject), []).append(certificate)
    return found


def _read_crls(directory: Path) -> dict[str, list[x509.CertificateRevocationList]]:
    found: dict[str, list[x509.CertificateRevocationList]] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or not _is_crl_file(path.name):
            continue
        try:
            data = path.read_bytes()
            if b"-----BEGIN" in data:
                if b"X509 CRL" not in data:
                    continue  # a PEM certificate beside the CRLs
                crl = x509.load_pem_x509_crl(data)
            else:
                crl = x509.load_der_x509_crl(data)
        except (OSError, ValueError) as error:
            log.warning("skipping %s of the CRL directory: %s", path, error)
            continue
        found.setdefault(dn_string(crl.issuer), []).append(crl)
    return found


def _is_authority(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


class ChainVerifier:
    """A presented chain (leaf first) → its :class:`VerifiedChain`, or CertificateRefused
    saying which certificate is wrong and why."""

    def __init__(self, store: TrustStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.store = store
        self._clock = clock

    def verify(self, chain: Sequence[x509.Certificate]) -> VerifiedChain:
        if not chain:
            raise CertificateRefused("no client certificate was presented")
        if len(chain) > LONGEST_CHAIN:
            raise CertificateRefused(f"the client presented {len(chain)} certificates; at most {LONGEST_CHAIN} "
                                     "make a chain here")
        now = self._clock()
        count = 0
        while count < len(chain) and is_proxy(chain[count]):
            count += 1
        if count == len(chain):
            raise CertificateRefused("the client presented only proxies, without the certificate they were made "
                                     "from; send the whole proxy file (proxy, key and the user certificate)")
        proxies, end_entity = tuple(chain[:count]), chain[count]
        for below, proxy in enumerate(proxies):
            self._check_proxy(proxy, chain[below + 1], below, now)
        if _is_authority(end_entity):
            raise CertificateRefused(f"{dn_string(end_entity.subject)} is a CA certificate, not a user's or a host's")
        self._check_dates(end_entity, "the certificate", now)
        authorities = self._path_to_anchor(end_entity, chain[count + 1:], now)
        return VerifiedChain(end_entity, proxies, authorities)

    # --- proxies ---------------------------------------------------------------------------------------

    def _check_proxy(self, proxy: x509.Certificate, issuer: x509.Certificate, below: int, now: datetime) -> None:
        name = dn_string(proxy.subject)
        if _is_authority(issuer):
            raise CertificateRefused(f"the proxy {name} was issued by a CA certificate; a proxy is made from a user's "
                                     "or host's certificate")
        try:
            proxy.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise CertificateRefused(f"the proxy {name} was not signed by the certificate after it in the chain "
                                     f"({dn_string(issuer.subject)}); send the chain in order, the proxy first") from None
        issuer_rdns, proxy_rdns = issuer.subject.rdns, proxy.subject.rdns
        if (proxy_rdns[:-1] != issuer_rdns or len(proxy_rdns) != len(issuer_rdns) + 1
                or [a.oid for a in proxy_rdns[-1]] != [NameOID.COMMON_NAME]):
            raise CertificateRefused(f"the proxy {name} is not named after its issuer {dn_string(issuer.subject)} "
                                     "with one more CN, as RFC 3820 requires")
        self._check_dates(proxy, "the proxy", now)
        path_length, language = _proxy_cert_info(proxy)
        if language != INHERIT_ALL:
            raise CertificateRefused(f"the proxy {name} has the policy {POLICY_NAMES.get(language, language)}; only "
                                     "full ('inherit all') proxies act for their owner here: make one without -limited")
        if path_length is not None and below > path_length:
            raise CertificateRefused(f"the proxy {name} allows {path_length} proxies below it, but {below} were made")
        try:
            usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return
        if not usage.digital_signature:
            raise CertificateRefused(f"{dn_string(issuer.subject)} may not sign (its key usage lacks "
                                     "digitalSignature), so it cannot make proxies")

    # --- the EEC and its CAs ---------------------------------------------------------------------------

    def _path_to_anchor(self, certificate: x509.Certificate, presented: Sequence[x509.Certificate],
                        now: datetime) -> tuple[x509.Certificate, ...]:
        authorities: list[x509.Certificate] = []
        current = certificate
        while True:
            issuer, trusted = self._issuer_of(current, presented)
            self._check_authority(issuer, len(authorities), now)
            self._check_revocation(current, issuer, now)
            authorities.append(issuer)
            if trusted and issuer.issuer == issuer.subject:
                return tuple(authorities)
            if len(authorities) >= LONGEST_CHAIN:
                raise CertificateRefused(f"no trusted root CA within {LONGEST_CHAIN} CAs above "
                                         f"{dn_string(certificate.subject)}")
            current = issuer

    def _issuer_of(self, certificate: x509.Certificate,
                   presented: Sequence[x509.Certificate]) -> tuple[x509.Certificate, bool]:
        """The CA that signed ``certificate``, and whether the site trusts it itself (it is in
        the CA directory) or it came with the chain."""
        issuer_dn = dn_string(certificate.issuer)
        candidates = [(ca, True) for ca in self.store.authorities_named(issuer_dn)]
        candidates += [(ca, False) for ca in presented if dn_string(ca.subject) == issuer_dn and _is_authority(ca)]
        for candidate, trusted in candidates:
            try:
                certificate.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return candidate, trusted
        subject = dn_string(certificate.subject)
        if candidates:
            raise CertificateRefused(f"the certificate {subject} claims to be issued by {issuer_dn}, but that CA's key "
                                     "did not sign it: forged or altered")
        raise CertificateRefused(f"the certificate {subject} was issued by {issuer_dn}, which is not a CA this site "
                                 f"trusts (its CA directory holds {self.store.authority_count} CA certificates)")

    def _check_authority(self, authority: x509.Certificate, below: int, now: datetime) -> None:
        self._check_dates(authority, "the CA certificate", now)
        constraints = authority.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.path_length is not None and below > constraints.path_length:
            raise CertificateRefused(f"the CA {dn_string(authority.subject)} may have {constraints.path_length} CAs "
                                     f"below it, not {below}")
        try:
            usage = authority.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return
        if not usage.key_cert_sign:
            raise CertificateRefused(f"{dn_string(authority.subject)} may not sign certificates (key usage)")

    def _check_revocation(self, certificate: x509.Certificate, issuer: x509.Certificate, now: datetime) -> None:
        issuer_dn = dn_string(issuer.subject)
        crls = [crl for crl in self.store.crls_of(issuer_dn) if crl.is_signature_valid(issuer.public_key())]
        if not crls:
            if self.store.require_crls:
                raise CertificateRefused(f"this site has no CRL of the CA {issuer_dn} (in {self.store.crl_dir}), and "
                                         "it accepts certificates only of CAs whose CRLs it has; its administrators "
                                         "should run fetch-crl")
            return
        crl = max(crls, key=lambda crl: crl.last_update_utc)
        if crl.next_update_utc is not None and crl.next_update_utc < now and self.store.require_crls:
            raise CertificateRefused(f"the CRL of the CA {issuer_dn} expired at {_when(crl.next_update_utc)}, so "
                                     "revocations are unknown; this site's administrators should run fetch-crl")
        revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if revoked is not None:
            raise CertificateRefused(f"the certificate {dn_string(certificate.subject)} (serial "
                                     f"{certificate.serial_number:X}) was revoked by its CA on "
                                     f"{_when(revoked.revocation_date_utc)}")

    @staticmethod
    def _check_dates(certificate: x509.Certificate, what: str, now: datetime) -> None:
        if now > certificate.not_valid_after_utc:
            advice = "make a new proxy" if what == "the proxy" else "renew it"
            raise CertificateRefused(f"{what} {dn_string(certificate.subject)} expired at "
                                     f"{_when(certificate.not_valid_after_utc)}; {advice}")
        if now < certificate.not_valid_before_utc:
            raise CertificateRefused(f"{what} {dn_string(certificate.subject)} is not valid before "
                                     f"{_when(certificate.not_valid_before_utc)} (check the clocks)")


def _proxy_cert_info(proxy: x509.Certificate) -> tuple[int | None, str]:
    """(pCPathLenConstraint, policy language) of RFC 3820's ProxyCertInfo."""
    value = proxy.extensions.get_extension_for_oid(PROXY_CERT_INFO).value.value
    try:
        parts = der.read_one(value).expect(der.SEQUENCE, "ProxyCertInfo").children()
        path_length = der.integer(parts.pop(0)) if parts and parts[0].tag == der.INTEGER else None
        policy = parts[0].expect(der.SEQUENCE, "ProxyPolicy").children()
        return path_length, der.object_identifier(policy[0])
    except (der.DERError, IndexError) as error:
        raise CertificateRefused(f"the proxy {dn_string(proxy.subject)} has a malformed ProxyCertInfo ({error})") from None


def host_names(certificate: x509.Certificate) -> frozenset[str]:
    """The host names a certificate vouches for, lower-cased: its DNS SubjectAltNames, or, when
    it has none, its subject's CN (older host certificates)."""
    try:
        names = certificate.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if not names:
        names = [str(attribute.value) for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return frozenset(name.lower() for name in names)
