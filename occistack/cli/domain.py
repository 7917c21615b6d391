"""``occistack domain``: the domain tree that accounts and projects live in."""

from __future__ import annotations

import click

from occistack.plane.admin.cases import tenancy
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.tenancy import DomainChanges, NewDomain
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run


@click.group(cls=OrderedGroup)
def domain() -> None:
    """Domains (a tree under /)."""


@domain.command("create")
@click.argument("name")
@click.option("--parent", default="/", show_default=True, help="The path of the parent domain.")
def domain_create(name: str, parent: str) -> None:
    """Create a domain under PARENT."""
    path = run(lambda ctx: tenancy.add_domain(ctx, NewDomain(name=name, parent=parent)).path)
    click.echo(f"created domain {path}")


@domain.command("update")
@click.argument("path")
@click.option("--name", required=True, help="Its new name (its path and its subdomains' paths follow).")
def domain_update(path: str, name: str) -> None:
    """Rename a domain (it stays under its parent)."""
    renamed = run(lambda ctx: tenancy.update_domain(ctx, path, DomainChanges(name=name)).path)
    click.echo(f"updated domain {renamed}")


@domain.command("disable")
@click.argument("path")
def domain_disable(path: str) -> None:
    """Refuse every credential of every user of the domain and of its subdomains (what they own
    stays; the root cannot be disabled)."""
    disabled = run(lambda ctx: tenancy.act_on_domain(ctx, path, Switch.DISABLE).path)
    click.echo(f"domain {disabled} is disabled")


@domain.command("enable")
@click.argument("path")
def domain_enable(path: str) -> None:
    """Accept the domain's users again (each as enabled as their account and they are)."""
    enabled = run(lambda ctx: tenancy.act_on_domain(ctx, path, Switch.ENABLE).path)
    click.echo(f"domain {enabled} is enabled")


@domain.command("list")
@json_option
def domain_list(as_json: bool) -> None:
    """List the domains."""
    rows = run(lambda ctx: [document(domain) for domain in tenancy.list_domains(ctx)])
    print_rows(rows, ("id", "path", "name", "enabled"), as_json)


@domain.command("delete")
@click.argument("path")
def domain_delete(path: str) -> None:
    """Remove a domain without subdomains, accounts or projects."""
    run(lambda ctx: tenancy.remove_domain(ctx, path))
    click.echo(f"removed domain {path}")
