"""``occistack config``: the global settings an administrator may change while the cloud runs;
``occistack alerts``: what asks for an operator's attention."""

from __future__ import annotations

import click

from occistack.plane.admin.cases import operations
from occistack.plane.admin.cases.operations import SettingChange
from occistack.plane.alerts import ALERT_KINDS
from occistack.cli.base import OrderedGroup, document, fail, json_option, print_document, print_rows, run


@click.group(cls=OrderedGroup)
def config() -> None:
    """Global settings: tunables kept in the database, in force at once in every process."""


@config.command("list")
@click.option("--long", "long_", is_flag=True, help="Also show each setting's range and what it does.")
@json_option
def config_list(long_: bool, as_json: bool) -> None:
    """List the settings: value, default (the ini file's) and whether it was changed."""
    rows = [document(record) for record in run(operations.list_settings)]
    columns = ("name", "value", "default", "changed", "unit")
    if long_:
        columns += ("minimum", "maximum", "updated_by", "description")
    print_rows(rows, columns, as_json)


@config.command("show")
@click.argument("name")
@json_option
def config_show(name: str, as_json: bool) -> None:
    """Show one setting, with its range and what it does."""
    record = document(run(lambda ctx: operations.show_setting(ctx, name)))
    print_document(record, as_json, "\n".join(f"{key}: {'-' if value is None else value}"
                                              for key, value in record.items()))


@config.command("set")
@click.argument("name")
@click.argument("value")
def config_set(name: str, value: str) -> None:
    """Give the setting NAME the value VALUE (checked against its range)."""
    record = run(lambda ctx: operations.change_setting(ctx, SettingChange(name, value)))
    click.echo(f"{record.name} = {record.value:g} (default {record.default:g})")


@config.command("reset")
@click.argument("name")
def config_reset(name: str) -> None:
    """Put the setting NAME back to its default (the ini file's value)."""
    record = run(lambda ctx: operations.reset_setting(ctx, name))
    click.echo(f"{record.name} = {record.value:g} (its default)")


@click.group(cls=OrderedGroup)
def alerts() -> None:
    """Alerts: hosts down, failed fencing, zones nearly full, failed template downloads."""


@alerts.command("list")
@click.option("--kind", type=click.Choice(ALERT_KINDS), help="Only alerts of this kind.")
@json_option
def alerts_list(kind: str | None, as_json: bool) -> None:
    """List the alerts standing, newest first."""
    rows = [document(alert) for alert in run(lambda ctx: operations.list_alerts(ctx, kind))]
    print_rows(rows, ("id", "created_at", "kind", "resource_type", "resource_id", "message"), as_json)


@alerts.command("clear")
@click.argument("alert_id", metavar="ID", type=int, required=False)
@click.option("--all", "clear_all", is_flag=True, help="Clear every alert.")
def alerts_clear(alert_id: int | None, clear_all: bool) -> None:
    """Clear the alert ID (from `alerts list`), or every alert with --all."""
    if (alert_id is None) == (not clear_all):
        fail("give an alert's ID or --all (not both)")
    if clear_all:
        click.echo(f"{run(operations.clear_all_alerts).count} alert(s) cleared")
        return
    cleared = run(lambda ctx: operations.clear_alert(ctx, alert_id))
    click.echo(f"alert {cleared.id} cleared ({cleared.kind})")
