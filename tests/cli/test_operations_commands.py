"""``occistack config`` (global settings), ``occistack alerts`` and ``--wait`` on the commands
that start template downloads, against a real database. The downloads are carried out by a
plane running a worker and the demo hosts' agents in threads of the test, as ``occistack
worker`` and the hosts would."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from occistack.drivers.fake import FakeDrivers
from occistack.model import make_engine
from occistack.model.session import make_session_factory
from occistack.plane.alerts import HOST_DOWN, raise_alert
from occistack.plane.runtime import ManagementPlane, PlaneSettings

SHA1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
URL = "https://cloud-images.example.org/waited.qcow2"


@pytest.fixture
def demo(occistack):
    occistack("demo")
    return occistack


@contextmanager
def worker_running(db_url: str, drivers: FakeDrivers):
    """A worker and the demo hosts' agents, in threads, for as long as the block runs."""
    engine = make_engine({"sqlalchemy.url": db_url})
    plane = ManagementPlane(make_session_factory(engine), PlaneSettings(worker="thread", local_agent_hosts=("*",)),
                            lambda _name: drivers)
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()
        engine.dispose()


def test_config_lists_sets_and_resets_a_setting(occistack):
    listed = {row["name"]: row for row in occistack.json("config", "list")}
    assert listed["placement.capacity_threshold"]["value"] == 0.85
    long_table = occistack("config", "list", "--long").stdout
    assert "DESCRIPTION" in long_table.splitlines()[0] and "placement.capacity_threshold" in long_table

    assert occistack("config", "set", "placement.capacity_threshold", "0.6").stdout == \
        "placement.capacity_threshold = 0.6 (default 0.85)\n"
    shown = occistack.json("config", "show", "placement.capacity_threshold")
    assert shown["value"] == 0.6 and shown["changed"] is True and shown["updated_by"].startswith("cli:")
    assert occistack("config", "reset", "placement.capacity_threshold").stdout == \
        "placement.capacity_threshold = 0.85 (its default)\n"
    assert occistack.json("config", "show", "placement.capacity_threshold")["changed"] is False


def test_config_refuses_unknown_names_and_values_out_of_range(occistack):
    message = occistack.refused("config", "set", "placement.treshold", "0.5")
    assert "no setting 'placement.treshold'" in message and "placement.capacity_threshold" in message
    message = occistack.refused("config", "set", "jobs.max_attempts", "50")
    assert "out of range; accepted: a whole number from 1 to 20 (attempts)" in message
    assert "is not a number" in occistack.refused("config", "set", "agents.alert_after", "soon")


def test_the_ini_file_gives_the_defaults_config_shows(occistack, ini):
    ini.write_text(ini.read_text().replace("[alembic]", "occistack.agents.alert_after = 150\n\n[alembic]"))
    shown = occistack.json("config", "show", "agents.alert_after")
    assert shown["value"] == shown["default"] == 150


def test_alerts_are_listed_and_cleared(occistack, db_url):
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        with make_session_factory(engine)() as session, session.begin():
            raise_alert(session, HOST_DOWN, "host", 1, "host h1 stopped answering")
            raise_alert(session, HOST_DOWN, "host", 2, "host h2 stopped answering")
    finally:
        engine.dispose()
    listed = occistack.json("alerts", "list")
    assert sorted(alert["message"] for alert in listed) == ["host h1 stopped answering", "host h2 stopped answering"]
    assert "host h1 stopped answering" in occistack("alerts", "list", "--kind", "host.down").stdout
    first = listed[0]["id"]
    assert occistack("alerts", "clear", str(first)).stdout == f"alert {first} cleared (host.down)\n"
    assert "no alert" in occistack.refused("alerts", "clear", str(first))
    assert "give an alert's ID or --all" in occistack.refused("alerts", "clear")
    assert occistack("alerts", "clear", "--all").stdout == "1 alert(s) cleared\n"
    assert occistack.json("alerts", "list") == []


def test_register_waits_for_the_download_and_reports_it_ready(demo, db_url):
    drivers = FakeDrivers()
    with worker_running(db_url, drivers):
        out = demo("template", "register", "waited", "--url", URL, "--checksum", SHA1, "--zone", "zone1",
                   "--wait", "--timeout", "60").stdout
    assert out.splitlines()[-1] == "ready in 1 zone"
    [row] = [row for row in demo.json("template", "list") if row["term"] == "waited"]
    assert row["state"] == "ready"


def test_a_download_that_fails_makes_wait_exit_1_with_the_reason(demo, db_url):
    drivers = FakeDrivers()
    drivers.storage.failures.fail_next("download_template", "HTTP 404 from cloud-images.example.org")
    with worker_running(db_url, drivers):
        result = demo("template", "register", "lost", "--url", URL, "--checksum", SHA1, "--zone", "zone1",
                      "--wait", "--timeout", "60", status=1)
        assert "error: zone zone1: " in result.stderr and "HTTP 404 from cloud-images.example.org" in result.stderr
        # Retrying, with the source fixed, waits for the new download.
        assert demo("template", "retry", "lost", "--wait", "--timeout", "60").stdout.splitlines()[-1] == \
            "ready in 1 zone"


def test_wait_gives_up_after_its_timeout_when_no_worker_runs(demo):
    result = demo("template", "register", "stuck", "--url", URL, "--checksum", SHA1, "--zone", "zone1",
                  "--wait", "--timeout", "1", status=1)
    assert "still running after 1 s: zone zone1 0%" in result.stderr


# --- waiting on migrations, maintenance and snapshots ------------------------------------------------

def _running_compute(db_url: str, drivers: FakeDrivers) -> str:
    """A compute of the demo user, deployed on one of the demo hosts, with the server's own path."""
    from tests.conftest import basic, running_app, settling_test_app
    from tests.occi import TEXT, compute_body

    with running_app(db_url, drivers) as application:
        client = settling_test_app()(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
        return client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"].rsplit("/", 1)[1]


def _one_fake_for_every_host() -> FakeDrivers:
    drivers = FakeDrivers()
    drivers.compute.peers = lambda _name: drivers.compute  # one fake stands for both demo hosts
    return drivers


def test_migrate_waits_until_the_guest_has_moved(demo, db_url):
    drivers = _one_fake_for_every_host()
    vm_id = _running_compute(db_url, drivers)
    source = demo.json("vm", "show", vm_id)["host"]
    with worker_running(db_url, drivers):
        out = demo("vm", "migrate", vm_id, "--wait", "--timeout", "60").stdout
    target = demo.json("vm", "show", vm_id)["host"]
    assert target != source
    assert out.splitlines()[-1] == f"compute {vm_id} is running on host {target}"


def test_a_migration_that_fails_makes_wait_exit_1_with_the_reason(demo, db_url):
    drivers = _one_fake_for_every_host()
    vm_id = _running_compute(db_url, drivers)
    drivers.compute.failures.fail_next("migrate", "the target refused the guest's CPU model")
    with worker_running(db_url, drivers):
        result = demo("vm", "migrate", vm_id, "--wait", "--timeout", "60", status=1)
    assert "the target refused the guest's CPU model" in result.stderr
    assert demo.json("vm", "show", vm_id)["state"] == "running"


def test_maintenance_waits_until_the_host_is_empty(demo, db_url):
    drivers = _one_fake_for_every_host()
    vm_id = _running_compute(db_url, drivers)
    host = demo.json("vm", "show", vm_id)["host"]
    with worker_running(db_url, drivers):
        out = demo("host", "maintenance", host, "--wait", "--timeout", "60").stdout
    assert out.splitlines()[-1] == f"host {host} is in maintenance"
    assert demo.json("vm", "show", vm_id)["host"] != host


def test_snapshot_create_waits_until_it_is_ready(demo, db_url):
    from tests.conftest import basic, running_app, settling_test_app
    from tests.occi import TEXT, storage_body

    drivers = FakeDrivers()
    with running_app(db_url, drivers) as application:
        client = settling_test_app()(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
        volume = client.post("/storage/", storage_body(1.0), headers=TEXT, status=201).headers["Location"].rsplit("/", 1)[1]
    with worker_running(db_url, drivers):
        out = demo("snapshot", "create", "--volume", volume, "--name", "waited", "--wait", "--timeout", "60").stdout
    assert out.splitlines()[-1].endswith("(waited) is ready")
    result = demo("snapshot", "create", "--volume", volume, "--wait", "--timeout", "1", status=1)
    assert "still running after 1 s: snapshot" in result.stderr
