"""``occistack usage``: the hourly usage rows -- listed, exported (CSV or JSON), and aggregated
again on demand (the workers aggregate each hour once it has ended)."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from datetime import date, datetime, timedelta

import click

from occistack.model.accounting import USAGE_TYPES
from occistack.plane.admin.cases import usage
from occistack.plane.admin.cases.usage import MOST_ROWS, AggregationWindow, UsageFilter
from occistack.plane.admin.records import own_fields
from occistack.plane.admin.records.usage import UsageHourRecord
from occistack.plane.usage_hours import hour_of
from occistack.model import utcnow
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run

ACCEPTED_TIMES = "an ISO 8601 date or time (UTC), like 2026-12-01 or 2026-12-01T10:00:00"
FIELDS = tuple(field.name for field in own_fields(UsageHourRecord)) + ("project",)


class Moment(click.ParamType):
    """A date or a time; a bad one is refused naming what is accepted."""

    name = "TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not {ACCEPTED_TIMES}", param, ctx)
        return datetime(day.year, day.month, day.day)


MOMENT = Moment()
_from = click.option("--from", "start", type=MOMENT, help="Hours starting at or after this time (UTC).")
_to = click.option("--to", "end", type=MOMENT, help="Hours starting before this time (UTC).")
_project = click.option("--project", help="Only this project's usage (a name or an id).")
_type = click.option("--type", "usage_type", type=click.Choice(USAGE_TYPES), help="Only this type of usage.")


@click.group("usage", cls=OrderedGroup)
def usage_group() -> None:
    """Hourly usage: running and allocated VM hours, volume and template GiB-hours, public addresses."""


def _ref(project: str | None):
    return int(project) if project and project.isdigit() else project


@usage_group.command("list")
@_from
@_to
@_project
@_type
@click.option("--limit", type=click.IntRange(1, MOST_ROWS), default=100, show_default=True)
@json_option
def list_usage(start, end, project, usage_type, limit, as_json) -> None:
    """List hourly usage rows, oldest hour first."""
    where = UsageFilter(start=start, end=end, project=_ref(project), usage_type=usage_type, limit=limit)
    rows = run(lambda ctx: [document(record, project=record.project) for record in usage.list_usage(ctx, where).rows])
    print_rows(rows, ("hour", "usage_type", "resource_id", "project", "offering", "description", "hours",
                      "gib_hours"), as_json)


def _pages(ctx, where: UsageFilter):
    page = usage.list_usage(ctx, where)
    yield page.rows
    while page.next_after is not None:
        page = usage.list_usage(ctx, UsageFilter(start=where.start, end=where.end, project=where.project,
                                                 usage_type=where.usage_type, limit=MOST_ROWS,
                                                 after=page.next_after))
        yield page.rows


@usage_group.command("export")
@_from
@_to
@_project
@_type
@click.option("--format", "output_format", type=click.Choice(("csv", "json")), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
def export(start, end, project, usage_type, output_format, output) -> None:
    """Export every hourly usage row of the window (CSV with a header line, or a JSON list)."""
    where = UsageFilter(start=start, end=end, project=_ref(project), usage_type=usage_type, limit=MOST_ROWS)
    stream = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout

    def write(ctx) -> int:
        written = 0
        pages = _pages(ctx, where)
        first = next(pages)  # a refusal (an unknown project, from > to) before anything is written
        if output_format == "csv":
            writer = csv.writer(stream)
            writer.writerow(FIELDS)
        else:
            stream.write("[")
        for rows in itertools.chain((first,), pages):
            for record in rows:
                values = document(record, project=record.project)
                if output_format == "csv":
                    writer.writerow(["" if values[name] is None else values[name] for name in FIELDS])
                else:
                    stream.write(("," if written else "") + "\n" + json.dumps(values))
                written += 1
        if output_format == "json":
            stream.write("\n]\n")
        return written

    try:
        written = run(write)
    finally:
        if output:
            stream.close()
    if output:
        click.echo(f"{written} rows written to {output}", err=True)


@usage_group.command("aggregate")
@_from
@_to
@json_option
def aggregate(start, end, as_json) -> None:
    """Make the hours in [--from, --to) again from the usage intervals (idempotent). Without
    options: the last 24 hours that have ended."""
    end = end or hour_of(utcnow())
    start = start or end - timedelta(hours=24)
    done = run(lambda ctx: usage.aggregate_usage(ctx, AggregationWindow(start, end)))
    if as_json:
        click.echo(json.dumps(document(done)))
    elif done.hours:
        click.echo(f"aggregated {done.hours} hours ({done.first_hour.isoformat()} to {done.last_hour.isoformat()}): "
                   f"{done.rows} rows")
    else:
        click.echo("no hour begins in that window")
