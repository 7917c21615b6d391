"""``occistack zone``: availability zones, the first thing of a cloud."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import inventory
from occistack.plane.admin.cases.common import UNCHANGED, Switch
from occistack.plane.admin.cases.inventory import NewZone, ZoneChanges
from occistack.model.occi import infrastructure as infra
from occistack.cli.base import OrderedGroup, comma_list, document, json_option, or_unchanged, print_rows, run


@click.group(cls=OrderedGroup)
def zone() -> None:
    """Zones (published to OCCI users as availability zones)."""


@zone.command("create")
@click.argument("name")
@click.option("--title", help="A description for people (the availability zone mixin's title).")
@click.option("--network-type", type=click.Choice(admin.NETWORK_TYPES), default="advanced", show_default=True,
              help="basic: one flat shared guest network; advanced: isolated guest networks on VLANs.")
@click.option("--guest-cidr", help="The CIDR an isolated guest network gets when none is asked for "
                                   "[default: 10.1.1.0/24].")
@click.option("--dns", multiple=True, help="A DNS server for guests (repeat, or separate with commas).")
@click.option("--region", help="The region the zone belongs to.")
@click.option("--disabled", is_flag=True, help="Create it disabled, to enable once it is complete.")
def zone_create(name: str, title: str | None, network_type: str, guest_cidr: str | None, dns: tuple[str, ...],
                region: str | None, disabled: bool) -> None:
    """Create a zone."""
    created = run(lambda ctx: inventory.add_zone(ctx, NewZone(
        name=name, title=title, network_type=network_type, guest_cidr=guest_cidr, dns=comma_list(dns) or None,
        region=region, enabled=not disabled)).id)
    click.echo(f"created zone {name} (id {created})")


@zone.command("update")
@click.argument("name")
@click.option("--title", help="A new title (\"\" clears it).")
@click.option("--guest-cidr", help="The CIDR new isolated guest networks get when none is asked for.")
@click.option("--dns", multiple=True, help="The guests' DNS servers, replacing the old ones (repeat, or separate "
                                           "with commas; \"\" clears them).")
@click.option("--region", help="The region the zone belongs to.")
@click.option("--no-region", is_flag=True, help="Take the zone out of its region.")
def zone_update(name: str, title: str | None, guest_cidr: str | None, dns: tuple[str, ...], region: str | None,
                no_region: bool) -> None:
    """Change a zone's title, default guest CIDR, DNS servers or region (its name and network
    type stay as created)."""
    if region is not None and no_region:
        raise click.UsageError("give --region or --no-region, not both")
    changes = ZoneChanges(title=or_unchanged(title), guest_cidr=or_unchanged(guest_cidr),
                          dns=comma_list(dns) or None if dns else UNCHANGED,
                          region=None if no_region else or_unchanged(region))
    run(lambda ctx: inventory.update_zone(ctx, name, changes))
    click.echo(f"updated zone {name}")


@zone.command("list")
@json_option
def zone_list(as_json: bool) -> None:
    """List the zones."""
    rows = run(lambda ctx: [document(zone) for zone in inventory.list_zones(ctx)])
    print_rows(rows, ("id", "name", "network_type", "guest_cidr", "enabled", "title"), as_json)


@zone.command("enable")
@click.argument("name")
def zone_enable(name: str) -> None:
    """Offer the zone to users and to placement again."""
    run(lambda ctx: inventory.act_on_zone(ctx, name, Switch.ENABLE))
    click.echo(f"zone {name} is enabled")


@zone.command("disable")
@click.argument("name")
def zone_disable(name: str) -> None:
    """Stop offering the zone; what runs there keeps running."""
    run(lambda ctx: inventory.act_on_zone(ctx, name, Switch.DISABLE))
    click.echo(f"zone {name} is disabled")


@zone.command("delete")
@click.argument("name")
def zone_delete(name: str) -> None:
    """Remove a zone that has nothing in it any more."""
    run(lambda ctx: inventory.remove_zone(ctx, name))
    click.echo(f"removed zone {name}")


@zone.command("public-network")
@click.argument("name")
def zone_public_network(name: str) -> None:
    """Give a zone its shared public network (a zone gets it with its first public IP range;
    this is for zones whose ranges were added before)."""
    network_id = run(lambda ctx: inventory.add_zone_public_network(ctx, name).public_network_id)
    click.echo(f"zone {name} has its shared public network {infra.NETWORK.location_of(network_id)}")
