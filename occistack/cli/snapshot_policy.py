"""``occistack snapshot policy``: recurring snapshots of a volume or a compute's root disk, of
every project, run by the workers at a UTC time each hour, day, week or month, keeping the newest
``--keep`` of them."""

from __future__ import annotations

import click

from occistack.cli.base import OrderedGroup, document, fail, json_option, print_document, print_rows, run
from occistack.plane.admin.cases import snapshot_policies as policies
from occistack.plane.admin.cases.snapshot_policies import PolicyChange, PolicyRequest
from occistack.plane.snapshot_schedule import INTERVALS

COLUMNS = ("id", "project_id", "source", "of", "interval", "minute", "hour", "day", "retention", "snapshots",
           "next_run_at", "last_message")

_interval = click.option("--interval", type=click.Choice(INTERVALS), help="How often it runs.")
_minute = click.option("--minute", type=int, help="The minute it runs at (0-59).")
_hour = click.option("--hour", type=int, help="The hour it runs at, UTC (0-23; not for hourly).")
_day = click.option("--day", type=int, help="Weekly: 0 (Monday) to 6 (Sunday); monthly: 1 to 28.")
_keep = click.option("--keep", "retention", type=int, help="How many of its snapshots to keep (the newest).")


@click.group("policy", cls=OrderedGroup)
def policy() -> None:
    """Recurring snapshot policies (times are UTC)."""


def _row(record: policies.PolicyRecord) -> dict:
    return document(record, of=record.volume_id or record.compute_id)


@policy.command("add")
@click.option("--volume", help="The storage (volume) id to snapshot.")
@click.option("--compute", help="The compute id whose root disk to snapshot.")
@_interval
@_minute
@_hour
@_day
@_keep
@json_option
def policy_add(volume: str | None, compute: str | None, interval: str | None, minute: int | None,
               hour: int | None, day: int | None, retention: int | None, as_json: bool) -> None:
    """Add a policy to a volume or a compute's root disk."""
    if (volume is None) == (compute is None):
        fail("give --volume or --compute (one of them)")
    if interval is None or retention is None:
        fail(f"give --interval ({', '.join(INTERVALS)}) and --keep (how many snapshots to keep)")
    record = run(lambda ctx: policies.create_policy(ctx, PolicyRequest(
        volume_id=volume, compute_id=compute, interval=interval, retention=retention, minute=minute or 0,
        hour=hour or 0, day=day)))
    print_document(_row(record), as_json,
                   f"snapshot policy {record.id}: {record.interval}, next run {record.next_run_at:%Y-%m-%d %H:%M} "
                   f"UTC, keeping {record.retention}")


@policy.command("list")
@click.option("--volume", help="Only the policies of this storage id.")
@click.option("--compute", help="Only the policies of this compute's root disk.")
@click.option("--project", type=int, help="Only this project's (its id).")
@json_option
def policy_list(volume: str | None, compute: str | None, project: int | None, as_json: bool) -> None:
    """List the snapshot policies."""
    records = run(lambda ctx: policies.list_policies(ctx, volume_id=volume, compute_id=compute, project_id=project))
    print_rows([_row(record) for record in records], COLUMNS, as_json)


@policy.command("update")
@click.argument("policy_id", type=int)
@_interval
@_minute
@_hour
@_day
@_keep
@json_option
def policy_update(policy_id: int, interval: str | None, minute: int | None, hour: int | None, day: int | None,
                  retention: int | None, as_json: bool) -> None:
    """Change a policy's schedule or how many snapshots it keeps."""
    change = PolicyChange(interval=interval, retention=retention, minute=minute, hour=hour, day=day)
    if change == PolicyChange():
        fail("give what to change: --interval, --minute, --hour, --day or --keep")
    record = run(lambda ctx: policies.update_policy(ctx, policy_id, change))
    print_document(_row(record), as_json,
                   f"snapshot policy {record.id}: {record.interval}, next run {record.next_run_at:%Y-%m-%d %H:%M} "
                   f"UTC, keeping {record.retention}")


@policy.command("remove")
@click.argument("policy_id", type=int)
def policy_remove(policy_id: int) -> None:
    """Remove a policy; the snapshots it took stay."""
    run(lambda ctx: policies.delete_policy(ctx, policy_id))
    click.echo(f"snapshot policy {policy_id} removed; the snapshots it took are kept")
