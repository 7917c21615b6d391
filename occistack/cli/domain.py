"""``occistack domain``: the domain tree that accounts and projects live in."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run


@click.group(cls=OrderedGroup)
def domain() -> None:
    """Domains (a tree under /)."""


@domain.command("create")
@click.argument("name")
@click.option("--parent", default="/", show_default=True, help="The path of the parent domain.")
def domain_create(name: str, parent: str) -> None:
    """Create a domain under PARENT."""
    path = run(lambda session, actor: admin.create_domain(session, name=name, parent=parent, actor=actor).path)
    click.echo(f"created domain {path}")


@domain.command("list")
@json_option
def domain_list(as_json: bool) -> None:
    """List the domains."""
    rows = run(lambda session, _actor: [document(row) for row in admin.list_domains(session)])
    print_rows(rows, ("id", "path", "name"), as_json)


@domain.command("delete")
@click.argument("path")
def domain_delete(path: str) -> None:
    """Remove a domain without subdomains, accounts or projects."""
    run(lambda session, actor: admin.remove_domain(session, path, actor=actor))
    click.echo(f"removed domain {path}")
