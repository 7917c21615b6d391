"""``occistack storage``: primary storage, for one cluster or a whole zone."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import storage as pools
from occistack.plane.admin.cases.common import UNCHANGED
from occistack.plane.admin.cases.storage import NewStoragePool, PoolAction, StoragePoolChanges
from occistack.cli.base import OrderedGroup, comma_list, document, json_option, or_unchanged, print_rows, run

zone_option = click.option("--zone", required=True, help="The zone of the storage pool.")


@click.group(cls=OrderedGroup)
def storage() -> None:
    """Primary storage pools (root disks and volumes)."""


@storage.command("add")
@zone_option
@click.option("--pod", help="The pod of the cluster (with --cluster).")
@click.option("--cluster", help="The cluster it serves; without one the pool serves the whole zone.")
@click.argument("name")
@click.option("--protocol", type=click.Choice(admin.PROTOCOLS), required=True)
@click.option("--server", help="The NFS server (nfs only).")
@click.option("--path", required=True, help="The export (nfs) or the path mounted on every host.")
@click.option("--capacity-gib", type=float, required=True)
@click.option("--overprovisioning", type=float, default=1.0, show_default=True, help="At least 1.")
@click.option("--tag", "tags", multiple=True, help="A storage tag offerings can ask for (repeat for more).")
def storage_add(zone: str, pod: str | None, cluster: str | None, name: str, protocol: str, server: str | None,
                path: str, capacity_gib: float, overprovisioning: float, tags: tuple[str, ...]) -> None:
    """Add a primary storage pool."""
    created = run(lambda ctx: pools.add_storage_pool(ctx, NewStoragePool(
        zone=zone, pod=pod, cluster=cluster, name=name, protocol=protocol, server=server, path=path,
        capacity_gib=capacity_gib, overprovisioning=overprovisioning, tags=comma_list(tags))).id)
    scope = f"cluster {cluster}" if cluster else f"all of zone {zone}"
    click.echo(f"added primary storage {name} for {scope} (id {created})")


@storage.command("update")
@zone_option
@click.argument("name")
@click.option("--name", "new_name", help="A new name, unique in the zone.")
@click.option("--tag", "tags", multiple=True, help="A storage tag offerings can ask for, replacing the old ones "
                                                   "(repeat for more; \"\" clears them).")
@click.option("--capacity-gib", type=float, help="Not below what is allocated on it.")
@click.option("--overprovisioning", type=float, help="At least 1.")
def storage_update(zone: str, name: str, new_name: str | None, tags: tuple[str, ...], capacity_gib: float | None,
                   overprovisioning: float | None) -> None:
    """Rename a pool, or change its tags, capacity or overprovisioning (where it is stays)."""
    changes = StoragePoolChanges(name=or_unchanged(new_name), tags=comma_list(tags) or None if tags else UNCHANGED,
                                 capacity_gib=or_unchanged(capacity_gib),
                                 overprovisioning=or_unchanged(overprovisioning))
    run(lambda ctx: pools.update_storage_pool(ctx, name, changes, zone=zone))
    click.echo(f"updated primary storage {new_name or name}")


@storage.command("list")
@click.option("--zone", help="Only this zone's.")
@json_option
def storage_list(zone: str | None, as_json: bool) -> None:
    """List primary storage pools."""
    def work(ctx):
        return [document(pool, zone=pool.zone_name, scope=pool.cluster_name or "zone",
                         used=f"{pool.used_gib:g}/{pool.capacity_gib * pool.overprovisioning:g} GiB")
                for pool in pools.list_storage_pools(ctx, zone)]

    print_rows(run(work), ("id", "zone", "name", "scope", "protocol", "server", "path", "state", "used", "tags"),
               as_json)


def _state_command(change: str, summary: str):
    @storage.command(change, help=summary)
    @zone_option
    @click.argument("name")
    def command(zone: str, name: str) -> None:
        state = run(lambda ctx: str(pools.act_on_storage_pool(ctx, name, PoolAction(change), zone=zone).state))
        click.echo(f"primary storage {name} is {state}")

    return command


storage_enable = _state_command("enable", "Let placement use the pool again.")
storage_disable = _state_command("disable", "Keep placement off the pool; what is on it stays.")
storage_maintenance = _state_command("maintenance", "Put the pool into maintenance.")
storage_cancel_maintenance = _state_command("cancel-maintenance", "Bring the pool back from maintenance.")


@storage.command("delete")
@zone_option
@click.argument("name")
def storage_delete(zone: str, name: str) -> None:
    """Remove a pool that holds no volume or root disk."""
    run(lambda ctx: pools.remove_storage_pool(ctx, name, zone=zone))
    click.echo(f"removed primary storage {name}")
