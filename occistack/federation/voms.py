"""VOMS attribute certificates: the VO memberships a VOMS proxy carries, verified.

``voms-proxy-init`` asks a VO's VOMS server for an attribute certificate (AC, RFC 5755) that
says "the holder of this certificate is in these groups with these roles" -- the FQANs, such as
``/fedcloud.egi.eu/Role=VMManager/Capability=NULL`` -- signed by the VOMS server's host
certificate, and puts it in the proxy as the extension 1.3.6.1.4.1.8005.100.100.5. A site
trusts a VO's server through its *vomsdir*: ``<vomsdir>/<vo>/<server host>.lsc`` lists the DN
of the server's certificate and of the CA that issued it (the file EGI's VO ID cards give).

An AC is accepted when all of this holds:

* it is for this chain: its holder is the user's certificate (issuer or subject DN, and serial:
  VOMS servers write the subject where RFC 5755 has the issuer);
* its VO has a directory in the vomsdir, and the server that signed it a ``.lsc`` there whose
  DNs are those of the signing certificate the AC carries and that certificate's issuer;
* the signing certificate verifies against the site's CAs (valid, not revoked), and its key
  signed the AC;
* it is valid now, has no critical extension this server does not know, and each FQAN belongs
  to the AC's own VO (a VO's server speaks only for its VO).

Anything else refuses the whole credential, saying which part and why: a site that trusts a VO
wants to know when someone presents attributes it cannot verify, not to silently drop them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from occistack.federation import der
from occistack.federation.errors import CertificateRefused
from occistack.federation.x509 import ChainVerifier, VerifiedChain, dn_string

VOMS_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.8005.100.100.5")
_VOMS_ATTRIBUTE = "1.3.6.1.4.1.8005.100.100.4"
_VOMS_SIGNER_CERTIFICATES = "1.3.6.1.4.1.8005.100.100.10"
#: Extensions a VOMS server writes that need no action here (tags, revocation, key ids).
_KNOWN_EXTENSIONS = {_VOMS_SIGNER_CERTIFICATES, "1.3.6.1.4.1.8005.100.100.11", "2.5.29.56", "2.5.29.35"}
_SIGNATURES = {
    "1.2.840.113549.1.1.11": ("RSA", hashes.SHA256), "1.2.840.113549.1.1.12": ("RSA", hashes.SHA384),
    "1.2.840.113549.1.1.13": ("RSA", hashes.SHA512), "1.2.840.113549.1.1.14": ("RSA", hashes.SHA224),
    "1.2.840.10045.4.3.2": ("EC", hashes.SHA256), "1.2.840.10045.4.3.3": ("EC", hashes.SHA384),
    "1.2.840.10045.4.3.4": ("EC", hashes.SHA512),
}
_DIRECTORY_NAME = 4
_URI = 6


@dataclass(frozen=True, slots=True)
class VomsAttributes:
    """What one verified AC says."""

    vo: str
    #: in the order the VOMS server wrote them; the first is the primary FQAN.
    fqans: tuple[str, ...]
    #: the VOMS server (``host:port``) and the DN of its certificate.
    server: str
    signer_dn: str
    not_after: datetime


@dataclass(frozen=True, slots=True)
class _AttributeCertificate:
    signed: bytes
    algorithm: str
    signature: bytes
    holder: tuple[str, int] | None
    issuer_dn: str | None
    not_before: datetime
    not_after: datetime
    policy_authority: str
    fqans: tuple[str, ...]
    signers: tuple[x509.Certificate, ...]
    unknown_critical: tuple[str, ...]


class VomsVerifier:
    def __init__(self, vomsdir: str | Path, chains: ChainVerifier,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.vomsdir = Path(vomsdir)
        if not self.vomsdir.is_dir():
            raise ValueError(f"the vomsdir {self.vomsdir} does not exist")
        self.chains = chains
        self._clock = clock

    def attributes(self, chain: VerifiedChain) -> tuple[VomsAttributes, ...]:
        """The verified attributes of the proxy nearest the leaf that carries any; none for a
        plain proxy or certificate."""
        for proxy in chain.proxies:
            try:
                extension = proxy.extensions.get_extension_for_oid(VOMS_EXTENSION)
            except x509.ExtensionNotFound:
                continue
            certificates = _read_acs(extension.value.value)
            holders = (chain.end_entity, *chain.proxies)
            return tuple(self._verify(certificate, holders) for certificate in certificates)
        return ()

    def trusted_vos(self) -> list[str]:
        return sorted(path.name for path in self.vomsdir.iterdir() if path.is_dir())

    def _verify(self, ac: _AttributeCertificate, holders: Sequence[x509.Certificate]) -> VomsAttributes:
        vo, _, server = ac.policy_authority.partition("://")
        if not vo or not server:
            raise CertificateRefused(f"the VOMS attributes name their VO and server as {ac.policy_authority!r}, "
                                     "not as vo://host:port")
        if ac.holder is None or not any(_holds(certificate, *ac.holder) for certificate in holders):
            raise CertificateRefused(f"the VOMS attributes of {vo} were issued to another certificate than the one "
                                     "presented; make the VOMS proxy from your own certificate")
        if not (self.vomsdir / vo).is_dir():
            trusted = ", ".join(self.trusted_vos()) or "none"
            raise CertificateRefused(f"the proxy carries VOMS attributes of the VO {vo!r}, which this site does not "
                                     f"trust (VOs with a directory in its vomsdir: {trusted})")
        host = server.rsplit(":", 1)[0]
        lsc = self.vomsdir / vo / f"{host}.lsc"
        if not lsc.is_file():
            raise CertificateRefused(f"the VOMS attributes of {vo} were signed by the server {host}, which this site "
                                     f"does not know as a server of {vo} (no {lsc})")
        if not ac.signers:
            raise CertificateRefused(f"the VOMS attributes of {vo} carry no certificate of their signer {host}")
        signer = ac.signers[0]
        if not _matches_lsc(lsc, [dn_string(c.subject) for c in ac.signers] + [dn_string(ac.signers[-1].issuer)]):
            raise CertificateRefused(f"the VOMS attributes of {vo} were signed by {dn_string(signer.subject)} "
                                     f"(issued by {dn_string(signer.issuer)}), which {lsc} does not name")
        if ac.issuer_dn != dn_string(signer.subject):
            raise CertificateRefused(f"the VOMS attributes of {vo} name their issuer {ac.issuer_dn}, but carry the "
                                     f"certificate of {dn_string(signer.subject)}")
        try:
            self.chains.verify(ac.signers)
        except CertificateRefused as refusal:
            raise CertificateRefused(f"the certificate of the VOMS server of {vo} is not trusted: "
                                     f"{refusal.message}") from None
        _check_signature(ac, signer, vo)
        now = self._clock()
        if now > ac.not_after:
            raise CertificateRefused(f"the VOMS attributes of {vo} expired at {ac.not_after:%Y-%m-%dT%H:%M:%SZ}; "
                                     "make a new proxy with voms-proxy-init")
        if now < ac.not_before:
            raise CertificateRefused(f"the VOMS attributes of {vo} are not valid before "
                                     f"{ac.not_before:%Y-%m-%dT%H:%M:%SZ} (check the clocks)")
        if ac.unknown_critical:
            raise CertificateRefused(f"the VOMS attributes of {vo} have critical extensions this server does not "
                                     f"understand ({', '.join(ac.unknown_critical)}), such as a target restriction")
        foreign = [fqan for fqan in ac.fqans if fqan.strip("/").split("/", 1)[0] != vo]
        if foreign or not ac.fqans:
            raise CertificateRefused(f"the VOMS server of {vo} may vouch only for groups of {vo}, but its attributes "
                                     f"say {', '.join(foreign) or 'nothing'}")
        return VomsAttributes(vo, ac.fqans, server, dn_string(signer.subject), ac.not_after)


def _holds(certificate: x509.Certificate, dn: str, serial: int) -> bool:
    return serial == certificate.serial_number and dn in (dn_string(certificate.issuer),
                                                          dn_string(certificate.subject))


def _matches_lsc(lsc: Path, chain_dns: list[str]) -> bool:
    """Whether one of the chains the .lsc file lists (DNs one a line, subject first, chains
    separated by lines of dashes) is the signer's."""
    chains, current = [], []
    for line in lsc.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith("-"):
            chains.append(current)
            current = []
        elif line and not line.startswith("#"):
            current.append(line)
    chains.append(current)
    return any(chain and chain == chain_dns[:len(chain)] and len(chain) >= 2 for chain in chains)


def _check_signature(ac: _AttributeCertificate, signer: x509.Certificate, vo: str) -> None:
    kind, hash_type = _SIGNATURES.get(ac.algorithm, (None, None))
    if kind is None:
        raise CertificateRefused(f"the VOMS attributes of {vo} are signed with the algorithm {ac.algorithm}, which "
                                 "this site does not accept (RSA or ECDSA with SHA-2 only)")
    key = signer.public_key()
    try:
        if kind == "RSA" and isinstance(key, rsa.RSAPublicKey):
            key.verify(ac.signature, ac.signed, padding.PKCS1v15(), hash_type())
        elif kind == "EC" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(ac.signature, ac.signed, ec.ECDSA(hash_type()))
        else:
            raise InvalidSignature
    except InvalidSignature:
        raise CertificateRefused(f"the signature of the VOMS attributes of {vo} does not verify with the key of "
                                 f"{dn_string(signer.subject)}: altered or forged") from None


# --- reading ----------------------------------------------------------------------------------------

def _read_acs(value: bytes) -> list[_AttributeCertificate]:
    """The ACs of the extension: a SEQUENCE of SEQUENCEs of ACs, as VOMS writes them."""
    try:
        outer = der.read_one(value).expect(der.SEQUENCE, "VOMS extension").children()
        acs = [ac for group in outer for ac in group.expect(der.SEQUENCE, "VOMS AC list").children()]
        if not acs:
            raise der.DERError("no attribute certificate inside")
        return [_read_ac(ac) for ac in acs]
    except (der.DERError, IndexError, ValueError) as error:
        raise CertificateRefused(f"the proxy's VOMS extension is malformed ({error}); make a new proxy with "
                                 "voms-proxy-init") from None


def _read_ac(element: der.Element) -> _AttributeCertificate:
    info_element, algorithm, signature = element.expect(der.SEQUENCE, "attribute certificate").children()
    info = info_element.expect(der.SEQUENCE, "AC info").children()
    _version, holder, issuer, _algorithm, _serial, validity, attributes = info[:7]
    extensions = next((part for part in info[7:] if part.tag == der.SEQUENCE), None)
    not_before, not_after = map(der.generalized_time, validity.children())
    authority, fqans = _voms_attribute(attributes)
    signers, unknown = _extensions(extensions)
    return _AttributeCertificate(
        signed=info_element.encoded, algorithm=der.object_identifier(algorithm.children()[0]),
        signature=der.bit_string(signature), holder=_holder(holder), issuer_dn=_issuer(issuer),
        not_before=not_before, not_after=not_after, policy_authority=authority, fqans=fqans,
        signers=signers, unknown_critical=unknown)


def _holder(holder: der.Element) -> tuple[str, int] | None:
    """(DN, serial) of the holder's baseCertificateID."""
    for part in holder.children():
        if part.is_context(0):
            names, serial = part.children()[:2]
            return _directory_name(names.children()), der.integer(serial)
    return None


def _issuer(issuer: der.Element) -> str | None:
    """The AC issuer's DN: a v2Form ``[0]`` whose issuerName holds a directoryName."""
    names = issuer.children()
    if issuer.is_context(0) and names and names[0].tag == der.SEQUENCE:
        names = names[0].children()
    return _directory_name(names)


def _directory_name(general_names: list[der.Element]) -> str | None:
    for name in general_names:
        if name.is_context(_DIRECTORY_NAME):
            rdns = name.children()[0].expect(der.SEQUENCE, "Name").children()
            return dn_string([[(der.object_identifier(pair.children()[0]), der.text(pair.children()[1]))
                               for pair in rdn.children()] for rdn in rdns])
    return None


def _voms_attribute(attributes: der.Element) -> tuple[str, tuple[str, ...]]:
    for attribute in attributes.children():
        kind, values = attribute.children()
        if der.object_identifier(kind) != _VOMS_ATTRIBUTE:
            continue
        syntax = values.children()[0].children()  # IetfAttrSyntax
        authority = ""
        if syntax and syntax[0].is_context(0):
            uris = [name for name in syntax.pop(0).children() if name.is_context(_URI)]
            authority = uris[0].content.decode("ascii", "replace") if uris else ""
        fqans = tuple(value.content.decode("utf-8", "replace") for value in syntax[0].children()
                      if value.tag == der.OCTET_STRING)
        return authority, fqans
    raise der.DERError("no VOMS attribute (1.3.6.1.4.1.8005.100.100.4) in the AC")


def _extensions(extensions: der.Element | None) -> tuple[tuple[x509.Certificate, ...], tuple[str, ...]]:
    signers: tuple[x509.Certificate, ...] = ()
    unknown = []
    for extension in extensions.children() if extensions is not None else ():
        parts = extension.children()
        oid = der.object_identifier(parts[0])
        critical = len(parts) == 3 and parts[1].tag == der.BOOLEAN and parts[1].content != b"\x00"
        value = der.read_one(parts[-1].expect(der.OCTET_STRING, "extension value").content)
        if oid == _VOMS_SIGNER_CERTIFICATES:
            signers = tuple(x509.load_der_x509_certificate(c.encoded)
                            for group in value.children() for c in group.children())
        elif critical and oid not in _KNOWN_EXTENSIONS:
            unknown.append(oid)
    return signers, tuple(unknown)
