"""``occistack cluster``: clusters, the hosts of one hypervisor that share primary storage."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import inventory
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.inventory import ClusterChanges, ClusterFilter, NewCluster
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run


def where(command):
    """--zone and --pod: a cluster's name is unique inside its pod."""
    command = click.option("--pod", required=True, help="The pod of the cluster.")(command)
    return click.option("--zone", required=True, help="The zone of the pod.")(command)


@click.group(cls=OrderedGroup)
def cluster() -> None:
    """Clusters of a pod."""


@cluster.command("create")
@where
@click.argument("name")
@click.option("--hypervisor", type=click.Choice(admin.HYPERVISORS), default="KVM", show_default=True)
def cluster_create(zone: str, pod: str, name: str, hypervisor: str) -> None:
    """Create a cluster."""
    created = run(lambda ctx: inventory.add_cluster(ctx, NewCluster(
        zone=zone, pod=pod, name=name, hypervisor=hypervisor)).id)
    click.echo(f"created cluster {name} in pod {pod} of zone {zone} (id {created})")


@cluster.command("update")
@where
@click.argument("name")
@click.option("--name", "new_name", help="A new name, unique in the pod.")
@click.option("--hypervisor", type=click.Choice(admin.HYPERVISORS), help="Another hypervisor (only while the "
                                                                          "cluster has no host).")
def cluster_update(zone: str, pod: str, name: str, new_name: str | None, hypervisor: str | None) -> None:
    """Rename a cluster, or change the hypervisor of one without hosts."""
    changes = ClusterChanges(name=or_unchanged(new_name), hypervisor=or_unchanged(hypervisor))
    run(lambda ctx: inventory.update_cluster(ctx, name, changes, pod=pod, zone=zone))
    click.echo(f"updated cluster {new_name or name} in pod {pod} of zone {zone}")


@cluster.command("list")
@click.option("--zone", help="Only this zone's.")
@click.option("--pod", help="Only this pod's (needs --zone).")
@json_option
def cluster_list(zone: str | None, pod: str | None, as_json: bool) -> None:
    """List clusters."""
    def work(ctx):
        return [document(cluster, zone=cluster.zone_name, pod=cluster.pod_name)
                for cluster in inventory.list_clusters(ctx, ClusterFilter(zone=zone, pod=pod))]

    print_rows(run(work), ("id", "zone", "pod", "name", "hypervisor", "enabled"), as_json)


@cluster.command("enable")
@where
@click.argument("name")
def cluster_enable(zone: str, pod: str, name: str) -> None:
    """Let placement use the cluster again."""
    run(lambda ctx: inventory.act_on_cluster(ctx, name, Switch.ENABLE, pod=pod, zone=zone))
    click.echo(f"cluster {name} is enabled")


@cluster.command("disable")
@where
@click.argument("name")
def cluster_disable(zone: str, pod: str, name: str) -> None:
    """Keep placement off the cluster; what runs there keeps running."""
    run(lambda ctx: inventory.act_on_cluster(ctx, name, Switch.DISABLE, pod=pod, zone=zone))
    click.echo(f"cluster {name} is disabled")


@cluster.command("delete")
@where
@click.argument("name")
def cluster_delete(zone: str, pod: str, name: str) -> None:
    """Remove a cluster without hosts or primary storage."""
    run(lambda ctx: inventory.remove_cluster(ctx, name, pod=pod, zone=zone))
    click.echo(f"removed cluster {name}")
