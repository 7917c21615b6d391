"""``occistack events``: the event log, newest first."""

from __future__ import annotations

from datetime import datetime

import click

from occistack.plane.admin.cases import reports
from occistack.plane.admin.cases.reports import EventFilter
from occistack.plane.admin.event_log import DEFAULT_EVENTS
from occistack.cli.base import document, json_option, print_rows, run


@click.command("events")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
              help="Only events at or after this time (UTC).")
@click.option("--project", help="Only events of this project.")
@click.option("--resource", metavar="TYPE[:ID]", help="Only events about these resources, like host or host:3.")
@click.option("--action", help="Only this action (like zone.create), or a group of actions (like zone).")
@click.option("--limit", type=int, default=DEFAULT_EVENTS, show_default=True)
@json_option
def events(since: datetime | None, project: str | None, resource: str | None, action: str | None, limit: int,
           as_json: bool) -> None:
    """List events, newest first."""
    where = EventFilter(since=since, project=project, resource=resource, action=action, limit=limit)
    rows = run(lambda ctx: [document(event) for event in reports.list_events(ctx, where)])
    print_rows(rows, ("created_at", "action", "state", "resource_type", "resource_id", "actor", "description"),
               as_json)
