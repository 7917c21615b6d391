"""Benchmark: listing 10,000 hourly usage rows as JSON through ``GET /admin/usage`` against a
bare SQLAlchemy Core query of the same rows.

Run from the repository root: ``.venv/bin/python -m bench.usage_listing`` (PostgreSQL at
127.0.0.1:5432, or ``OCCISTACK_TEST_PG``).

A scratch database gets 10,000 rows of ``usage_hours`` (417 resources of four types over a
day, written in bulk) in one project, and an administrator. Then, alternating:

* baseline: one SQLAlchemy Core connection runs the listing's query -- the rows of the window
  with their project's name, oldest hour first -- and fetches them;
* occistack: ``GET /admin/usage?from=…&to=…&limit=10000`` through the WSGI application
  in-process: authentication (cached after the first request), the filters' checks, the same
  query, a record per row and the JSON body.

Target: at most 3× the baseline's time.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
from datetime import datetime, timedelta

import transaction
from sqlalchemy import create_engine, insert, select

from bench.common import close_app, print_table, result_line, scratch_database, time_alternately, wsgi_get
from occistack.federation.passwords import hash_password
from occistack.model import Project, UsageHour, User, make_engine
from occistack.model.session import get_tm_session, make_session_factory

COUNT = 10_000
ROUNDS = 7
TARGET = 3.0
START = datetime(2026, 11, 1)
TYPES = ("vm_running", "vm_allocated", "volume", "public_ip")
AUTH = "Basic " + base64.b64encode(b"bench-admin:bench-admin").decode()
QUERY = f"from={START.isoformat()}&to={(START + timedelta(days=2)).isoformat()}&limit={COUNT}"


def populate(url: str) -> None:
    engine = make_engine({"sqlalchemy.url": url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(make_session_factory(engine), manager)
        project = Project(name="usage-bench")
        session.add(project)
        session.flush()
        session.add(User(name="bench-admin", password_hash=hash_password("bench-admin"), project_id=project.id,
                         role="admin"))
        project_id = project.id
    rows = []
    for number in range(COUNT):
        usage_type = TYPES[number % len(TYPES)]
        sized = usage_type == "volume"
        rows.append({"hour": START + timedelta(hours=number // 417), "usage_type": usage_type,
                     "resource_id": f"resource-{number % 417}", "project_id": project_id, "zone_id": 1,
                     "offering": "small" if usage_type.startswith("vm") else None,
                     "description": "debian-12" if usage_type.startswith("vm") else None,
                     "cores": 2 if usage_type.startswith("vm") else None,
                     "memory_gib": 4.0 if usage_type.startswith("vm") else None,
                     "size_gib": 20.0 if sized else None, "hours": 1.0, "gib_hours": 20.0 if sized else None})
    with engine.begin() as connection:
        connection.execute(insert(UsageHour.__table__), rows)
    engine.dispose()


def main() -> int:
    from occistack.api.app import main as make_app

    with scratch_database("occistack_bench_usage", migrated=True) as url:
        populate(url)
        app = make_app({}, **{"sqlalchemy.url": url, "occistack.worker": "none"})
        bare = create_engine(url)
        hours = UsageHour.__table__.c
        bare_query = (select(*UsageHour.__table__.columns, Project.name)
                      .outerjoin(Project, Project.id == hours.project_id)
                      .where(hours.hour >= START, hours.hour < START + timedelta(days=2))
                      .order_by(hours.hour, hours.id).limit(COUNT + 1))

        def baseline() -> int:
            with bare.connect() as connection:
                return len(connection.execute(bare_query).all())

        def occistack() -> bytes:
            return wsgi_get(app, "/admin/usage", query=QUERY, accept="application/json", authorization=AUTH)

        seen = baseline(), len(json.loads(occistack())["usage"])
        if seen != (COUNT, COUNT):
            raise SystemExit(f"the two sides do not both see the {COUNT:,} rows: {seen}")
        times = time_alternately({"bare": baseline, "occistack": occistack}, ROUNDS)
        bare.dispose()
        close_app(app)
    bare_time, ours = statistics.median(times["bare"]), statistics.median(times["occistack"])
    print(f"{COUNT:,} usage rows, {ROUNDS} alternating rounds\n")
    print_table(("listing", "ms"), [("bare SQLAlchemy Core query (usage rows + project names)",
                                     f"{bare_time * 1000:,.1f}"),
                                    ("GET /admin/usage in JSON", f"{ours * 1000:,.1f}")])
    print()
    line = result_line("usage_listing", "json_10000_vs_bare_query", ours / bare_time, TARGET, op="<=")
    print(line)
    return 0 if line.endswith("PASS") else 1


if __name__ == "__main__":
    sys.exit(main())
