"""``occistack offering``: service offerings, published as OCCI resource_tpl mixins."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import catalog
from occistack.plane.admin.cases.catalog import NewOffering, OfferingChanges
from occistack.plane.admin.cases.common import UNCHANGED
from occistack.cli.base import OrderedGroup, comma_list, document, json_option, or_unchanged, print_rows, run


@click.group(cls=OrderedGroup)
def offering() -> None:
    """Service offerings (OCCI resource templates)."""


@offering.command("create")
@click.argument("term")
@click.option("--title", help="A description for people.")
@click.option("--cores", type=int, required=True)
@click.option("--memory-gib", type=float, required=True)
@click.option("--disk-gib", type=float, help="The root disk size.")
@click.option("--speed-ghz", type=float)
@click.option("--architecture", type=click.Choice(admin.ARCHITECTURES))
@click.option("--host-tag", "host_tags", multiple=True, help="A tag the host must carry (repeat for more).")
@click.option("--storage-tag", "storage_tags", multiple=True, help="A tag the storage must carry (repeat for more).")
@click.option("--ha", is_flag=True, help="Restart its virtual machines elsewhere when their host fails.")
@click.option("--hypervisor", type=click.Choice(admin.HYPERVISORS), default="KVM", show_default=True,
              help="BareMetal: each compute gets a whole node of a BareMetal cluster, at least this big.")
def offering_create(term: str, title: str | None, cores: int, memory_gib: float, disk_gib: float | None,
                    speed_ghz: float | None, architecture: str | None, host_tags: tuple[str, ...],
                    storage_tags: tuple[str, ...], ha: bool, hypervisor: str) -> None:
    """Define a service offering; TERM is its OCCI term."""
    created = run(lambda ctx: catalog.add_offering(ctx, NewOffering(
        term=term, title=title, cores=cores, memory_gib=memory_gib, disk_gib=disk_gib, speed_ghz=speed_ghz,
        architecture=architecture, host_tags=comma_list(host_tags), storage_tags=comma_list(storage_tags),
        ha_enabled=ha, hypervisor=hypervisor)).id)
    click.echo(f"created offering {term} (id {created})")


@offering.command("update")
@click.argument("term")
@click.option("--title", help="A new title (\"\" clears it).")
@click.option("--host-tag", "host_tags", multiple=True, help="A tag the host must carry, replacing the old ones "
                                                             "(repeat for more; \"\" clears them).")
@click.option("--storage-tag", "storage_tags", multiple=True, help="A tag the storage must carry, replacing the old "
                                                                   "ones (repeat for more; \"\" clears them).")
@click.option("--ha/--no-ha", default=None, help="Restart its virtual machines elsewhere when their host fails.")
def offering_update(term: str, title: str | None, host_tags: tuple[str, ...], storage_tags: tuple[str, ...],
                    ha: bool | None) -> None:
    """Change an offering's title, tags or HA (its term and sizes stay as created: computes
    were made from them)."""
    changes = OfferingChanges(title=or_unchanged(title),
                              host_tags=comma_list(host_tags) if host_tags else UNCHANGED,
                              storage_tags=comma_list(storage_tags) if storage_tags else UNCHANGED,
                              ha_enabled=or_unchanged(ha))
    run(lambda ctx: catalog.update_offering(ctx, term, changes))
    click.echo(f"updated offering {term}")


@offering.command("list")
@json_option
def offering_list(as_json: bool) -> None:
    """List the service offerings."""
    rows = run(lambda ctx: [document(offering) for offering in catalog.list_offerings(ctx)])
    print_rows(rows, ("id", "term", "hypervisor", "cores", "memory_gib", "disk_gib", "host_tags", "storage_tags",
                      "ha_enabled", "title"), as_json)


@offering.command("delete")
@click.argument("term")
def offering_delete(term: str) -> None:
    """Remove an offering no virtual machine uses."""
    run(lambda ctx: catalog.remove_offering(ctx, term))
    click.echo(f"removed offering {term}")
