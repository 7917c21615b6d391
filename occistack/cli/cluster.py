"""``occistack cluster``: clusters, the hosts of one hypervisor that share primary storage."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run


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
    created = run(lambda session, actor: admin.create_cluster(
        session, zone=zone, pod=pod, name=name, hypervisor=hypervisor, actor=actor).id)
    click.echo(f"created cluster {name} in pod {pod} of zone {zone} (id {created})")


@cluster.command("list")
@click.option("--zone", help="Only this zone's.")
@click.option("--pod", help="Only this pod's (needs --zone).")
@json_option
def cluster_list(zone: str | None, pod: str | None, as_json: bool) -> None:
    """List clusters."""
    def work(session, _actor):
        zones = {row.id: row.name for row in admin.list_zones(session)}
        pods = {row.id: row.name for row in admin.list_pods(session)}
        return [document(row, zone=zones[row.zone_id], pod=pods[row.pod_id])
                for row in admin.list_clusters(session, zone=zone, pod=pod)]

    print_rows(run(work), ("id", "zone", "pod", "name", "hypervisor", "enabled"), as_json)


@cluster.command("enable")
@where
@click.argument("name")
def cluster_enable(zone: str, pod: str, name: str) -> None:
    """Let placement use the cluster again."""
    run(lambda session, actor: admin.enable_cluster(session, name, pod=pod, zone=zone, actor=actor))
    click.echo(f"cluster {name} is enabled")


@cluster.command("disable")
@where
@click.argument("name")
def cluster_disable(zone: str, pod: str, name: str) -> None:
    """Keep placement off the cluster; what runs there keeps running."""
    run(lambda session, actor: admin.disable_cluster(session, name, pod=pod, zone=zone, actor=actor))
    click.echo(f"cluster {name} is disabled")


@cluster.command("delete")
@where
@click.argument("name")
def cluster_delete(zone: str, pod: str, name: str) -> None:
    """Remove a cluster without hosts or primary storage."""
    run(lambda session, actor: admin.remove_cluster(session, name, pod=pod, zone=zone, actor=actor))
    click.echo(f"removed cluster {name}")
