"""``occistack pod``: pods, the racks of a zone that share a management subnet."""

from __future__ import annotations

import click

from occistack.plane.admin.cases import inventory
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.inventory import NewPod, PodChanges
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run, split_range

zone_option = click.option("--zone", required=True, help="The zone of the pod.")


@click.group(cls=OrderedGroup)
def pod() -> None:
    """Pods of a zone."""


@pod.command("create")
@zone_option
@click.argument("name")
@click.option("--cidr", required=True, help="The management subnet, like 10.0.1.0/24.")
@click.option("--gateway", required=True, help="Its gateway, like 10.0.1.1.")
@click.option("--management-range", metavar="FIRST-LAST",
              help="The addresses of the subnet reserved for management, like 10.0.1.10-10.0.1.50.")
def pod_create(zone: str, name: str, cidr: str, gateway: str, management_range: str | None) -> None:
    """Create a pod, with its management IP range."""
    first, last = split_range(management_range, "10.0.1.10-10.0.1.50") if management_range else (None, None)
    created = run(lambda ctx: inventory.add_pod(ctx, NewPod(
        zone=zone, name=name, cidr=cidr, gateway=gateway, management_first=first, management_last=last)).id)
    click.echo(f"created pod {name} in zone {zone} (id {created})")


@pod.command("update")
@zone_option
@click.argument("name")
@click.option("--name", "new_name", help="A new name, unique in the zone.")
@click.option("--cidr", help="A new management subnet (only while no host or management range is in the pod).")
@click.option("--gateway", help="A new gateway (the same condition).")
def pod_update(zone: str, name: str, new_name: str | None, cidr: str | None, gateway: str | None) -> None:
    """Rename a pod, or change its management subnet or gateway."""
    changes = PodChanges(name=or_unchanged(new_name), cidr=or_unchanged(cidr), gateway=or_unchanged(gateway))
    run(lambda ctx: inventory.update_pod(ctx, name, changes, zone=zone))
    click.echo(f"updated pod {new_name or name} in zone {zone}")


@pod.command("list")
@click.option("--zone", help="Only this zone's.")
@json_option
def pod_list(zone: str | None, as_json: bool) -> None:
    """List pods."""
    def work(ctx):
        return [document(pod, zone=pod.zone_name) for pod in inventory.list_pods(ctx, zone)]

    print_rows(run(work), ("id", "zone", "name", "cidr", "gateway", "enabled"), as_json)


@pod.command("enable")
@zone_option
@click.argument("name")
def pod_enable(zone: str, name: str) -> None:
    """Let placement use the pod again."""
    run(lambda ctx: inventory.act_on_pod(ctx, name, Switch.ENABLE, zone=zone))
    click.echo(f"pod {name} is enabled")


@pod.command("disable")
@zone_option
@click.argument("name")
def pod_disable(zone: str, name: str) -> None:
    """Keep placement off the pod; what runs there keeps running."""
    run(lambda ctx: inventory.act_on_pod(ctx, name, Switch.DISABLE, zone=zone))
    click.echo(f"pod {name} is disabled")


@pod.command("delete")
@zone_option
@click.argument("name")
def pod_delete(zone: str, name: str) -> None:
    """Remove an empty pod (and its management ranges)."""
    run(lambda ctx: inventory.remove_pod(ctx, name, zone=zone))
    click.echo(f"removed pod {name} from zone {zone}")
