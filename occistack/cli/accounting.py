"""``occistack accounting``: EGI accounting -- APEL cloud usage records, shown or published
into the dirq directory APEL's ``ssmsend`` sends from.

Settings (docs/usage-and-accounting.md): ``occistack.accounting.site_name`` (the GOCDB site
name, required), ``occistack.accounting.cloud_compute_service`` (the GOCDB service, optional),
``occistack.accounting.cloud_type`` ("occistack" when absent) and
``occistack.accounting.outgoing`` (the directory; ``publish`` only).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import click

from occistack.model import utcnow
from occistack.plane import accounting as apel
from occistack.plane.admin.cases import accounting
from occistack.plane.admin.cases.accounting import AccountingRequest
from occistack.cli.base import OrderedGroup, run, settings_of
from occistack.cli.usage import MOMENT


@click.group("accounting", cls=OrderedGroup)
def accounting_group() -> None:
    """EGI accounting: APEL cloud usage records (APEL-cloud-message v0.4)."""


def _request(context: click.Context, start, end) -> AccountingRequest:
    settings = settings_of(context.obj["config"])
    end = end or utcnow()
    return AccountingRequest(
        start=start or end - timedelta(days=1), end=end,
        site_name=settings.get("occistack.accounting.site_name", ""),
        cloud_compute_service=settings.get("occistack.accounting.cloud_compute_service") or None,
        cloud_type=settings.get("occistack.accounting.cloud_type") or "occistack",
        directory=settings.get("occistack.accounting.outgoing") or None)


_from = click.option("--from", "start", type=MOMENT, help="Computes alive at or after this time (default: a day "
                                                          "before --to).")
_to = click.option("--to", "end", type=MOMENT, help="Totals up to this time (default: now).")


@accounting_group.command("show")
@_from
@_to
@click.pass_context
def show(context: click.Context, start, end) -> None:
    """Print the APEL messages of the window without publishing them."""
    request = _request(context, start, end)
    for text in apel.messages(run(lambda ctx: accounting.cloud_records(ctx, request))):
        click.echo(text, nl=False)


@accounting_group.command("publish")
@_from
@_to
@click.option("--outgoing", type=click.Path(file_okay=False), help="The dirq directory (default: the setting "
                                                                   "occistack.accounting.outgoing).")
@click.pass_context
def publish(context: click.Context, start, end, outgoing) -> None:
    """Write the window's APEL cloud records into the outgoing directory for ssmsend."""
    request = _request(context, start, end)
    if outgoing:
        request = replace(request, directory=outgoing)
    done = run(lambda ctx: accounting.publish_accounting(ctx, request))
    click.echo(f"{done.records} records in {done.messages} messages written to {done.directory}")
