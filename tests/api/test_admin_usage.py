"""``GET /admin/usage``: the hourly usage rows as JSON, filtered and paged, and a 400 or 404 that
says what is accepted for anything it cannot read."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import transaction

from occistack.model.session import get_tm_session
from occistack.plane import usage_hours
from occistack.plane.usage import open_usage
from tests.api.admin_client import error_of
from tests.factories import ProjectFactory

T0 = datetime(2026, 3, 2, 0, 0)


@pytest.fixture(scope="module")
def hours(world):
    """Two projects' usage over three hours, aggregated: 3 VMs' running and allocated hours and
    a volume in ``astro``, a public address in ``bio``."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(world.session_factory, manager)
        astro = ProjectFactory(session=session, name="astro")
        bio = ProjectFactory(session=session, name="bio")
        for number in range(3):
            open_usage(session, ("vm_allocated", "vm_running"), f"usage-vm-{number}", astro.id, cores=1,
                       memory_gib=1.0, offering="tiny", description="cirros-0.6", at=T0)
        open_usage(session, "volume", "usage-vol", astro.id, size_gib=8.0, at=T0 + timedelta(minutes=30))
        open_usage(session, "public_ip", "usage-nic", bio.id, description="192.0.2.44", compute_id="x", at=T0)
        session.flush()
        for hour in range(3):
            usage_hours.aggregate_hour(session, T0 + timedelta(hours=hour))
    return astro.id, bio.id


WINDOW = "from=2026-03-02&to=2026-03-02T03:00:00Z"


def test_rows_come_as_json_oldest_hour_first(root, hours):
    document = root.get(f"/admin/usage?{WINDOW}").json
    rows = document["usage"]
    assert len(rows) == 3 * (6 + 2) and document["next"] is None
    assert [row["hour"] for row in rows] == sorted(row["hour"] for row in rows)
    volume = next(row for row in rows if row["resource_id"] == "usage-vol")
    assert (volume["hour"], volume["project"], volume["gib_hours"], volume["hours"]) == (
        "2026-03-02T00:00:00", "astro", 4.0, 0.5)
    running = next(row for row in rows if row["usage_type"] == "vm_running")
    assert (running["offering"], running["cores"], running["description"]) == ("tiny", 1, "cirros-0.6")


def test_filters_by_project_type_and_time(root, hours):
    astro, bio = hours
    assert {row["project"] for row in root.get(f"/admin/usage?{WINDOW}&project=bio").json["usage"]} == {"bio"}
    assert len(root.get(f"/admin/usage?{WINDOW}&project_id={astro}").json["usage"]) == 3 * 7
    volumes = root.get(f"/admin/usage?{WINDOW}&type=volume").json["usage"]
    assert [row["gib_hours"] for row in volumes] == [4.0, 8.0, 8.0]
    second = root.get("/admin/usage?from=2026-03-02T01:00:00Z&to=2026-03-02T02:00:00%2B00:00").json["usage"]
    assert {row["hour"] for row in second} == {"2026-03-02T01:00:00"}


def test_pages_follow_next_until_every_row_is_seen(root, hours):
    everything = [row["id"] for row in root.get(f"/admin/usage?{WINDOW}").json["usage"]]
    seen, url = [], f"/admin/usage?{WINDOW}&limit=5"
    while url:
        document = root.get(url).json
        seen.extend(row["id"] for row in document["usage"])
        url = document["next"] and f"{urlsplit(document['next']).path}?{urlsplit(document['next']).query}"
    assert seen == everything


@pytest.mark.parametrize(("query", "status", "says"), [
    ("from=yesterday", 400, "ISO 8601 date or time"),
    ("to=2026-13-01", 400, "ISO 8601 date or time"),
    ("from=2026-03-02T05:00:00Z&to=2026-03-02", 400, "give from <= to"),
    ("type=cpu", 400, "vm_running, vm_allocated, volume, public_ip, template"),
    ("limit=0", 400, "from 1 to 10000"),
    ("limit=ten", 400, "whole number"),
    ("after=nowhere", 400, "follow each page's 'next'"),
    ("projekt=astro", 400, "the filters are: from, to, project"),
    ("project=nobody-here", 404, "nobody-here"),
    ("project_id=99999", 404, "99999"),
])
def test_what_it_cannot_read_is_refused_saying_what_is_accepted(root, hours, query, status, says):
    assert says in error_of(root.get(f"/admin/usage?{query}", status=status), status)


def test_only_get_is_allowed_and_only_for_admins(root, member):
    assert "GET" in error_of(root.post_json("/admin/usage", {}, status=405), 405)
    error_of(member.get("/admin/usage", status=403), 403)
