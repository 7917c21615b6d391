"""``occistack usage list|export|aggregate`` and ``occistack accounting show|publish`` against a
real database: the same rows as the plane's, CSV and JSON exports, refusals that say what is
accepted, APEL messages in a dirq directory."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
import transaction
from dirq.QueueSimple import QueueSimple

from occistack.model import make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane.usage import close_usage, open_usage, record_compute_owner
from tests.factories import ProjectFactory, UserFactory, VirtualMachineFactory

T0 = datetime(2026, 4, 1, 6, 0)


@pytest.fixture
def used(db_url):
    """A compute of project ``physics`` allocated and running 06:00-07:30, and a 10 GiB volume
    of ``chemistry`` from 06:00 on."""
    engine = make_engine({"sqlalchemy.url": db_url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(make_session_factory(engine), manager)
        physics = ProjectFactory(session=session, name="physics")
        chemistry = ProjectFactory(session=session, name="chemistry")
        user = UserFactory(session=session, name="carol", project_id=physics.id)
        vm = VirtualMachineFactory(session=session, project_id=physics.id, title="sim")
        record_compute_owner(session, vm, user.id, 10.0)
        open_usage(session, ("vm_allocated", "vm_running"), vm.id, physics.id, cores=4, memory_gib=8.0,
                   offering="xlarge", description="debian-12", at=T0)
        close_usage(session, ("vm_allocated", "vm_running"), vm.id, at=T0 + timedelta(minutes=90))
        open_usage(session, "volume", "cli-vol", chemistry.id, size_gib=10.0, at=T0)
        vm_id = vm.id
    engine.dispose()
    return vm_id


def test_aggregate_then_list_and_aggregate_again_without_counting_twice(occistack, used):
    window = ("--from", "2026-04-01T06:00:00", "--to", "2026-04-01T08:00:00")
    assert "aggregated 2 hours" in occistack("usage", "aggregate", *window).stdout
    rows = occistack.json("usage", "list", *window)
    assert len(rows) == 6
    occistack("usage", "aggregate", *window)
    again = occistack.json("usage", "list", *window)
    assert [(row["usage_type"], row["hour"], row["hours"]) for row in again] == \
        [(row["usage_type"], row["hour"], row["hours"]) for row in rows]
    running = [row["hours"] for row in again if row["usage_type"] == "vm_running"]
    assert running == [1.0, 0.5]
    table = occistack("usage", "list", *window, "--type", "volume").stdout
    assert "chemistry" in table and "physics" not in table


def test_export_writes_csv_and_json(occistack, used, tmp_path):
    occistack("usage", "aggregate", "--from", "2026-04-01T06:00", "--to", "2026-04-01T08:00")
    text = occistack("usage", "export", "--from", "2026-04-01", "--to", "2026-04-02", "--project", "physics").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4 and {row["project"] for row in rows} == {"physics"}
    assert {row["offering"] for row in rows} == {"xlarge"} and rows[0]["gib_hours"] == ""
    target = tmp_path / "usage.json"
    result = occistack("usage", "export", "--from", "2026-04-01", "--to", "2026-04-02", "--format", "json",
                       "--output", str(target))
    exported = json.loads(target.read_text())
    assert len(exported) == 6 and "6 rows written" in result.stderr
    assert json.loads(occistack("usage", "export", "--format", "json", "--type", "public_ip").stdout) == []


@pytest.mark.parametrize(("arguments", "says"), [
    (("usage", "list", "--from", "yesterday"), "ISO 8601 date or time"),
    (("usage", "export", "--format", "xml"), "'csv', 'json'"),
    (("usage", "list", "--type", "cpu"), "vm_running"),
])
def test_bad_options_are_refused_naming_what_is_accepted(occistack, arguments, says):
    result = occistack(*arguments, status=2)
    assert says in result.stderr


def test_refusals_of_the_plane_are_errors(occistack, used):
    assert "nobody" in occistack.refused("usage", "list", "--project", "nobody")
    assert "give from <= to" in occistack.refused("usage", "export", "--from", "2026-04-02", "--to", "2026-04-01")
    assert "has not ended" in occistack.refused("usage", "aggregate", "--from", "2026-04-01",
                                                "--to", "2999-01-01")


def test_accounting_publish_writes_apel_messages_for_ssmsend(occistack, used, ini, tmp_path):
    assert "occistack.accounting.site_name" in occistack.refused("accounting", "show", "--from", "2026-04-01")
    outgoing = tmp_path / "apel" / "outgoing"
    ini.write_text(ini.read_text().replace("use = egg:occistack\n", "use = egg:occistack\n"
                                           "occistack.accounting.site_name = TEST-SITE\n"
                                           "occistack.accounting.cloud_compute_service = cloud.test.example\n"
                                           f"occistack.accounting.outgoing = {outgoing}\n"))
    shown = occistack("accounting", "show", "--from", "2026-04-01", "--to", "2026-04-02").stdout
    assert shown.startswith("APEL-cloud-message: v0.4\n") and f"VMUUID: {used}\n" in shown
    assert "SiteName: TEST-SITE\n" in shown and "LocalUserId: carol\n" in shown and "Status: completed\n" in shown
    result = occistack("accounting", "publish", "--from", "2026-04-01", "--to", "2026-04-02")
    assert "1 records in 1 messages" in result.stdout
    queue = QueueSimple(str(outgoing))
    (name,) = list(queue)
    assert queue.lock(name)

    def but_when_made(text):  # the record's creation time is each run's own
        return [line for line in text.splitlines() if not line.startswith("RecordCreateTime: ")]

    assert but_when_made(queue.get(name).decode()) == but_when_made(shown)
