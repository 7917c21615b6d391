"""Records of users' key pairs: the public key and its fingerprints (a private key is never
kept, so never in a record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import KeyPair, User
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class KeypairRecord:
    id: int
    user_id: int
    name: str
    #: the OpenSSH key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...).
    key_type: str
    public_key: str
    #: OpenSSH's SHA256 fingerprint.
    fingerprint: str
    #: the colon-separated MD5 fingerprint Nova shows.
    fingerprint_md5: str
    created_at: datetime
    user_name: str = related()


def keypair_records(session: Session, keypairs: Iterable[KeyPair]) -> list[KeypairRecord]:
    keypairs = list(keypairs)
    owners = names_by_id(session, User.name, (keypair.user_id for keypair in keypairs))
    return [from_row(KeypairRecord, keypair, user_name=owners[keypair.user_id]) for keypair in keypairs]


def keypair_record(session: Session, keypair: KeyPair) -> KeypairRecord:
    return keypair_records(session, [keypair])[0]
