"""``occistack simulated-hosts``: host agents on fake drivers, in a process of their own.

For development, tests and benchmarks on machines without hypervisors: one agent per named
host (or every host), each with in-memory drivers, speaking the real agent protocol to the
gateway over the local channel (the database), as the embedded default's in-process agents
do. Hosts added while it runs get their agent within a second. Real hosts run
``occistack-agent`` instead.
"""

from __future__ import annotations

import signal
import threading

import click

from occistack.cli.base import settings_of
from occistack.composition import compose_simulated_hosts
from occistack.model import make_engine
from occistack.model.session import make_session_factory


@click.command("simulated-hosts")
@click.argument("hosts", nargs=-1)
@click.pass_context
def simulated_hosts(context: click.Context, hosts: tuple[str, ...]) -> None:
    """Run simulated agents for HOSTS (all hosts when none is named) until stopped."""
    settings = settings_of(context.obj["config"])
    engine = make_engine(settings)
    try:
        agents = compose_simulated_hosts(settings, make_session_factory(engine), list(hosts) or ["*"])
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    agents.start()
    click.echo(f"simulated hosts: {', '.join(agent.host_name for agent in agents.agents)}", err=True)
    while not stop.wait(1.0):
        # Hosts added (or deleted) since get (or lose) their agent, as in the server.
        try:
            agents.follow_inventory_if_changed()
        except Exception as error:  # noqa: BLE001 - a database hiccup: the next round tries again
            click.echo(f"could not follow the hosts of the database: {error}", err=True)
    agents.stop()
    engine.dispose()
