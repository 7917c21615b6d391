"""Secrets the management server must be able to read back (BMC passwords), sealed at rest.

Sealed with Fernet (AES-128-CBC and HMAC-SHA256, from ``cryptography``) under the site's secret
key, so a copy of the database alone does not give away the credentials of every server's
BMC. The key is ``occistack.secret_key`` (Fernet's urlsafe base64 text) or the file named by
``occistack.secret_key_file``; a key file that does not exist yet is created (readable by its
owner only), which is what a fresh development checkout wants. In production, back the key up
with the database: without it the sealed passwords cannot be opened.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

from cryptography.fernet import Fernet, InvalidToken

from occistack.plane.errors import Conflict, InvalidRequest

log = logging.getLogger(__name__)


class SealingError(Conflict):
    """A sealed value that this key cannot open (another site's key, or a damaged value): what
    is stored clashes with the site's key, until the key is restored or the secret set again."""


class Sealer:
    def __init__(self, key: bytes | str):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise InvalidRequest("the secret key must be 32 bytes in urlsafe base64, as "
                                 "'python -c \"from cryptography.fernet import Fernet; "
                                 "print(Fernet.generate_key().decode())\"' prints") from None

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            raise SealingError("a sealed secret cannot be opened with this site's key: was the database "
                               "restored without its secret key, or the key replaced?") from None


def sealer_from_settings(settings: Mapping[str, str]) -> Sealer:
    return Sealer(site_secret_key(settings))


def site_secret_key(settings: Mapping[str, str]) -> bytes:
    """The site's secret key (Fernet's urlsafe base64 text), from the settings or its file,
    which is created when it does not exist yet. Other secrets of the site (the signing key of
    its Keystone-compatible tokens) are derived from it."""
    inline = (settings.get("occistack.secret_key") or "").strip()
    if inline:
        return inline.encode("ascii")
    path = Path((settings.get("occistack.secret_key_file") or "var/secret.key").strip())
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together must not both write a key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as key_file:
                key_file.write(Fernet.generate_key())
            log.warning("created the secret key %s; back it up with the database", path)
    return path.read_bytes().strip()
