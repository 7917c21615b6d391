"""``occistack project``: projects, whose users share their resources and quotas."""

from __future__ import annotations

import click

from occistack.plane.admin.cases import tenancy
from occistack.plane.admin.cases.tenancy import DefaultNetwork, NewProject, ProjectChanges, ProjectFilter
from occistack.model.occi import infrastructure as infra
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run


@click.group(cls=OrderedGroup)
def project() -> None:
    """Projects."""


@project.command("create")
@click.argument("name")
@click.option("--title", help="A description for people.")
@click.option("--domain", help="The path of its domain [default: the account's, or /].")
@click.option("--account", help="The account that owns it (an account of the domain).")
def project_create(name: str, title: str | None, domain: str | None, account: str | None) -> None:
    """Create a project, with the site's default quotas (occistack.default_quotas)."""
    created = run(lambda ctx: tenancy.add_project(ctx, NewProject(name=name, title=title, domain=domain,
                                                                  account=account)).id)
    click.echo(f"created project {name} (id {created})")


@project.command("update")
@click.argument("name")
@click.option("--title", help="A new title (\"\" clears it).")
@click.option("--account", help="The account that owns it now (an account of its domain).")
@click.option("--no-account", is_flag=True, help="No account owns it any more.")
def project_update(name: str, title: str | None, account: str | None, no_account: bool) -> None:
    """Change a project's title or owning account (its name and domain stay)."""
    if account is not None and no_account:
        raise click.UsageError("give --account or --no-account, not both")
    changes = ProjectChanges(title=or_unchanged(title), account=None if no_account else or_unchanged(account))
    run(lambda ctx: tenancy.update_project(ctx, name, changes))
    click.echo(f"updated project {name}")


@project.command("list")
@click.option("--domain", help="Only this domain's.")
@json_option
def project_list(domain: str | None, as_json: bool) -> None:
    """List projects."""
    def work(ctx):
        return [document(project, domain=project.domain_path, account=project.account_name)
                for project in tenancy.list_projects(ctx, ProjectFilter(domain=domain))]

    print_rows(run(work), ("id", "name", "domain", "account", "title"), as_json)


@project.command("delete")
@click.argument("name")
def project_delete(name: str) -> None:
    """Remove a project without users or resources (its quotas go with it)."""
    run(lambda ctx: tenancy.remove_project(ctx, name))
    click.echo(f"removed project {name}")


@project.command("default-network")
@click.argument("name")
@click.argument("network", required=False)
@click.option("--zone", help="The zone whose default to clear (with no NETWORK), or to check NETWORK against.")
def project_default_network(name: str, network: str | None, zone: str | None) -> None:
    """Choose the network (its id, or /network/<id>) the project's computes created without a
    network link join in that network's zone; with --zone and no NETWORK, clear that zone's
    choice (they then join the zone's public network, or the project's only network)."""
    choice = DefaultNetwork(zone=zone, network=infra.NETWORK.id_named_by(network) if network is not None else None)
    defaults = run(lambda ctx: tenancy.set_default_network(ctx, name, choice).default_networks)
    shown = ", ".join(f"{zone_name}: {infra.NETWORK.location_of(chosen)}" for zone_name, chosen in defaults.items())
    click.echo(f"default networks of project {name}: {shown or 'none chosen'}")
