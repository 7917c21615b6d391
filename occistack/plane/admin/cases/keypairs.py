"""Users' SSH key pairs, as the faces ask for them: an administrator acting for a user here; a
user's own (the same requests, the caller as owner) in ``plane/tenant/keypairs.py``.

A key pair is made one of two ways: imported (the user's public key, checked and fingerprinted)
or generated (the server makes the key and hands back its private half once: only the public
half is kept, so a lost private key is a new key pair)."""

from __future__ import annotations

from dataclasses import dataclass

from occistack.plane.admin import keypairs
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.admin.common import Ref, find_row
from occistack.plane.admin.lookup import find_user
from occistack.plane.admin.records.keypairs import KeypairRecord, keypair_record, keypair_records
from occistack.model import KeyPair
from occistack.plane.context import PlaneContext
from occistack.plane.ssh_keys import generate_key, read_public_key


@dataclass(frozen=True)
class NewKeypair:
    """A key pair the server generates."""

    name: str
    #: ssh-ed25519 (or ed25519) or ssh-rsa (or rsa).
    key_type: str = "ssh-ed25519"
    #: an RSA key's size (3072 when left out); an ed25519 key has none.
    bits: int | None = None


@dataclass(frozen=True)
class KeypairImport:
    """A key pair of the user's own public key: one line of authorized_keys."""

    name: str
    public_key: str


@dataclass(frozen=True)
class GeneratedKeypair:
    keypair: KeypairRecord
    #: the private key in OpenSSH's format: shown this once, kept nowhere.
    private_key: str


@dataclass(frozen=True)
class KeypairFilter:
    user: Ref | None = None


@dataclass(frozen=True)
class KeypairOf:
    """A user's key pair, by the user and its name."""

    user: Ref
    name: str


def create_keypair(ctx: PlaneContext, user: Ref, new: NewKeypair) -> GeneratedKeypair:
    owner = find_user(ctx.session, user)
    keypairs.check_name(new.name)  # before the key costs anything to make
    generated = generate_key(new.key_type, new.bits)
    row = keypairs.add_keypair(ctx.session, owner, new.name, generated.public, actor=actor_of(ctx))
    return GeneratedKeypair(keypair_record(ctx.session, row), generated.private_key)


def import_keypair(ctx: PlaneContext, user: Ref, imported: KeypairImport) -> KeypairRecord:
    owner = find_user(ctx.session, user)
    keypairs.check_name(imported.name)
    row = keypairs.add_keypair(ctx.session, owner, imported.name, read_public_key(imported.public_key),
                               actor=actor_of(ctx))
    return keypair_record(ctx.session, row)


def list_keypairs(ctx: PlaneContext, where: KeypairFilter = KeypairFilter()) -> list[KeypairRecord]:
    owner_id = find_user(ctx.session, where.user).id if where.user is not None else None
    return keypair_records(ctx.session, keypairs.keypairs_of(ctx.session, owner_id))


def show_keypair(ctx: PlaneContext, keypair: int | KeypairOf) -> KeypairRecord:
    return keypair_record(ctx.session, _keypair(ctx, keypair))


def remove_keypair(ctx: PlaneContext, keypair: int | KeypairOf) -> None:
    """Computes given the key keep it; the key pair's name is free again."""
    keypairs.remove_keypair(ctx.session, _keypair(ctx, keypair), actor=actor_of(ctx))


def _keypair(ctx: PlaneContext, keypair: int | KeypairOf) -> KeyPair:
    if isinstance(keypair, KeypairOf):
        return keypairs.find_keypair(ctx.session, find_user(ctx.session, keypair.user), keypair.name)
    return find_row(ctx.session, KeyPair, keypair, "key pair")
