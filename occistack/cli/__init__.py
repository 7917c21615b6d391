"""The ``occistack`` command line: the database, demo data, and the site administrator's tools
for building a cloud and its tenancy, in CloudStack's order (zone → physical network → pod →
cluster → host → primary storage → secondary storage → IP ranges → offerings → templates and
ISOs; then domains, accounts, projects, users, memberships, quotas and affinity groups), and for reading it
back (events, capacity).

Every command reads the same ini file as the server (``-c development.ini`` by default), so a
site administrator configures the database in one place, and runs in one transaction: a command
that is refused prints ``error: <message>``, exits with status 1 and changes nothing.

One module per command group; a new group is one more module and one more line in COMMANDS.
"""

from __future__ import annotations

import click

from occistack.cli import (
    account,
    affinity_group,
    agents,
    capacity,
    cluster,
    db,
    demo,
    domain,
    events,
    host,
    ip_range,
    membership,
    offering,
    physical_network,
    pod,
    project,
    quota,
    region,
    secondary_storage,
    storage,
    templates,
    user,
    worker,
    zone,
)
from occistack.cli.base import OrderedGroup

COMMANDS = (
    db.db, demo.demo,
    region.region, zone.zone, physical_network.physical_network, pod.pod, cluster.cluster, host.host,
    storage.storage, secondary_storage.secondary_storage, ip_range.ip_range, offering.offering,
    templates.template, templates.iso,
    domain.domain, account.account, project.project, user.user, membership.membership, quota.quota, affinity_group.affinity_group,
    events.events, capacity.capacity, worker.worker, agents.simulated_hosts,
)


@click.group(cls=OrderedGroup)
@click.option("-c", "--config", "config_path", default="development.ini", show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="The server's ini file.")
@click.pass_context
def main(context: click.Context, config_path: str) -> None:
    """Administer an occistack cloud."""
    context.obj = {"config": config_path}


for _command in COMMANDS:
    main.add_command(_command)
