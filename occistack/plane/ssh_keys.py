"""SSH public keys as key pairs hold them: reading one a user sends, its fingerprints, and making
a new key pair for a user who has none.

A public key is one line of ``authorized_keys``: the key type, the base64 of the key's blob
(which names the type again) and an optional comment. cryptography's OpenSSH reader checks the
blob; the rules here add what it does not refuse but a guest's sshd would, or should: several
keys at once, a type on the line that the blob contradicts, an RSA key too short to trust, a
DSA key (OpenSSH no longer accepts them), a certificate.

Fingerprints are the two a user compares with: OpenSSH's (``SHA256:`` and the unpadded base64
of the blob's SHA-256, what ``ssh-keygen -l`` prints) and the colon-separated hex MD5 that Nova
shows and ``ssh-keygen -l -E md5`` prints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from occistack.plane.errors import InvalidRequest

#: The key types a key pair may hold.
ACCEPTED_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")
#: What the server generates: the type, and the names a request may call it by.
GENERATED_TYPES = {"ssh-ed25519": "ssh-ed25519", "ed25519": "ssh-ed25519", "ssh-rsa": "ssh-rsa", "rsa": "ssh-rsa"}
#: RSA keys shorter than this are refused (and never generated): NIST's floor since 2015.
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 8192
RSA_DEFAULT_BITS = 3072
#: The longest key line kept: an 8192-bit RSA key with a long comment fits easily.
LONGEST_KEY = 16384

#: Key pair names, as Nova takes them: letters, digits, space, '.', '_', '-' and '@', not
#: starting or ending with a space.
NAME_PATTERN = re.compile(r"[A-Za-z0-9._@-](?:[A-Za-z0-9 ._@-]{0,253}[A-Za-z0-9._@-])?")
NAME_RULE = "1 to 255 letters, digits, spaces, '.', '_', '-' or '@', not starting or ending with a space"

_ACCEPTED = ", ".join(ACCEPTED_TYPES)
#: The first word of a key line, by which a value is told from a key pair's name.
_KEY_TYPE_WORD = re.compile(r"(ssh|ecdsa|sk)-[A-Za-z0-9@.-]+$")


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A checked public key: its type, its line as kept, its two fingerprints."""

    key_type: str
    line: str
    fingerprint: str
    fingerprint_md5: str


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    public: PublicKey
    #: the private key in OpenSSH's format (``-----BEGIN OPENSSH PRIVATE KEY-----``), unencrypted.
    private_key: str


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(f"key pair name {name!r} is not usable: a name is {NAME_RULE}")
    return name


def looks_like_key(value: str) -> bool:
    """Whether ``value`` is key data rather than a key pair's name: a key line starts with its
    type (``ssh-ed25519 AAAA…``), and a name holds no such word followed by more."""
    words = value.split(None, 1)
    return len(words) == 2 and _KEY_TYPE_WORD.match(words[0]) is not None


def read_public_key(text: str) -> PublicKey:
    """The key of one ``authorized_keys`` line; InvalidRequest saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"the public key is empty: give one line of authorized_keys, such as the contents "
                             f"of ~/.ssh/id_ed25519.pub (accepted types: {_ACCEPTED})")
    if len(text) > LONGEST_KEY:
        raise InvalidRequest(f"the public key is {len(text)} characters long; the longest accepted is {LONGEST_KEY}")
    if "PRIVATE KEY-----" in text:
        raise InvalidRequest("this is a private key: send the public one (the .pub file), and keep the private "
                             "key to yourself")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1:
        raise InvalidRequest(f"the public key has {len(lines)} lines: a key pair holds one key; import each "
                             "key as a key pair of its own")
    words = lines[0].split(None, 2)
    key_type = words[0]
    if key_type not in ACCEPTED_TYPES:
        if key_type.endswith("-cert-v01@openssh.com"):
            raise InvalidRequest(f"{key_type} is an SSH certificate, not a public key; accepted types: {_ACCEPTED}")
        if key_type == "ssh-dss":
            raise InvalidRequest(f"DSA keys (ssh-dss) are not accepted: OpenSSH no longer trusts them; "
                                 f"accepted types: {_ACCEPTED}")
        raise InvalidRequest(f"the public key does not start with an accepted key type (got {key_type[:40]!r}); "
                             f"accepted types: {_ACCEPTED}")
    if len(words) < 2:
        raise InvalidRequest(f"the public key has its type ({key_type}) but not the base64 of the key after it")
    try:
        blob = base64.b64decode(words[1], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"the {key_type} key's second word is not base64") from None
    try:
        key = serialization.load_ssh_public_key(f"{key_type} {words[1]}".encode())
    except (ValueError, UnsupportedAlgorithm) as error:
        raise InvalidRequest(f"the {key_type} key cannot be read ({error}): it may be cut short or "
                             "mistyped") from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
        raise InvalidRequest(f"the RSA key has {key.key_size} bits; at least {RSA_MIN_BITS} are needed")
    comment = words[2].strip() if len(words) > 2 else ""
    line = f"{key_type} {words[1]}" + (f" {comment}" if comment else "")
    return PublicKey(key_type, line, *fingerprints(blob))


def fingerprints(blob: bytes) -> tuple[str, str]:
    """(OpenSSH's SHA256 fingerprint, the colon-separated MD5 one) of a key's blob."""
    sha256 = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    md5 = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return f"SHA256:{sha256}", ":".join(md5[i:i + 2] for i in range(0, len(md5), 2))


def generate_key(key_type: str = "ssh-ed25519", bits: int | None = None) -> GeneratedKey:
    """A new key of ``key_type`` (ed25519 or RSA of ``bits``, 3072 by default)."""
    chosen = GENERATED_TYPES.get(key_type)
    if chosen is None:
        raise InvalidRequest(f"the server generates keys of type ssh-ed25519 (ed25519) or ssh-rsa (rsa); "
                             f"got {key_type!r}")
    if chosen == "ssh-ed25519":
        if bits is not None:
            raise InvalidRequest("an ed25519 key has no size to choose: leave bits out")
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        bits = RSA_DEFAULT_BITS if bits is None else bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not RSA_MIN_BITS <= bits <= RSA_MAX_BITS \
                or bits % 8:
            raise InvalidRequest(f"an RSA key has from {RSA_MIN_BITS} to {RSA_MAX_BITS} bits, a multiple of 8; "
                                 f"got {bits!r}")
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    public_line = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                    serialization.PublicFormat.OpenSSH).decode()
    private_text = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                         serialization.NoEncryption()).decode()
    return GeneratedKey(read_public_key(public_line), private_text)
