"""A user's own SSH key pairs: the caller creates, imports, lists, shows and deletes theirs,
and no one else's -- another user's key pair of the same name is simply not theirs to see.

These are the use cases a user-facing face calls (the OCCI server's ``/user/keypairs``, later
Nova's ``os-keypairs``); the requests and records are the administrator's
(``plane/admin/cases/keypairs.py``), with the caller as the owner. Creating a compute with a
key pair's name (``key_name`` of ComputeRequest) reads the key through :func:`public_key_named`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from occistack.model import User
from occistack.plane.admin import keypairs
from occistack.plane.admin.cases.keypairs import GeneratedKeypair, KeypairImport, NewKeypair
from occistack.plane.admin.common import Actor
from occistack.plane.admin.records.keypairs import KeypairRecord, keypair_record, keypair_records
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.errors import NotPermitted
from occistack.plane.ssh_keys import generate_key, read_public_key

__all__ = ["GeneratedKeypair", "KeypairImport", "NewKeypair", "create_keypair", "delete_keypair", "import_keypair",
           "list_keypairs", "public_key_named", "show_keypair"]


def create_keypair(ctx: PlaneContext, new: NewKeypair) -> GeneratedKeypair:
    owner = _owner(ctx)
    keypairs.check_name(new.name)
    generated = generate_key(new.key_type, new.bits)
    row = keypairs.add_keypair(ctx.session, owner, new.name, generated.public, actor=_actor(ctx.caller))
    return GeneratedKeypair(keypair_record(ctx.session, row), generated.private_key)


def import_keypair(ctx: PlaneContext, imported: KeypairImport) -> KeypairRecord:
    owner = _owner(ctx)
    keypairs.check_name(imported.name)
    row = keypairs.add_keypair(ctx.session, owner, imported.name, read_public_key(imported.public_key),
                               actor=_actor(ctx.caller))
    return keypair_record(ctx.session, row)


def list_keypairs(ctx: PlaneContext) -> list[KeypairRecord]:
    return keypair_records(ctx.session, keypairs.keypairs_of(ctx.session, _owner(ctx).id))


def show_keypair(ctx: PlaneContext, name: str) -> KeypairRecord:
    return keypair_record(ctx.session, keypairs.find_keypair(ctx.session, _owner(ctx), name))


def delete_keypair(ctx: PlaneContext, name: str) -> None:
    """Computes given the key keep it (it was copied to them)."""
    keypairs.remove_keypair(ctx.session, keypairs.find_keypair(ctx.session, _owner(ctx), name),
                            actor=_actor(ctx.caller))


def public_key_named(session: Session, caller: Caller, name: str) -> str:
    """The key line of the caller's key pair ``name``, for a compute given it by name (NotFound
    naming the key pairs they have)."""
    return keypairs.find_keypair(session, _user(session, caller), name).public_key


def _owner(ctx: PlaneContext) -> User:
    if ctx.caller is None:
        raise NotPermitted("a key pair belongs to a user: sign in as one (an administrator names the user)")
    return _user(ctx.session, ctx.caller)


def _user(session: Session, caller: Caller) -> User:
    return session.get(User, caller.user_id)


def _actor(caller: Caller) -> Actor:
    # The user acts on their own key pairs: the event log names them, not an administrator.
    return Actor(caller.user_name, caller.user_id)
