"""``occistack demo``: the demo data of the embedded default."""

from __future__ import annotations

import click
import transaction

from occistack.cli.base import database_session, settings_of
from occistack.demo import database_is_empty, seed_demo


@click.command("demo")
@click.option("--force", is_flag=True,
              help="Add what is missing of the demo even to a database that is already set up.")
@click.pass_context
def demo(context: click.Context, force: bool) -> None:
    """Add the demo zone, templates, offerings, public network, project and user to an empty
    database (``make setup`` runs it every time; a database with zones, projects or users is
    left as its administrator made it)."""
    # Where the demo images are built and the embedded default keeps its secondary storage.
    directory = settings_of(context.obj["config"]).get("occistack.demo.directory")
    with database_session(context) as session:
        with transaction.manager:
            summary = seed_demo(session, directory=directory or None) if force or database_is_empty(session) else None
    if summary is None:
        click.echo("the database is already set up (it has zones, projects or users): the demo is not added "
                   "again; `occistack demo --force` adds what is missing of it")
        return
    for item in summary.created:
        click.echo(f"created {item}")
    click.echo(f"demo credentials: user {summary.user!r}, password {summary.password!r}, "
               f"project {summary.project!r}")
