"""``occistack host``: hypervisor hosts, and what the administrator lets them do."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.model import BARE_METAL
from occistack.plane.admin.cases import hosts
from occistack.plane.admin.cases.common import UNCHANGED
from occistack.plane.admin.cases.hosts import HostAction, HostBmc, HostChanges, HostFilter, NewHost
from occistack.plane.tenant import admin_vms
from occistack.plane.tenant.admin_vms import VmFilter
from occistack.cli.progress import Step, timeout_option, wait_for, wait_option
from occistack.cli.base import (
    OrderedGroup,
    comma_list,
    document,
    json_option,
    or_unchanged,
    print_document,
    print_rows,
    run,
)


@click.group(cls=OrderedGroup)
def host() -> None:
    """Hosts of a cluster."""


@host.command("add")
@click.option("--zone", required=True, help="The zone of the cluster.")
@click.option("--pod", required=True, help="The pod of the cluster.")
@click.option("--cluster", required=True, help="The cluster the host joins.")
@click.argument("name")
@click.option("--address", required=True, help="The management address its agent connects from.")
@click.option("--cpu-sockets", type=int, default=1, show_default=True)
@click.option("--cpu-cores", type=int, required=True, help="Cores in all (every socket's).")
@click.option("--cpu-mhz", type=int, required=True, help="The speed of one core.")
@click.option("--memory-mib", type=int, required=True)
@click.option("--cpu-overcommit", type=float,
              help="At least 1 (default: the global setting hosts.cpu_overcommit, 1 unless changed).")
@click.option("--memory-overcommit", type=float,
              help="At least 1 (default: the global setting hosts.memory_overcommit, 1 unless changed).")
@click.option("--tag", "tags", multiple=True, help="A host tag offerings can ask for (repeat for more).")
@json_option
def host_add(zone: str, pod: str, cluster: str, name: str, address: str, cpu_sockets: int, cpu_cores: int,
             cpu_mhz: int, memory_mib: int, cpu_overcommit: float, memory_overcommit: float, tags: tuple[str, ...],
             as_json: bool) -> None:
    """Add a host; prints the token its agent authenticates with, this once."""
    new = NewHost(zone=zone, pod=pod, cluster=cluster, name=name, address=address, cpu_sockets=cpu_sockets,
                  cpu_cores=cpu_cores, cpu_mhz=cpu_mhz, memory_mib=memory_mib, cpu_overcommit=cpu_overcommit,
                  memory_overcommit=memory_overcommit, tags=comma_list(tags))

    def work(ctx):
        added = hosts.add_host(ctx, new)
        return document(added.host), added.agent_token

    host_document, token = run(work)
    if token is None:
        print_document(host_document, as_json,
                       f"added bare-metal node {name} to cluster {cluster} (id {host_document['id']}); it runs no "
                       f"agent: record its BMC with 'occistack host bmc {name} …' and it is Up once the BMC answers")
        return
    print_document({**host_document, "agent_token": token}, as_json,
                   f"added host {name} to cluster {cluster} (id {host_document['id']})\n"
                   f"agent token (shown only now; only its hash is kept): {token}")


@host.command("update")
@click.argument("name")
@click.option("--tag", "tags", multiple=True, help="A host tag offerings can ask for, replacing the old ones "
                                                   "(repeat for more; \"\" clears them).")
@click.option("--cpu-overcommit", type=float, help="At least 1.")
@click.option("--memory-overcommit", type=float, help="At least 1.")
def host_update(name: str, tags: tuple[str, ...], cpu_overcommit: float | None,
                memory_overcommit: float | None) -> None:
    """Change a host's tags or overcommit factors (its name, address, cluster and capacity stay)."""
    changes = HostChanges(tags=comma_list(tags) or None if tags else UNCHANGED,
                          cpu_overcommit=or_unchanged(cpu_overcommit), memory_overcommit=or_unchanged(memory_overcommit))
    run(lambda ctx: hosts.update_host(ctx, name, changes))
    click.echo(f"updated host {name}")


@host.command("list")
@click.option("--zone", help="Only this zone's.")
@click.option("--pod", help="Only this pod's (needs --zone).")
@click.option("--cluster", help="Only this cluster's (needs --pod and --zone).")
@json_option
def host_list(zone: str | None, pod: str | None, cluster: str | None, as_json: bool) -> None:
    """List hosts with their state and reserved capacity."""
    def work(ctx):
        return [document(host, cluster=host.cluster_name, cpu=f"{host.cpu_used_mhz}/{host.cpu_total_mhz} MHz",
                         memory=f"{host.memory_used_mib}/{host.memory_mib} MiB", guests=host.guests)
                for host in hosts.list_hosts(ctx, HostFilter(zone=zone, pod=pod, cluster=cluster))]

    print_rows(run(work), ("id", "name", "cluster", "address", "status", "resource_state", "guests", "cpu", "memory",
                           "tags"), as_json)


def _state_command(action: HostAction, summary: str):
    @host.command(action.value, help=summary)
    @click.argument("host_name", metavar="NAME")
    def command(host_name: str) -> None:
        record = run(lambda ctx: hosts.act_on_host(ctx, host_name, action))
        left = (f": {record.guests} guest{'' if record.guests == 1 else 's'} left to migrate away "
                "('occistack host list' follows them)" if record.resource_state == "prepare_for_maintenance" else "")
        click.echo(f"host {host_name} is {admin.RESOURCE_STATE_WORDS[record.resource_state]}{left}")

    return command


@host.command(HostAction.MAINTENANCE.value)
@click.argument("host_name", metavar="NAME")
@wait_option
@timeout_option
def host_maintenance(host_name: str, wait: bool, timeout_seconds: float | None) -> None:
    """Put the host into maintenance: its guests are migrated away (live when they run), and it
    is in maintenance once the last has left; given again, it retries those still there."""
    record = run(lambda ctx: hosts.act_on_host(ctx, host_name, HostAction.MAINTENANCE))
    preparing = record.resource_state == "prepare_for_maintenance"
    left = (f": {record.guests} guest{'' if record.guests == 1 else 's'} left to migrate away"
            + ("" if wait else " ('occistack host list' follows them)") if preparing else "")
    click.echo(f"host {host_name} is {admin.RESOURCE_STATE_WORDS[record.resource_state]}{left}")
    if wait and preparing:
        _wait_for_maintenance(host_name, record.guests, timeout_seconds)


def _wait_for_maintenance(host_name: str, guests: int, timeout_seconds: float | None) -> None:
    """--wait: until the host is in maintenance. Guests left on it with none of them migrating
    any more could not be moved (each one's reason is in the event log): that ends the wait too."""
    def read(ctx) -> list[Step]:
        now = hosts.show_host(ctx, host_name)
        there = admin_vms.list_vms(ctx, VmFilter(host=host_name))
        done = now.resource_state == "maintenance"
        stuck = not done and there and not any(vm.state == "migrating" for vm in there)
        percent = 100 * (guests - len(there)) // max(guests, 1)
        return [Step(f"host {host_name}", percent, done or bool(stuck),
                     f"{len(there)} guest{'' if len(there) == 1 else 's'} could not be moved "
                     f"({', '.join(vm.id for vm in there)}); `occistack events` says why, and giving "
                     "`host maintenance` again retries them" if stuck else None)]

    wait_for(read, "migrating guests away", timeout_seconds=timeout_seconds)
    click.echo(f"host {host_name} is in maintenance")


host_enable = _state_command(HostAction.ENABLE, "Let placement use the host again.")
host_disable = _state_command(HostAction.DISABLE, "Keep placement off the host; what runs there keeps running.")
host_cancel_maintenance = _state_command(HostAction.CANCEL_MAINTENANCE,
                                         "Bring the host back from maintenance, enabled.")


@host.command("delete")
@click.argument("name")
def host_delete(name: str) -> None:
    """Remove a host no virtual machine is on."""
    run(lambda ctx: hosts.remove_host(ctx, name))
    click.echo(f"removed host {name}")


@host.command("bmc")
@click.argument("name")
@click.option("--address", required=True, help="The BMC's IP address or host name (IPMI over LAN).")
@click.option("--port", type=int, default=623, show_default=True)
@click.option("--username", required=True)
@click.option("--password-file", type=click.File("r"),
              help="A file holding the password (else it is asked for, unechoed).")
def host_bmc(name: str, address: str, port: int, username: str, password_file) -> None:
    """Record the host's BMC, through which HA fences it when its agent stops answering (a
    bare-metal node: through which it is switched on and off; a worker checks that it answers).
    The password is sealed with the site's secret key."""
    password = password_file.read().strip() if password_file else click.prompt("BMC password", hide_input=True)
    bmc = HostBmc(address=address, port=port, username=username, password=password)
    node = run(lambda ctx: hosts.set_host_bmc(ctx, name, bmc).hypervisor == BARE_METAL)
    if node:
        click.echo(f"bare-metal node {name} is switched through the BMC at {address}:{port}; it is Up once a worker "
                   "has reached the BMC ('occistack host list' shows it, 'occistack events' says why not)")
    else:
        click.echo(f"host {name} is fenced through the BMC at {address}:{port}")


@host.command("clear-bmc")
@click.argument("name")
def host_clear_bmc(name: str) -> None:
    """Forget the host's BMC (HA can then no longer fence it, nor restart its VMs elsewhere)."""
    run(lambda ctx: hosts.act_on_host(ctx, name, HostAction.CLEAR_BMC))
    click.echo(f"host {name} has no BMC any more")
