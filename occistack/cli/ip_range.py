"""``occistack ip-range``: public IP ranges of a zone and management ranges of its pods."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import inventory, networks
from occistack.plane.admin.cases.common import UNCHANGED
from occistack.plane.admin.cases.networks import IpRangeChanges, IpRangeFilter, NewIpRange
from occistack.model.occi import infrastructure as infra
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run, split_range


@click.group("ip-range", cls=OrderedGroup)
def ip_range() -> None:
    """IP address ranges (public, and management per pod)."""


@ip_range.command("add")
@click.option("--zone", required=True, help="The zone of the range.")
@click.option("--purpose", type=click.Choice(admin.PURPOSES), required=True)
@click.option("--pod", help="The pod of a management range.")
@click.argument("addresses", metavar="FIRST-LAST")
@click.option("--gateway", help="The gateway (a management range uses its pod's).")
@click.option("--prefix-length", type=int, help="The subnet's prefix length, like 24 (a management range uses "
                                               "its pod's).")
@click.option("--vlan", type=int, help="The VLAN the range is on (untagged without).")
def ip_range_add(zone: str, purpose: str, pod: str | None, addresses: str, gateway: str | None,
                 prefix_length: int | None, vlan: int | None) -> None:
    """Add an IP range."""
    first, last = split_range(addresses, "203.0.113.10-203.0.113.250")
    new = NewIpRange(zone=zone, purpose=purpose, pod=pod, first=first, last=last, gateway=gateway,
                     prefix_length=prefix_length, vlan=vlan)

    def add(ctx):
        ip_range = networks.add_ip_range(ctx, new)
        network_id = inventory.show_zone(ctx, ip_range.zone_id).public_network_id if purpose == "public" else None
        return ip_range.id, network_id

    created, network_id = run(add)
    click.echo(f"added {purpose} IP range {first}-{last} to zone {zone} (id {created})")
    if network_id is not None:
        click.echo("its addresses are handed out on the zone's shared public network "
                   + infra.NETWORK.location_of(network_id))


@ip_range.command("list")
@click.option("--zone", help="Only this zone's.")
@click.option("--purpose", type=click.Choice(admin.PURPOSES), help="Only public or only management ranges.")
@json_option
def ip_range_list(zone: str | None, purpose: str | None, as_json: bool) -> None:
    """List IP ranges."""
    def work(ctx):
        return [document(ip_range, zone=ip_range.zone_name, pod=ip_range.pod_name, size=ip_range.size)
                for ip_range in networks.list_ip_ranges(ctx, IpRangeFilter(zone=zone, purpose=purpose))]

    print_rows(run(work), ("id", "zone", "pod", "purpose", "first_address", "last_address", "gateway",
                           "prefix_length", "vlan", "size"), as_json)


@ip_range.command("update")
@click.argument("range_id", metavar="ID", type=int)
@click.option("--addresses", metavar="FIRST-LAST", help="New bounds; every address handed out stays inside.")
@click.option("--vlan", type=int, help="Another VLAN (only while no address is handed out).")
@click.option("--untagged", is_flag=True, help="Take the range off its VLAN (the same condition).")
def ip_range_update(range_id: int, addresses: str | None, vlan: int | None, untagged: bool) -> None:
    """Grow, shrink or retag a range (its id is in `ip-range list`; gateway and prefix length stay)."""
    if vlan is not None and untagged:
        raise click.UsageError("give --vlan or --untagged, not both")
    first, last = split_range(addresses, "203.0.113.10-203.0.113.250") if addresses else (UNCHANGED, UNCHANGED)
    changes = IpRangeChanges(first=first, last=last, vlan=None if untagged else or_unchanged(vlan))
    run(lambda ctx: networks.update_ip_range(ctx, range_id, changes))
    click.echo(f"updated IP range {range_id}")


@ip_range.command("delete")
@click.argument("range_id", metavar="ID", type=int)
def ip_range_delete(range_id: int) -> None:
    """Remove a range none of whose addresses is in use (its id is in `ip-range list`)."""
    run(lambda ctx: networks.remove_ip_range(ctx, range_id))
    click.echo(f"removed IP range {range_id}")
