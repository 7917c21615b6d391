"""A grid in a temporary directory: CAs, host and user certificates, RFC 3820 proxies, CRLs, a CA
directory laid out as IGTF's (``<hash>.0``, ``<hash>.r0``), a vomsdir, and VOMS proxies made by
Debian's ``voms-proxy-fake`` (no VOMS server needed).

Everything but the VOMS proxies is made with `cryptography`; the proxies are built to RFC 3820
as ``grid-proxy-init -rfc`` makes them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")
INHERIT_ALL = "1.3.6.1.5.5.7.21.1"
LIMITED = "1.3.6.1.4.1.3536.1.1.1.9"
GRID = [x509.NameAttribute(NameOID.COUNTRY_NAME, "EU"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Grid")]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name: str, base=GRID) -> x509.Name:
    return x509.Name([*base, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def pem(*items) -> bytes:
    out = b""
    for item in items:
        if isinstance(item, rsa.RSAPrivateKey):
            out += item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())
        else:
            out += item.public_bytes(serialization.Encoding.PEM)
    return out


@dataclass
class Credential:
    """A certificate, its key, and the certificates after it in its chain (not the root)."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: list[x509.Certificate] = field(default_factory=list)

    def write(self, path: Path) -> Path:
        """One PEM file as grid tools write a proxy: certificate, key, then the chain."""
        path.write_bytes(pem(self.certificate, self.key, *self.chain))
        path.chmod(0o600)
        return path

    def write_pair(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """``<stem>.pem`` (certificate and chain) and ``<stem>.key``, as a host keeps them."""
        certificate, key = directory / f"{stem}.pem", directory / f"{stem}.key"
        certificate.write_bytes(pem(self.certificate, *self.chain))
        key.write_bytes(pem(self.key))
        key.chmod(0o600)
        return certificate, key

    @property
    def ders(self) -> tuple[bytes, ...]:
        return tuple(c.public_bytes(serialization.Encoding.DER) for c in (self.certificate, *self.chain))

    def proxy(self, hours: float = 12, language: str = INHERIT_ALL, path_length: int | None = None,
              expired: bool = False, extensions=()) -> Credential:
        """An RFC 3820 proxy of this credential, signed with its key."""
        key = new_key()
        serial = int.from_bytes(os.urandom(4), "big") | 1
        start = now() - dt.timedelta(minutes=5)
        end = start + dt.timedelta(hours=hours)
        if expired:
            start, end = now() - dt.timedelta(hours=13), now() - dt.timedelta(hours=1)
        length = b"" if path_length is None else _der_integer(path_length)
        oid = x509.ObjectIdentifier(language).dotted_string
        policy = _der(0x30, _der_oid(oid))
        info = _der(0x30, length + policy)
        subject = x509.Name([*self.certificate.subject, x509.NameAttribute(NameOID.COMMON_NAME, str(serial))])
        certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.certificate.subject)
                       .public_key(key.public_key()).serial_number(serial).not_valid_before(start).not_valid_after(end)
                       .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                                      critical=True)
                       .add_extension(x509.UnrecognizedExtension(PROXY_CERT_INFO, info), critical=True))
        for extension in extensions:
            certificate = certificate.add_extension(extension.value, critical=extension.critical)
        certificate = certificate.sign(self.key, hashes.SHA256())
        return Credential(certificate, key, [self.certificate, *self.chain])


class Authority:
    """A CA: issues certificates and CRLs."""

    def __init__(self, common_name: str, parent: Authority | None = None, days: int = 30):
        self.key = new_key()
        self.name = name(common_name)
        self.parent = parent
        issuer_name, signer = (parent.name, parent.key) if parent else (self.name, self.key)
        builder = (x509.CertificateBuilder().subject_name(self.name).issuer_name(issuer_name)
                   .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now() - dt.timedelta(days=1)).not_valid_after(now() + dt.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                  critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False))
        self.certificate = builder.sign(signer, hashes.SHA256())
        self.revoked: dict[int, dt.datetime] = {}

    @property
    def chain(self) -> list[x509.Certificate]:
        """The CAs a certificate of this one presents after itself (intermediates, not the root)."""
        return [] if self.parent is None else [self.certificate, *self.parent.chain]

    def issue(self, common_name: str, *, dns_names=(), addresses=(), server: bool = False, days: float = 10,
              expired: bool = False, base=GRID) -> Credential:
        key = new_key()
        start, end = now() - dt.timedelta(days=1), now() + dt.timedelta(days=days)
        if expired:
            start, end = now() - dt.timedelta(days=20), now() - dt.timedelta(days=1)
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
        builder = (x509.CertificateBuilder().subject_name(name(common_name, base)).issuer_name(self.name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        alternatives = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a))
                                                                for a in addresses]
        if alternatives:
            builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        return Credential(builder.sign(self.key, hashes.SHA256()), key, self.chain)

    def revoke(self, credential: Credential) -> None:
        self.revoked[credential.certificate.serial_number] = now() - dt.timedelta(minutes=1)

    def crl(self, expired: bool = False) -> x509.CertificateRevocationList:
        last = now() - dt.timedelta(days=2 if expired else 0, minutes=5)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.name).last_update(last)
                   .next_update(last + dt.timedelta(days=1)))
        for serial, when in self.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
        return builder.sign(self.key, hashes.SHA256())


def subject_hash(certificate: x509.Certificate) -> str:
    """OpenSSL's subject hash, the name IGTF gives a CA's files."""
    done = subprocess.run(["openssl", "x509", "-noout", "-subject_hash"], input=pem(certificate),
                          capture_output=True, check=True)
    return done.stdout.decode().strip()


class Grid:
    """A site's trust: a CA directory with CRLs, a vomsdir, and the credentials of everyone."""

    def __init__(self, directory: Path):
        self.directory = directory = directory.resolve()
        self.ca = Authority("Test CA")
        self.rogue_ca = Authority("Rogue CA")  # a CA the site does not trust
        self.ca_dir = directory / "certificates"
        self.vomsdir = directory / "vomsdir"
        self.ca_dir.mkdir()
        self.vomsdir.mkdir()
        self.server = self.ca.issue("localhost", dns_names=["localhost"], addresses=["127.0.0.1"], server=True)
        self.voms_server = self.ca.issue("voms.example.org", dns_names=["voms.example.org"], server=True)
        self.alice = self.ca.issue("Alice Tester")
        self.trust_vo("vo.example", self.voms_server)
        self.write_ca_dir()

    def write_ca_dir(self, expired_crl: bool = False) -> None:
        """The CA directory as fetch-crl leaves it: each CA and its current CRL."""
        for authority in (self.ca,):
            stem = subject_hash(authority.certificate)
            (self.ca_dir / f"{stem}.0").write_bytes(pem(authority.certificate))
            (self.ca_dir / f"{stem}.r0").write_bytes(pem(authority.crl(expired=expired_crl)))

    def revoke(self, credential: Credential) -> None:
        self.ca.revoke(credential)
        self.write_ca_dir()

    def trust_vo(self, vo: str, server: Credential) -> None:
        (self.vomsdir / vo).mkdir(exist_ok=True)
        host = server.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        lines = [_slash(server.certificate.subject), _slash(server.certificate.issuer)]
        (self.vomsdir / vo / f"{host}.lsc").write_text("\n".join(lines) + "\n")

    def voms_proxy(self, user: Credential, vo: str, fqans: list[str], server: Credential | None = None,
                   *extra: str) -> Path:
        """A VOMS proxy of ``user`` with ``fqans`` of ``vo``, from voms-proxy-fake, as a file."""
        server = server or self.voms_server
        work = self.directory / "voms-proxy-fake"
        work.mkdir(exist_ok=True)
        user_cert, user_key = user.write_pair(work, "user")
        server_cert, server_key = server.write_pair(work, "server")
        certdir = work / "certdir"
        certdir.mkdir(exist_ok=True)
        (certdir / f"{subject_hash(self.ca.certificate)}.0").write_bytes(pem(self.ca.certificate))
        host = server.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        out = self.directory / f"voms-{os.urandom(4).hex()}.pem"
        command = [voms_proxy_fake(), "-certdir", str(certdir), "-cert", str(user_cert), "-key", str(user_key),
                   "-hostcert", str(server_cert), "-hostkey", str(server_key), "-voms", vo, "-uri",
                   f"{host}:15000", "-out", str(out), "-rfc", *extra]
        for fqan in fqans:
            command += ["-fqan", fqan]
        done = subprocess.run(command, capture_output=True, text=True, cwd=work, env={**os.environ, "HOME": str(work)})
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"voms-proxy-fake failed: {done.stdout}{done.stderr}")
        return out


def voms_proxy_fake() -> str:
    found = shutil.which("voms-proxy-fake")
    if found is None:
        from tests.conftest import missing_component

        missing_component("voms-proxy-fake is not installed (Debian package voms-clients; scripts/system-packages.sh)")
    return found


def _slash(dn: x509.Name) -> str:
    from occistack.federation.x509 import dn_string

    return dn_string(dn)


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _der_integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def _der_oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.insert(0, 0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(chunk)
    return _der(0x06, body)


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.federation.pki DIR``: a grid to try X.509 with (README, Authentication)."""
    import argparse

    parser = argparse.ArgumentParser(description="Make a test CA, certificates and VOMS proxies.")
    parser.add_argument("directory", type=Path)
    directory = parser.parse_args(argv).directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in ("certificates", "vomsdir"):
        shutil.rmtree(directory / stale, ignore_errors=True)
    grid = Grid(directory)
    (directory / "ca.pem").write_bytes(pem(grid.ca.certificate))
    grid.server.write_pair(directory, "hostcert")
    (directory / "hostcert.key").rename(directory / "hostkey.pem")
    grid.alice.write_pair(directory, "usercert")
    (directory / "usercert.key").rename(directory / "userkey.pem")
    made = {
        "x509up": grid.voms_proxy(grid.alice, "vo.example", ["/vo.example/Role=operator"]),
        "proxy.pem": grid.alice.proxy().write(directory / "proxy.pem"),
        "other-vo.pem": grid.voms_proxy(grid.alice, "other.vo", ["/other.vo"]),
    }
    for target, source in made.items():
        source.rename(directory / target)
    shutil.rmtree(directory / "voms-proxy-fake", ignore_errors=True)
    print(f"CA directory {grid.ca_dir}, vomsdir {grid.vomsdir} (vo.example), server certificate hostcert.pem, "
          f"Alice's usercert.pem, her VOMS proxy x509up (/vo.example/Role=operator), a plain proxy proxy.pem, "
          f"a proxy of an untrusted VO other-vo.pem, all in {directory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
