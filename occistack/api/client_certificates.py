"""Where a request's client certificate comes from, and the settings that say whom to believe.

Two ways, both ending in the same verification (federation/x509.py, federation/voms.py):

* **TLS in gunicorn** (``occistack.serve.client_certificate_tls``): the handshake already
  checked that the client holds the key; the chain OpenSSL verified is read from the socket.
* **A TLS terminator in front** (Apache with mod_gridsite, the one that accepts proxies): it
  forwards the client's certificate and chain, or only its DN, in request headers. Those
  headers are believed only from the terminators' addresses (``occistack.x509.trusted_proxies``);
  from anyone else they are ignored, as if absent -- anybody can write a header.

Settings (``[app:main]``)::

    occistack.x509.ca_dir = /etc/grid-security/certificates   ; turns X.509 on
    occistack.x509.crl_dir = /etc/grid-security/certificates  ; default: ca_dir
    occistack.x509.require_crls = true                        ; refuse CAs without a current CRL
    occistack.x509.vomsdir = /etc/grid-security/vomsdir       ; turns VOMS on
    occistack.x509.trusted_proxies = 127.0.0.1 ::1            ; addresses or networks
    occistack.x509.header.certificate = X-SSL-Client-Cert     ; the leaf, PEM
    occistack.x509.header.chain = X-SSL-Client-Chain          ; -0, -1, ...: the rest of the chain
    occistack.x509.header.dn = X-SSL-Client-S-DN              ; when only the DN is forwarded
    occistack.x509.header.issuer_dn = X-SSL-Client-I-DN
    occistack.x509.header.verify = X-SSL-Client-Verify        ; must say SUCCESS
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import ssl
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import unquote

from pyramid.exceptions import ConfigurationError

from occistack.federation import (
    CertificateAuthenticator,
    CertificateRefused,
    ChainVerifier,
    CredentialCache,
    MappingError,
    MappingRules,
    TrustStore,
    VomsVerifier,
)
from occistack.federation.x509 import dn_from_text
from occistack.plane.limits import SiteLimits

_PREFIX = "occistack.x509."
_HEADERS = {"certificate": "X-SSL-Client-Cert", "chain": "X-SSL-Client-Chain", "dn": "X-SSL-Client-S-DN",
            "issuer_dn": "X-SSL-Client-I-DN", "verify": "X-SSL-Client-Verify"}
_KNOWN = {"ca_dir", "crl_dir", "require_crls", "vomsdir", "trusted_proxies", "reload_seconds",
          *(f"header.{name}" for name in _HEADERS)}
#: What Apache writes for a variable that has no value (no client certificate).
_EMPTY = ("", "(null)", "-")
_LONGEST_CHAIN = 10
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


@dataclass(frozen=True, slots=True)
class PresentedCertificate:
    """A client certificate as the request brought it: the DER chain (leaf first), or only the
    DN and issuer DN a terminator verified."""

    chain: tuple[bytes, ...] = ()
    dn: str | None = None
    issuer_dn: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateSettings:
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    #: header name → its WSGI environ key.
    headers: dict[str, str]

    @classmethod
    def from_ini(cls, ini: Mapping[str, Any]) -> CertificateSettings:
        networks = []
        for entry in (ini.get(_PREFIX + "trusted_proxies") or "").split():
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigurationError(f"{_PREFIX}trusted_proxies: {entry!r} is not an IP address or network "
                                         "(the TLS terminators' addresses, separated by spaces)") from None
        headers = {name: _environ_key(ini.get(f"{_PREFIX}header.{name}") or default)
                   for name, default in _HEADERS.items()}
        return cls(tuple(networks), headers)

    def trusts(self, address: str | None) -> bool:
        if not address or not self.trusted_proxies:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


def _environ_key(header: str) -> str:
    return "HTTP_" + header.strip().upper().replace("-", "_")


def presented_certificate(environ: dict, settings: CertificateSettings) -> PresentedCertificate | None:
    """The client certificate of the request, from the TLS connection or a trusted terminator;
    None when there is none (or headers came from an address that is not a terminator's)."""
    socket = environ.get("gunicorn.socket")
    if isinstance(socket, ssl.SSLSocket):
        chain = _verified_chain(socket)
        if chain:
            return PresentedCertificate(chain)
    if not settings.trusts(environ.get("REMOTE_ADDR")):
        return None
    return _forwarded(environ, settings.headers)


def _verified_chain(socket: ssl.SSLSocket) -> tuple[bytes, ...]:
    # Public from Python 3.13; before, the same call on the socket's SSL object.
    reader = getattr(socket, "get_verified_chain", None) or getattr(socket._sslobj, "get_verified_chain", None)
    if reader is None:
        leaf = socket.getpeercert(binary_form=True)
        return (leaf,) if leaf else ()
    return tuple(c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in reader() or ())


def _forwarded(environ: dict, headers: dict[str, str]) -> PresentedCertificate | None:
    leaf = environ.get(headers["certificate"], "").strip()
    dn = environ.get(headers["dn"], "").strip()
    if leaf in _EMPTY and dn in _EMPTY:
        return None
    verify = environ.get(headers["verify"])
    if verify is not None and verify.strip() not in ("SUCCESS", "NONE"):
        raise CertificateRefused(f"the TLS terminator could not verify the client certificate ({verify.strip()}); "
                                 "send a certificate or proxy of a CA this site trusts")
    if leaf not in _EMPTY:
        chain = [_der(leaf)]
        for index in range(_LONGEST_CHAIN):
            value = environ.get(f"{headers['chain']}_{index}", "").strip()
            if value in _EMPTY:
                break
            chain.append(_der(value))
        return PresentedCertificate(tuple(chain))
    if verify is None or verify.strip() != "SUCCESS":
        raise CertificateRefused("the TLS terminator forwarded a DN without saying it verified the certificate "
                                 "(X-SSL-Client-Verify: SUCCESS); configure it to forward the certificate")
    issuer = environ.get(headers["issuer_dn"], "").strip()
    if issuer in _EMPTY:
        raise CertificateRefused("the TLS terminator forwarded the client's DN but not its issuer's "
                                 "(X-SSL-Client-I-DN); configure it to forward both, or the certificate")
    return PresentedCertificate(dn=dn_from_text(dn), issuer_dn=dn_from_text(issuer))


def _der(value: str) -> bytes:
    """A certificate as terminators forward it: PEM, URL-escaped (nginx), with its line breaks
    turned into spaces (Apache), or bare base64."""
    if "%" in value:
        value = unquote(value)
    match = _PEM.search(value)
    body = match.group(1) if match else value
    try:
        return base64.b64decode(re.sub(r"\s+", "", body), validate=True)
    except (binascii.Error, ValueError):
        raise CertificateRefused("the TLS terminator forwarded a client certificate that is not PEM") from None


def certificate_authenticator(ini: Mapping[str, Any], cache: CredentialCache) -> CertificateAuthenticator | None:
    """The X.509 authenticator of the ini settings; None when ``occistack.x509.ca_dir`` is not set."""
    unknown = sorted(key for key in ini if key.startswith(_PREFIX) and key[len(_PREFIX):] not in _KNOWN)
    if unknown:
        raise ConfigurationError(f"unknown setting {', '.join(unknown)}; the X.509 settings are "
                                 f"{', '.join(_PREFIX + name for name in sorted(_KNOWN))}")
    ca_dir = (ini.get(_PREFIX + "ca_dir") or "").strip()
    if not ca_dir:
        return None
    require = (ini.get(_PREFIX + "require_crls") or "true").strip().lower()
    if require not in ("true", "false"):
        raise ConfigurationError(f"{_PREFIX}require_crls is true or false, not {require!r}")
    try:
        store = TrustStore(ca_dir, (ini.get(_PREFIX + "crl_dir") or "").strip() or None, require_crls=require == "true",
                           reload_seconds=float(ini.get(_PREFIX + "reload_seconds") or 10))
        chains = ChainVerifier(store)
        vomsdir = (ini.get(_PREFIX + "vomsdir") or "").strip()
        voms = VomsVerifier(vomsdir, chains) if vomsdir else None
    except ValueError as error:
        raise ConfigurationError(f"X.509 settings: {error}") from None
    rules_file = (ini.get("occistack.mapping_file") or "").strip()
    if not rules_file:
        raise ConfigurationError(f"{_PREFIX}ca_dir is set but occistack.mapping_file is not: without mapping rules "
                                 "no certificate can be given a project")
    try:
        rules = MappingRules.from_file(rules_file)
    except MappingError as error:
        raise ConfigurationError(str(error)) from None
    rules = rules.with_project_quotas(SiteLimits.from_ini(ini).default_quotas)
    return CertificateAuthenticator(chains, voms, rules, cache)
