"""Users' SSH key pairs, row by row: kept under a name unique among the owner's, found by the
owner and the name, removed. The key itself is read and fingerprinted by ``plane/ssh_keys.py``;
who may act for which user is the use cases' business (``cases/keypairs.py`` for an
administrator acting for any user, ``plane/tenant/keypairs.py`` for a user's own)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import KeyPair, User
from occistack.plane.admin.common import SYSTEM, Actor, find_row, record_change
from occistack.plane.errors import Conflict
from occistack.plane.ssh_keys import PublicKey, check_name

__all__ = ["add_keypair", "check_name", "find_keypair", "keypairs_of", "remove_keypair"]


def add_keypair(session: Session, owner: User, name: str, key: PublicKey, *, actor: Actor = SYSTEM) -> KeyPair:
    check_name(name)
    if session.scalar(select(KeyPair.id).where(KeyPair.user_id == owner.id, KeyPair.name == name)) is not None:
        raise Conflict(f"user {owner.name!r} already has a key pair named {name!r}; choose another name, or "
                       "delete that one first")
    keypair = KeyPair(user_id=owner.id, name=name, key_type=key.key_type, public_key=key.line,
                      fingerprint=key.fingerprint, fingerprint_md5=key.fingerprint_md5)
    session.add(keypair)
    session.flush()
    record_change(session, actor, "keypair.create", "keypair", keypair.id,
                  f"key pair {name!r} of user {owner.name!r}: {key.key_type} {key.fingerprint}",
                  project_id=owner.project_id)
    return keypair


def find_keypair(session: Session, owner: User, name: str) -> KeyPair:
    """The owner's key pair ``name`` (NotFound listing the names they have)."""
    return find_row(session, KeyPair, name, "key pair", where=[KeyPair.user_id == owner.id],
                    where_text=f" of user {owner.name!r}", plural=f"the key pairs of user {owner.name!r}")


def keypairs_of(session: Session, owner_id: int | None = None) -> list[KeyPair]:
    """The key pairs of one user, or of everybody, by owner and name."""
    query = select(KeyPair).order_by(KeyPair.user_id, KeyPair.name)
    if owner_id is not None:
        query = query.where(KeyPair.user_id == owner_id)
    return list(session.scalars(query))


def remove_keypair(session: Session, keypair: KeyPair, *, actor: Actor = SYSTEM) -> None:
    """The computes given the key keep it: it was copied to them when they were made."""
    owner = session.get(User, keypair.user_id)
    session.delete(keypair)
    session.flush()
    record_change(session, actor, "keypair.remove", "keypair", keypair.id,
                  f"key pair {keypair.name!r} of user {owner.name!r}", project_id=owner.project_id)
