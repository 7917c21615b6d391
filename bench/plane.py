"""Benchmark: OCCI create → active, through the whole management plane.

Run from the repository root: ``.venv/bin/python -m bench.plane`` (PostgreSQL at
127.0.0.1:5432, or ``OCCISTACK_TEST_PG``).

The embedded arrangement on PostgreSQL: the OCCI application, a job worker thread and the two
demo hosts' in-process agents (fake drivers, real protocol, long-polling), in one process. Four
client threads POST computes (an os_tpl, a CRTP size) through the WSGI stack; the clock runs
from the first POST to the moment the last compute is ``running`` in the database. Every
step a real cloud takes happens: quota check, placement and capacity claim, NIC, MAC and
public address, job, agent command, answer, transition, usage record, events.

Target: at least 50 VMs/s on this 2-core machine (absolute; the machine is noisy, so the
figure is the median of three runs).
"""

from __future__ import annotations

import base64
import io
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

import transaction
from sqlalchemy import func, select

from bench.common import migrate, result_line, scratch_database
from occistack.demo import seed_demo
from occistack.model import Host, VirtualMachine, make_engine
from occistack.model.session import get_tm_session, make_session_factory, read_only_session
from occistack.model.states import VmState

COUNT = 200
THREADS = 4
RUNS = 3
TARGET = 50.0
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"demo:demo").decode()}
BODY = "\n".join([
    'Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
    'Category: cirros-0.6; scheme="http://occistack.local/occi/infrastructure/os_tpl#"; class="mixin"',
    'Category: small; scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"; class="mixin"',
])


def one_run(url: str, drivers: str = "fake", count: int = COUNT, extra_hosts: bool = True) -> float:
    """Computes per second from the first POST to the last one running. ``drivers`` is what the
    in-process agents drive (``fake``, or ``libvirt-test`` for libvirt's test driver)."""
    from occistack.api.app import main

    engine = make_engine({"sqlalchemy.url": url})
    session_factory = make_session_factory(engine)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(session_factory, manager)
        seed_demo(session)
        # Two more hosts in the demo cluster, so that 200 small computes stay below the
        # cluster's capacity threshold.
        template = session.scalar(select(Host).where(Host.name == "host1"))
        for name in ("host3", "host4") if extra_hosts else ():
            session.add(Host(name=name, zone_id=template.zone_id, pod_id=template.pod_id,
                             cluster_id=template.cluster_id, address="10.0.0.99", cpu_sockets=2, cpu_cores=16,
                             cpu_mhz=2400, memory_mib=65536, cpu_overcommit=4.0, memory_overcommit=1.5))
    app = main({}, **{"sqlalchemy.url": url, "occistack.worker": "thread", "occistack.agents.inprocess": "*",
                      "occistack.drivers": drivers, "occistack.power": "none"})
    computes = {type(drivers.compute).__name__ for drivers in app.registry["occistack.drivers"].values()}
    print(f"  agents of {len(app.registry['occistack.drivers'])} hosts on {', '.join(sorted(computes))}")
    try:
        return _load(app, engine, count)
    finally:
        app.registry["occistack.plane"].stop()
        app.registry["occistack.engine"].dispose()
        engine.dispose()


def _post(app, body: bytes) -> tuple[str, bytes]:
    """One POST straight through the WSGI interface (a client as thin as wrk, so that the
    process's CPU goes to the server's work, not to a test client's)."""
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/compute/", "SCRIPT_NAME": "", "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "6543", "HTTP_HOST": "127.0.0.1:6543",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
               "wsgi.errors": sys.stderr, "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": str(len(body)),
               "HTTP_ACCEPT": "text/plain", **AUTH}
    status: list[str] = []
    answer = b"".join(app(environ, lambda code, headers, exc_info=None: status.append(code)))
    return status[0], answer


def _load(app, engine, count: int = COUNT) -> float:
    per_thread = count // THREADS
    errors: list[str] = []
    body = BODY.encode()

    def client() -> None:
        for _ in range(per_thread):
            status, answer = _post(app, body)
            if not status.startswith("201"):
                errors.append(answer.decode(errors="replace"))

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} creates failed, e.g. {errors[0]}")
    deadline = time.monotonic() + 120
    while True:
        # Counting through a read-only session, so that on SQLite the clock does not queue
        # for the writer with the work it is timing.
        with read_only_session(engine) as session:
            running = session.scalar(select(func.count()).select_from(VirtualMachine)
                                     .where(VirtualMachine.state == str(VmState.RUNNING)))
        if running >= count:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"only {running} of {count} computes became active within 120 s")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    print(f"  {count} creates accepted in {posted:.2f} s, all active after {elapsed:.2f} s")
    return count / elapsed


@contextmanager
def sqlite_database():
    with tempfile.TemporaryDirectory(prefix="occistack-bench-") as directory:
        url = f"sqlite:///{directory}/bench.sqlite"
        migrate(url)
        yield url


def main() -> int:
    medians = {}
    for name, database in (("sqlite", sqlite_database),
                           ("postgresql", lambda: scratch_database("occistack_bench_plane", migrated=True))):
        rates = []
        for _ in range(RUNS):
            with database() as url:
                rates.append(one_run(url))
        medians[name] = statistics.median(rates)
        print(f"{name}: {COUNT} computes from {THREADS} client threads, {RUNS} runs: "
              + ", ".join(f"{rate:.1f}" for rate in rates) + " VMs/s")
    print()
    lines = [result_line("plane", f"create_to_active_vms_per_s_{name}", median, TARGET, unit="")
             for name, median in medians.items()]
    for line in lines:
        print(line)
    return 0 if all(line.endswith("PASS") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
