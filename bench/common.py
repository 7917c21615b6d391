"""Helpers shared by the benchmarks: interleaved rounds, throughput, the table and RESULT lines.

The machines are noisy, so a benchmark never compares against a number measured elsewhere:
it runs the baseline and the subject in the same process run, alternating round by round, and
reports the ratio of their median throughputs.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("OCCISTACK_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

#: A round: run the workload for about ``min_seconds`` and return operations per second.
Round = Callable[[float], float]


def throughput(run_once: Callable[[], int], min_seconds: float,
               clock: Callable[[], float] = time.perf_counter) -> float:
    """Call ``run_once`` (which returns how many operations it did) until ``min_seconds`` have
    passed on ``clock``; return operations per second over whole calls.

    Work done in this process alone (parsing) is best timed with ``time.process_time``: the
    CPU time this process used, which does not count the time other processes on a shared
    machine held the cores. Work that waits on a server (PostgreSQL, an HTTP server in a
    thread or another process) needs the wall clock, ``time.perf_counter``.
    """
    operations = 0
    started = clock()
    while True:
        operations += run_once()
        elapsed = clock() - started
        if elapsed >= min_seconds:
            return operations / elapsed


@dataclass
class Comparison:
    """Throughputs of a baseline and a subject measured in alternating rounds."""

    name: str
    baseline: list[float] = field(default_factory=list)
    subject: list[float] = field(default_factory=list)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def subject_median(self) -> float:
        return statistics.median(self.subject)

    @property
    def ratio(self) -> float:
        return self.subject_median / self.baseline_median


def alternate(name: str, baseline: Round, subject: Round, rounds: int = 5,
              min_seconds: float = 0.5) -> Comparison:
    """Run baseline and subject rounds alternately; the first round of each warms up and is
    not counted."""
    comparison = Comparison(name)
    baseline(min_seconds / 4)
    subject(min_seconds / 4)
    for _ in range(rounds):
        comparison.baseline.append(baseline(min_seconds))
        comparison.subject.append(subject(min_seconds))
    return comparison


def wsgi_get(app, path: str, *, query: str = "", accept: str, authorization: str) -> bytes:
    """The body of ``GET path?query`` answered by the WSGI ``app`` in this process, with no
    server or client in between; a status other than 200 ends the benchmark."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "6543", "HTTP_HOST": "127.0.0.1:6543", "wsgi.url_scheme": "http",
               "HTTP_AUTHORIZATION": authorization, "HTTP_ACCEPT": accept, "SCRIPT_NAME": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr}
    status: list[str] = []
    body = b"".join(app(environ, lambda code, headers, exc=None: status.append(code)))
    if not status[0].startswith("200"):
        raise SystemExit(f"GET {path} answered {status[0]}: {body[:300]!r}")
    return body


def time_alternately(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds of each run, ``rounds`` times, the runs taking turns so that the machine's
    slow moments fall on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return times


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    line = "  ".join(header.ljust(width) for header, width in zip(headers, widths))
    print(line)
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(cell.rjust(width) if i else cell.ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))


def result_line(benchmark: str, metric: str, value: float, target: float, op: str = ">=",
                unit: str = "x") -> str:
    """``RESULT <benchmark> <metric>=<value><unit> target<op><target> PASS|FAIL``."""
    passed = value >= target if op == ">=" else value <= target
    return (f"RESULT {benchmark} {metric}={value:.2f}{unit} target{op}{target:.1f} "
            f"{'PASS' if passed else 'FAIL'}")


def exit_status(result_lines: Sequence[str]) -> int:
    """The benchmark's exit status: 0 when every RESULT line passed, 1 when one missed."""
    return 0 if all(line.endswith("PASS") for line in result_lines) else 1


@contextmanager
def scratch_database(prefix: str = "occistack_bench", migrated: bool = False):
    """A PostgreSQL database made for one benchmark run and dropped after it."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        if migrated:
            migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def close_app(app) -> None:
    """Stop the plane an occistack application started and close its connections -- before its
    scratch database is dropped, or the plane's stop at exit finds no database to tell its
    agents' long polls that it is gone."""
    from occistack.api.orchestration import server_plane

    server_plane(app.registry).stop()
    app.registry["occistack.engine"].dispose()


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "development.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
