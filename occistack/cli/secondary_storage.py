"""``occistack secondary-storage``: a zone's NFS store for templates, ISOs and snapshots."""

from __future__ import annotations

import click

from occistack.plane.admin.cases import storage
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.storage import NewSecondaryStorage, SecondaryStorageChanges
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run

zone_option = click.option("--zone", required=True, help="The zone of the secondary storage.")


@click.group("secondary-storage", cls=OrderedGroup)
def secondary_storage() -> None:
    """Secondary storage (templates, ISOs, snapshots)."""


@secondary_storage.command("add")
@zone_option
@click.argument("name")
@click.option("--url", required=True, help="nfs://server/export/path")
@click.option("--capacity-gib", type=float, required=True)
def secondary_storage_add(zone: str, name: str, url: str, capacity_gib: float) -> None:
    """Add secondary storage to a zone."""
    created = run(lambda ctx: storage.add_secondary_storage(ctx, NewSecondaryStorage(
        zone=zone, name=name, url=url, capacity_gib=capacity_gib)).id)
    click.echo(f"added secondary storage {name} to zone {zone} (id {created})")


@secondary_storage.command("update")
@zone_option
@click.argument("name")
@click.option("--name", "new_name", help="A new name, unique in the zone.")
@click.option("--url", help="Another NFS URL (only while the store holds no template).")
@click.option("--capacity-gib", type=float, help="Not below what it holds.")
def secondary_storage_update(zone: str, name: str, new_name: str | None, url: str | None,
                             capacity_gib: float | None) -> None:
    """Rename a secondary storage, change its capacity, or move an empty one to another URL."""
    changes = SecondaryStorageChanges(name=or_unchanged(new_name), url=or_unchanged(url),
                                      capacity_gib=or_unchanged(capacity_gib))
    run(lambda ctx: storage.update_secondary_storage(ctx, name, changes, zone=zone))
    click.echo(f"updated secondary storage {new_name or name}")


@secondary_storage.command("list")
@click.option("--zone", help="Only this zone's.")
@json_option
def secondary_storage_list(zone: str | None, as_json: bool) -> None:
    """List secondary storage."""
    def work(ctx):
        return [document(store, zone=store.zone_name, used=f"{store.used_gib:g}/{store.capacity_gib:g} GiB")
                for store in storage.list_secondary_storage(ctx, zone)]

    print_rows(run(work), ("id", "zone", "name", "url", "used", "enabled"), as_json)


@secondary_storage.command("enable")
@zone_option
@click.argument("name")
def secondary_storage_enable(zone: str, name: str) -> None:
    """Use the store again."""
    run(lambda ctx: storage.act_on_secondary_storage(ctx, name, Switch.ENABLE, zone=zone))
    click.echo(f"secondary storage {name} is enabled")


@secondary_storage.command("disable")
@zone_option
@click.argument("name")
def secondary_storage_disable(zone: str, name: str) -> None:
    """Put nothing new on the store."""
    run(lambda ctx: storage.act_on_secondary_storage(ctx, name, Switch.DISABLE, zone=zone))
    click.echo(f"secondary storage {name} is disabled")


@secondary_storage.command("delete")
@zone_option
@click.argument("name")
def secondary_storage_delete(zone: str, name: str) -> None:
    """Remove a store that holds no template."""
    run(lambda ctx: storage.remove_secondary_storage(ctx, name, zone=zone))
    click.echo(f"removed secondary storage {name}")
