"""``--wait``: follow a long operation (a template's download into each zone) to its end, with
a progress bar, and exit non-zero with the reason when it ends in error.

The command has committed what starts the operation; a worker (``occistack worker`` or the
server's thread) carries it out. Here the command only reads the rows back, each look in a
transaction of its own, every ``poll_seconds``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import click
import transaction

from occistack.plane.context import PlaneContext
from occistack.plane.errors import REFUSALS, describe
from occistack.cli.base import cli_actor, database_session, fail, plane_services, settings_of


@dataclass(frozen=True, slots=True)
class Step:
    """One part of an operation as last read: what it is, how far (percent), whether it ended."""

    name: str
    percent: int
    finished: bool
    #: why it failed, when it ended in error.
    error: str | None = None


def wait_for(read: Callable[[PlaneContext], Sequence[Step]], label: str, poll_seconds: float = 0.5,
             timeout_seconds: float | None = None) -> None:
    """Show a progress bar over the steps ``read`` returns until each has finished; exit with
    status 1 naming each step that ended in error (or when ``timeout_seconds`` passed)."""
    context = click.get_current_context()
    settings = settings_of(context.obj["config"])
    services = plane_services(settings)
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    with database_session(context, settings) as session:
        ctx = PlaneContext(session, None, services, operator=cli_actor().label)
        steps = _read(ctx, read)
        with click.progressbar(length=100 * max(len(steps), 1), label=label, show_percent=True) as bar:
            shown = 0
            while True:
                done = sum(100 if step.finished else min(max(step.percent, 0), 99) for step in steps)
                bar.update(done - shown)
                shown = done
                if all(step.finished for step in steps):
                    break
                if deadline is not None and time.monotonic() > deadline:
                    fail(f"still running after {timeout_seconds:g} s: "
                         + ", ".join(f"{step.name} {step.percent}%" for step in steps if not step.finished))
                time.sleep(poll_seconds)
                steps = _read(ctx, read)
    failed = [step for step in steps if step.error is not None]
    if failed:
        fail("; ".join(f"{step.name}: {step.error}" for step in failed))


def _read(ctx: PlaneContext, read: Callable[[PlaneContext], Sequence[Step]]) -> Sequence[Step]:
    try:
        with transaction.manager:
            return read(ctx)
    except REFUSALS as refusal:  # deleted meanwhile, say
        fail(describe(refusal))
    raise AssertionError("unreachable")  # pragma: no cover - fail() exits


wait_option = click.option("--wait", is_flag=True,
                           help="Wait until it ends, with a progress bar; exit 1 with the reason if it fails.")
timeout_option = click.option("--timeout", "timeout_seconds", type=click.FloatRange(min=0), metavar="SECONDS",
                              help="With --wait: give up (exit 1) after this long; the operation goes on.")
