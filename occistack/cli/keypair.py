"""``occistack keypair``: users' SSH key pairs, the administrator acting for a user (users manage
their own at /user/keypairs)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from occistack.plane.admin.cases import keypairs
from occistack.plane.admin.cases.keypairs import KeypairFilter, KeypairImport, KeypairOf, NewKeypair
from occistack.cli.base import OrderedGroup, document, json_option, print_document, print_rows, run

_COLUMNS = ("id", "user", "name", "key_type", "fingerprint", "created_at")
_user_option = click.option("--user", required=True, help="The user whose key pair it is.")


def _document(record) -> dict:
    return document(record, user=record.user_name)


@click.group(cls=OrderedGroup)
def keypair() -> None:
    """Users' SSH key pairs, which computes are given by name."""


@keypair.command("create")
@click.argument("name")
@_user_option
@click.option("--type", "key_type", type=click.Choice(["ed25519", "rsa"]), default="ed25519", show_default=True)
@click.option("--bits", type=int, help="An RSA key's size [default: 3072].")
@click.option("--private-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the private key here (a new file, readable by you alone) instead of printing it.")
def keypair_create(name: str, user: str, key_type: str, bits: int | None, private_key_file: Path | None) -> None:
    """Generate a key pair for a user. The private key is printed (or written) this once: the
    server keeps only the public key."""
    if private_key_file is not None and private_key_file.exists():
        raise click.UsageError(f"{private_key_file} exists already; name a new file")
    made = run(lambda ctx: keypairs.create_keypair(ctx, user, NewKeypair(name, key_type, bits)))
    summary = f"created key pair {name} of user {made.keypair.user_name}: {made.keypair.fingerprint}"
    if private_key_file is None:
        click.echo(made.private_key, nl=False)
        click.echo(summary, err=True)
        return
    descriptor = os.open(private_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as written:
        written.write(made.private_key)
    click.echo(f"{summary}; private key in {private_key_file}")


@keypair.command("import")
@click.argument("name")
@_user_option
@click.option("--public-key", help="The public key: one line of authorized_keys.")
@click.option("--public-key-file", type=click.File("r"), help="A file holding it (a .pub file; - reads stdin).")
def keypair_import(name: str, user: str, public_key: str | None, public_key_file) -> None:
    """Keep a user's own public key as a key pair."""
    if (public_key is None) == (public_key_file is None):
        raise click.UsageError("give --public-key or --public-key-file (one of them)")
    text = public_key if public_key is not None else public_key_file.read()
    record = run(lambda ctx: keypairs.import_keypair(ctx, user, KeypairImport(name, text)))
    click.echo(f"imported key pair {name} of user {record.user_name}: {record.key_type} {record.fingerprint}")


@keypair.command("list")
@click.option("--user", help="Only this user's key pairs.")
@json_option
def keypair_list(user: str | None, as_json: bool) -> None:
    """List key pairs, by user and name."""
    where = KeypairFilter(user=user)
    print_rows([_document(record) for record in run(lambda ctx: keypairs.list_keypairs(ctx, where))], _COLUMNS,
               as_json)


@keypair.command("show")
@click.argument("name")
@_user_option
@json_option
def keypair_show(name: str, user: str, as_json: bool) -> None:
    """Show a key pair: its public key and fingerprints (SHA256, and the MD5 one Nova shows)."""
    record = _document(run(lambda ctx: keypairs.show_keypair(ctx, KeypairOf(user, name))))
    text = "\n".join(f"{field}: {value}" for field, value in record.items())
    print_document(record, as_json, text)


@keypair.command("delete")
@click.argument("name")
@_user_option
def keypair_delete(name: str, user: str) -> None:
    """Delete a key pair (computes given its key keep it)."""
    run(lambda ctx: keypairs.remove_keypair(ctx, KeypairOf(user, name)))
    click.echo(f"removed key pair {name} of user {user}")

