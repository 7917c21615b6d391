"""``occistack snapshot policy`` against a real database: add, list, update and remove a policy;
a worker's sweep takes a due one; refusals print ``error: …`` and change nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from occistack.drivers.fake import FakeDrivers
from occistack.model import SnapshotPolicy, make_engine
from occistack.model.session import make_session_factory
from occistack.plane.runtime import ManagementPlane, PlaneSettings
from tests.cli.test_snapshot_commands import a_volume


def sweep_and_run(db_url: str, drivers: FakeDrivers) -> None:
    """What ``occistack worker`` does: make the policy due, sweep, carry the jobs out."""
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            session.execute(update(SnapshotPolicy).values(next_run_at=datetime(2000, 1, 1)))
        plane = ManagementPlane(factory, PlaneSettings(worker="none", local_agent_hosts=("*",)), lambda _name: drivers)
        plane.worker.sweep()
        plane.settle()
    finally:
        engine.dispose()


def test_add_list_update_and_remove(occistack, db_url):
    occistack("demo")
    drivers = FakeDrivers()
    volume = a_volume(db_url, drivers, "DATA")
    out = occistack("snapshot", "policy", "add", "--volume", volume, "--interval", "daily", "--hour", "2",
                    "--keep", "3").stdout
    assert out.startswith("snapshot policy ") and "02:00 UTC, keeping 3" in out
    [policy] = occistack.json("snapshot", "policy", "list", "--volume", volume)
    assert (policy["of"], policy["interval"], policy["hour"], policy["retention"]) == (volume, "daily", 2, 3)
    assert occistack("snapshot", "policy", "list").stdout.splitlines()[0].split()[:3] == ["ID", "PROJECT_ID", "SOURCE"]

    changed = occistack.json("snapshot", "policy", "update", str(policy["id"]), "--interval", "weekly", "--day", "6",
                             "--keep", "1")
    assert (changed["interval"], changed["day"], changed["retention"]) == ("weekly", 6, 1)
    assert datetime.fromisoformat(changed["next_run_at"]).weekday() == 6

    sweep_and_run(db_url, drivers)
    [snapshot] = occistack.json("snapshot", "list", "--volume", volume)
    assert snapshot["state"] == "ready"
    assert occistack.json("snapshot", "policy", "list")[0]["snapshots"] == 1

    assert "the snapshots it took are kept" in occistack("snapshot", "policy", "remove", str(policy["id"])).stdout
    assert occistack.json("snapshot", "policy", "list") == []
    assert len(occistack.json("snapshot", "list", "--volume", volume)) == 1


def test_refusals(occistack, db_url):
    occistack("demo")
    assert "give --volume or --compute" in occistack.refused("snapshot", "policy", "add", "--interval", "daily",
                                                             "--keep", "1")
    assert "give --interval" in occistack.refused("snapshot", "policy", "add", "--volume", "v")
    assert "no storage nowhere" in occistack.refused("snapshot", "policy", "add", "--volume", "nowhere",
                                                     "--interval", "daily", "--keep", "1")
    volume = a_volume(db_url, FakeDrivers(), "x")
    assert "1 to 28" in occistack.refused("snapshot", "policy", "add", "--volume", volume, "--interval", "monthly",
                                          "--day", "31", "--keep", "1")
    assert "no snapshot policy 999" in occistack.refused("snapshot", "policy", "update", "999", "--keep", "2")
    assert "give what to change" in occistack.refused("snapshot", "policy", "update", "999")
    assert "no snapshot policy 999" in occistack.refused("snapshot", "policy", "remove", "999")
    assert occistack.json("snapshot", "policy", "list") == []
