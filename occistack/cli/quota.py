"""``occistack quota``: the most of each resource a project may hold."""

from __future__ import annotations

import click

from occistack.model import QUOTA_RESOURCES
from occistack.plane.admin.cases import users
from occistack.plane.admin.cases.users import QuotaLimit, QuotaOf
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run

resource_argument = click.argument("resource", metavar="RESOURCE", type=click.Choice(tuple(QUOTA_RESOURCES)))


@click.group(cls=OrderedGroup)
def quota() -> None:
    """Project quotas (no quota means no limit)."""


@quota.command("set", help=f"Limit a project's RESOURCE ({', '.join(QUOTA_RESOURCES)}) to LIMIT (0 or more).")
@click.option("--project", required=True)
@resource_argument
@click.argument("limit", type=float)
def quota_set(project: str, resource: str, limit: float) -> None:
    set_to = run(lambda ctx: users.set_quota(ctx, QuotaLimit(project=project, resource=resource,
                                                              limit=limit)).quota.limit)
    click.echo(f"project {project} may hold {set_to:g} {QUOTA_RESOURCES[resource]}")


@quota.command("clear")
@click.option("--project", required=True)
@resource_argument
def quota_clear(project: str, resource: str) -> None:
    """Remove a project's limit on RESOURCE."""
    run(lambda ctx: users.clear_quota(ctx, QuotaOf(project=project, resource=resource)))
    click.echo(f"project {project} has no {resource} limit now")


@quota.command("list")
@click.option("--project", help="Only this project's.")
@json_option
def quota_list(project: str | None, as_json: bool) -> None:
    """List quotas."""
    def work(ctx):
        return [document(quota, project=quota.project_name, unit=QUOTA_RESOURCES[quota.resource])
                for quota in users.list_quotas(ctx, project)]

    print_rows(run(work), ("id", "project", "resource", "limit", "unit"), as_json)
