"""``occistack account``: accounts, which own projects, in a domain."""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.admin.cases import tenancy
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.tenancy import AccountChanges, NewAccount
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run

domain_option = click.option("--domain", default="/", show_default=True, help="The path of the account's domain.")


@click.group(cls=OrderedGroup)
def account() -> None:
    """Accounts of a domain."""


@account.command("create")
@click.argument("name")
@domain_option
@click.option("--kind", type=click.Choice(admin.ACCOUNT_KINDS), default="user", show_default=True)
def account_create(name: str, domain: str, kind: str) -> None:
    """Create an account."""
    created = run(lambda ctx: tenancy.add_account(ctx, NewAccount(name=name, domain=domain, kind=kind)).id)
    click.echo(f"created account {name} in domain {admin.domain_path(domain)} (id {created})")


@account.command("update")
@click.argument("name")
@domain_option
@click.option("--name", "new_name", required=True, help="Its new name.")
def account_update(name: str, domain: str, new_name: str) -> None:
    """Rename an account (its kind and domain stay)."""
    run(lambda ctx: tenancy.update_account(ctx, name, AccountChanges(name=new_name), domain=domain))
    click.echo(f"updated account {new_name}")


@account.command("disable")
@click.argument("name")
@domain_option
def account_disable(name: str, domain: str) -> None:
    """Refuse every credential of every user of the account (what its projects own stays)."""
    run(lambda ctx: tenancy.act_on_account(ctx, name, Switch.DISABLE, domain=domain))
    click.echo(f"account {name} is disabled")


@account.command("enable")
@click.argument("name")
@domain_option
def account_enable(name: str, domain: str) -> None:
    """Accept the account's users again (each as enabled as they were)."""
    run(lambda ctx: tenancy.act_on_account(ctx, name, Switch.ENABLE, domain=domain))
    click.echo(f"account {name} is enabled")


@account.command("list")
@click.option("--domain", help="Only this domain's.")
@json_option
def account_list(domain: str | None, as_json: bool) -> None:
    """List accounts."""
    def work(ctx):
        return [document(account, domain=account.domain_path) for account in tenancy.list_accounts(ctx, domain)]

    print_rows(run(work), ("id", "domain", "name", "kind", "enabled"), as_json)


@account.command("delete")
@click.argument("name")
@domain_option
def account_delete(name: str, domain: str) -> None:
    """Remove an account that owns no project and has no users."""
    run(lambda ctx: tenancy.remove_account(ctx, name, domain=domain))
    click.echo(f"removed account {name}")
