"""``occistack quota``: the most of each resource a project may hold -- and, above the projects,
an account's or a domain's projects together (CloudStack's resource limits)."""

from __future__ import annotations

import click

from occistack.model import QUOTA_RESOURCES
from occistack.plane.admin.cases import limits, users
from occistack.plane.admin.cases.limits import NewTenancyLimit, TenancyLimitFilter, TenancyLimitOf
from occistack.plane.admin.cases.users import QuotaLimit, QuotaOf
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run

resource_argument = click.argument("resource", metavar="RESOURCE", type=click.Choice(tuple(QUOTA_RESOURCES)))
project_option = click.option("--project", help="The project whose quota it is.")
account_option = click.option("--account", help="Instead of a project: an account, for all its projects together.")
domain_option = click.option("--domain", help="Instead of a project: a domain, for all the projects of it and its "
                                              "subdomains together (with --account: the account's domain).")


def _whose(project: str | None, account: str | None, domain: str | None) -> str:
    if project is not None and (account is not None or domain is not None):
        raise click.UsageError("give --project, or --account (with its --domain) or --domain, not both")
    if project is None and account is None and domain is None:
        raise click.UsageError("give --project, --account or --domain")
    if project is not None:
        return f"project {project}"
    return f"account {account}" if account is not None else f"domain {domain}"


@click.group(cls=OrderedGroup)
def quota() -> None:
    """Project quotas, and limits of accounts and domains (no quota or limit means no limit)."""


@quota.command("set", help=f"Limit RESOURCE ({', '.join(QUOTA_RESOURCES)}) to LIMIT (0 or more) for a project, "
                           "or for all the projects of an account or of a domain together. A project's quota may not "
                           "exceed its account's or domains' limits, nor an account's its domains'.")
@project_option
@account_option
@domain_option
@resource_argument
@click.argument("limit", type=float)
def quota_set(project: str | None, account: str | None, domain: str | None, resource: str, limit: float) -> None:
    whose = _whose(project, account, domain)
    if project is not None:
        set_to = run(lambda ctx: users.set_quota(ctx, QuotaLimit(project=project, resource=resource,
                                                                  limit=limit)).quota.limit)
        click.echo(f"{whose} may hold {set_to:g} {QUOTA_RESOURCES[resource]}")
        return
    new = NewTenancyLimit(resource=resource, limit=limit, domain=domain, account=account)
    set_to = run(lambda ctx: limits.set_limit(ctx, new).limit.limit)
    click.echo(f"the projects of {whose} may hold {set_to:g} {QUOTA_RESOURCES[resource]} together")


@quota.command("clear")
@project_option
@account_option
@domain_option
@resource_argument
def quota_clear(project: str | None, account: str | None, domain: str | None, resource: str) -> None:
    """Remove a project's (or an account's, or a domain's) limit on RESOURCE."""
    whose = _whose(project, account, domain)
    if project is not None:
        run(lambda ctx: users.clear_quota(ctx, QuotaOf(project=project, resource=resource)))
    else:
        run(lambda ctx: limits.clear_limit(ctx, TenancyLimitOf(resource=resource, domain=domain, account=account)))
    click.echo(f"{whose} has no {resource} limit now")


@quota.command("list")
@click.option("--project", help="Only this project's.")
@json_option
def quota_list(project: str | None, as_json: bool) -> None:
    """List project quotas, each with what its project holds now beside the limit."""
    def work(ctx):
        return [document(quota, project=quota.project_name, used=quota.used, unit=QUOTA_RESOURCES[quota.resource])
                for quota in users.list_quotas(ctx, project)]

    print_rows(run(work), ("id", "project", "resource", "used", "limit", "unit"), as_json)


@quota.command("limits")
@click.option("--account", help="Only this account's.")
@click.option("--domain", help="Only this domain's (with --account: the account's domain).")
@json_option
def quota_limits(account: str | None, domain: str | None, as_json: bool) -> None:
    """List the limits of accounts and domains, each with what their projects hold together now."""
    def work(ctx):
        return [document(limit, owner=limit.owner, used=limit.used, unit=QUOTA_RESOURCES[limit.resource])
                for limit in limits.list_limits(ctx, TenancyLimitFilter(domain=domain, account=account))]

    print_rows(run(work), ("id", "owner", "resource", "used", "limit", "unit"), as_json)
