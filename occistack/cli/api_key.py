"""``occistack user api-key``: users' API key pairs, for the request signatures of the
CloudStack and EC2 faces. The secret is printed once, by ``create``; nothing shows it again."""

from __future__ import annotations

import json

import click

from occistack.plane.admin.cases import api_keys
from occistack.plane.admin.cases.api_keys import ApiKeyFilter, NewApiKey
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run


@click.group("api-key", cls=OrderedGroup)
def api_key() -> None:
    """Users' API key pairs (access key and secret)."""


@api_key.command("create")
@click.argument("user_name")
@json_option
def api_key_create(user_name: str, as_json: bool) -> None:
    """Give a user a new API key pair and print its secret -- the only time it is shown: keep it
    now. A user holds at most two pairs at once (make the new one, move the clients, revoke the
    old one)."""
    created = run(lambda ctx: api_keys.create_api_key(ctx, NewApiKey(user=user_name)))
    if as_json:
        click.echo(json.dumps(document(created.key, user_name=created.key.user_name, secret=created.secret), indent=2))
        return
    click.echo(f"created API key {created.key.access_key} for user {user_name}")
    click.echo(f"access key: {created.key.access_key}")
    click.echo(f"secret:     {created.secret}")
    click.echo("the secret is not shown again; keep it now", err=True)


@api_key.command("list")
@click.argument("user_name", required=False)
@click.option("--active", is_flag=True, help="Only the keys that are not revoked.")
@json_option
def api_key_list(user_name: str | None, active: bool, as_json: bool) -> None:
    """List API keys (of USER_NAME, or of every user): access key, created, last used, revoked;
    never a secret."""
    where = ApiKeyFilter(user=user_name, include_revoked=not active)
    rows = run(lambda ctx: [document(key, user_name=key.user_name) for key in api_keys.list_api_keys(ctx, where)])
    print_rows(rows, ("access_key", "user_name", "created_at", "last_used_at", "revoked_at"), as_json)


@api_key.command("revoke")
@click.argument("access_key")
def api_key_revoke(access_key: str) -> None:
    """Revoke an API key at once: nothing signed with it is accepted any more."""
    key = run(lambda ctx: api_keys.revoke_api_key(ctx, access_key))
    click.echo(f"API key {key.access_key} of user {key.user_name} is revoked")
