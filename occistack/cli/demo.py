"""``occistack demo``: the demo data of the embedded default."""

from __future__ import annotations

import click
import transaction

from .base import database_session, settings_of


@click.command("demo")
@click.pass_context
def demo(context: click.Context) -> None:
    """Add the demo zone, templates, offerings, public network, project and user (idempotent)."""
    from ..demo import seed_demo

    # Where the demo images are built and the embedded default keeps its secondary storage.
    directory = settings_of(context.obj["config"]).get("occistack.demo.directory")
    with database_session(context) as session:
        with transaction.manager:
            summary = seed_demo(session, directory=directory or None)
    for item in summary.created:
        click.echo(f"created {item}")
    click.echo(f"demo credentials: user {summary.user!r}, password {summary.password!r}, "
               f"project {summary.project!r}")
