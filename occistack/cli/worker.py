"""``occistack worker``: job workers as processes of their own.

Production runs any number of them beside the management servers, on the same PostgreSQL;
each claims jobs with SKIP LOCKED, so they share the queue without coordinating. A worker
stops cleanly on SIGTERM or SIGINT after the step it is running.
"""

from __future__ import annotations

import signal
import threading

import click

from occistack.cli.base import settings_of
from occistack.composition import compose_worker
from occistack.model import make_engine
from occistack.model.session import make_session_factory


@click.command("worker")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads in this process (each claims jobs on its own).")
@click.option("--drain", is_flag=True, help="Run every runnable job step, then exit (for scripts and tests).")
@click.pass_context
def worker(context: click.Context, threads: int, drain: bool) -> None:
    """Run job workers until stopped."""
    settings = settings_of(context.obj["config"])
    engine = make_engine(settings)
    plane = compose_worker(settings, make_session_factory(engine))
    if drain:
        ran = plane.worker.drain()
        click.echo(f"ran {ran} job steps")
        engine.dispose()
        return
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    workers = [plane.worker] + [type(plane.worker)(plane.session_factory, plane.services,
                                                    notifier=plane.jobs_notifier) for _ in range(threads - 1)]
    running = [threading.Thread(target=each.run_forever, args=(stop,), name=f"worker-{number}")
               for number, each in enumerate(workers)]
    click.echo(f"occistack worker: {threads} thread(s) on {engine.url.render_as_string(hide_password=True)}")
    for thread in running:
        thread.start()
    while not stop.wait(1.0):
        pass
    for thread in running:
        thread.join()
    engine.dispose()
