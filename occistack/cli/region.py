"""``occistack region``: regions, the optional grouping of zones."""

from __future__ import annotations

import click

from occistack.plane.admin.cases import inventory
from occistack.plane.admin.cases.inventory import NewRegion, RegionChanges
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run


@click.group(cls=OrderedGroup)
def region() -> None:
    """Regions (groups of zones)."""


@region.command("create")
@click.argument("name")
@click.option("--title", help="A description for people.")
def region_create(name: str, title: str | None) -> None:
    """Create a region."""
    created = run(lambda ctx: inventory.add_region(ctx, NewRegion(name=name, title=title)).id)
    click.echo(f"created region {name} (id {created})")


@region.command("update")
@click.argument("name")
@click.option("--title", required=True, help="A new title (\"\" clears it).")
def region_update(name: str, title: str) -> None:
    """Change a region's title (its name stays as created)."""
    run(lambda ctx: inventory.update_region(ctx, name, RegionChanges(title=title)))
    click.echo(f"updated region {name}")


@region.command("list")
@json_option
def region_list(as_json: bool) -> None:
    """List the regions."""
    rows = run(lambda ctx: [document(region) for region in inventory.list_regions(ctx)])
    print_rows(rows, ("id", "name", "title"), as_json)


@region.command("delete")
@click.argument("name")
def region_delete(name: str) -> None:
    """Remove a region that no zone belongs to."""
    run(lambda ctx: inventory.remove_region(ctx, name))
    click.echo(f"removed region {name}")
