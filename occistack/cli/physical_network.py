"""``occistack physical-network``: a zone's physical networks and their guest VLAN ranges."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import networks
from occistack.plane.admin.cases.common import UNCHANGED
from occistack.plane.admin.cases.networks import NewPhysicalNetwork, NewVlanRange, PhysicalNetworkChanges
from occistack.cli.base import OrderedGroup, comma_list, document, json_option, or_unchanged, print_rows, run

zone_option = click.option("--zone", required=True, help="The zone of the physical network.")


@click.group("physical-network", cls=OrderedGroup)
def physical_network() -> None:
    """Physical networks of a zone and their VLAN ranges."""


@physical_network.command("create")
@zone_option
@click.argument("name")
@click.option("--traffic-type", "traffic_types", multiple=True,
              help=f"Traffic it carries: {', '.join(admin.TRAFFIC_TYPES)} (repeat, or separate with commas) "
                   "[default: guest].")
@click.option("--isolation", type=click.Choice(admin.ISOLATION_METHODS), default="VLAN", show_default=True)
@click.option("--bridge", help="The host bridge the traffic goes out on (like cloudbr0).")
@click.option("--vlan", "vlans", multiple=True, metavar="FIRST-LAST", help="A guest VLAN range (repeat for more).")
def physical_network_create(zone: str, name: str, traffic_types: tuple[str, ...], isolation: str,
                            bridge: str | None, vlans: tuple[str, ...]) -> None:
    """Add a physical network to a zone, with its VLAN ranges."""
    created = run(lambda ctx: networks.add_physical_network(ctx, NewPhysicalNetwork(
        zone=zone, name=name, traffic_types=comma_list(traffic_types) or ["guest"], isolation=isolation,
        bridge=bridge, vlan_ranges=list(vlans))).id)
    click.echo(f"created physical network {name} in zone {zone} (id {created})")
    for vlan in vlans:
        click.echo(f"added VLAN range {vlan}")


@physical_network.command("update")
@zone_option
@click.argument("name")
@click.option("--name", "new_name", help="A new name, unique in the zone.")
@click.option("--traffic-type", "traffic_types", multiple=True,
              help="The traffic it carries, replacing the old (repeat, or separate with commas; only while no "
                   "guest network uses it).")
@click.option("--bridge", help="The host bridge the traffic goes out on (\"\" for none; the same condition).")
def physical_network_update(zone: str, name: str, new_name: str | None, traffic_types: tuple[str, ...],
                            bridge: str | None) -> None:
    """Rename a physical network, or change its traffic types or bridge (its isolation stays;
    VLAN ranges have add-vlan and remove-vlan)."""
    changes = PhysicalNetworkChanges(name=or_unchanged(new_name),
                                     traffic_types=comma_list(traffic_types) if traffic_types else UNCHANGED,
                                     bridge=None if bridge == "" else or_unchanged(bridge))
    run(lambda ctx: networks.update_physical_network(ctx, name, changes, zone=zone))
    click.echo(f"updated physical network {new_name or name} in zone {zone}")


@physical_network.command("add-vlan")
@zone_option
@click.argument("name")
@click.argument("vlan_range", metavar="FIRST-LAST")
def physical_network_add_vlan(zone: str, name: str, vlan_range: str) -> None:
    """Add a guest VLAN range to a physical network."""
    def work(ctx):
        first, last = admin.vlan_bounds(vlan_range)
        return networks.add_vlan_range(ctx, name, NewVlanRange(first=first, last=last), zone=zone)

    run(work)
    click.echo(f"added VLAN range {vlan_range} to physical network {name}")


@physical_network.command("remove-vlan")
@zone_option
@click.argument("name")
@click.argument("vlan_range", metavar="FIRST-LAST")
def physical_network_remove_vlan(zone: str, name: str, vlan_range: str) -> None:
    """Remove a VLAN range that no guest network uses."""
    run(lambda ctx: networks.remove_vlan_range(ctx, name, vlan_range, zone=zone))
    click.echo(f"removed VLAN range {vlan_range} from physical network {name}")


@physical_network.command("list")
@click.option("--zone", help="Only this zone's.")
@json_option
def physical_network_list(zone: str | None, as_json: bool) -> None:
    """List physical networks with their VLAN ranges."""
    def work(ctx):
        return [document(network, traffic_types=",".join(network.traffic_types), zone=network.zone_name,
                         vlan_ranges=", ".join(f"{vlan.first_vlan}-{vlan.last_vlan}" for vlan in network.vlan_ranges))
                for network in networks.list_physical_networks(ctx, zone)]

    print_rows(run(work), ("id", "zone", "name", "traffic_types", "isolation", "bridge", "vlan_ranges"), as_json)


@physical_network.command("delete")
@zone_option
@click.argument("name")
def physical_network_delete(zone: str, name: str) -> None:
    """Remove a physical network (and its VLAN ranges) that no guest network uses."""
    run(lambda ctx: networks.remove_physical_network(ctx, name, zone=zone))
    click.echo(f"removed physical network {name} from zone {zone}")
