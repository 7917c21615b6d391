"""``occistack snapshot`` against a real database: each command queues its job, a worker with the
demo hosts' agents carries it out on fake drivers that keep each volume's data, and refusals print
``error: …`` and change nothing."""

from __future__ import annotations

import transaction
from sqlalchemy import select

from occistack.drivers.fake import FakeDrivers
from occistack.model import StoragePool, Zone, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.plane.jobs.commands import volume_name
from tests.cli.test_catalog_commands import run_the_jobs
from tests.factories import VolumeFactory


def a_volume(db_url: str, drivers: FakeDrivers, data: str) -> str:
    """A volume of a project of its own on the demo's primary storage, online, holding ``data``."""
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            session = get_tm_session(make_session_factory(engine), manager)
            pool = session.scalar(select(StoragePool).order_by(StoragePool.id).limit(1))
            zone = session.scalar(select(Zone).where(Zone.id == pool.zone_id))
            volume_id = VolumeFactory(session=session, size_gib=1.0, storage_pool_id=pool.id, zone_id=zone.id).id
    finally:
        engine.dispose()
    drivers.storage.create_volume(volume_name(volume_id), 1.0)
    drivers.storage.write(volume_name(volume_id), data)
    return volume_id


def test_create_list_revert_copy_and_delete(occistack, db_url):
    occistack("demo")
    drivers = FakeDrivers()
    volume = a_volume(db_url, drivers, "MARKER-1")
    out = occistack("snapshot", "create", "--volume", volume, "--name", "nightly").stdout
    assert "is being taken" in out
    [queued] = occistack.json("snapshot", "list", "--volume", volume)
    assert (queued["name"], queued["state"], queued["of"]) == ("nightly", "creating", volume)
    run_the_jobs(db_url, drivers)
    [ready] = occistack.json("snapshot", "list")
    assert ready["state"] == "ready" and ready["checksum"].startswith("sha256:")
    assert occistack("snapshot", "list").stdout.splitlines()[0].split()[:4] == ["ID", "NAME", "PROJECT_ID", "SOURCE"]

    drivers.storage.write(volume_name(volume), "MARKER-2")
    occistack("snapshot", "revert", str(ready["id"]))
    run_the_jobs(db_url, drivers)
    assert drivers.storage.read(volume_name(volume)) == "MARKER-1"

    copy = occistack("snapshot", "volume", str(ready["id"]), "--size-gib", "3").stdout.split()[1]
    run_the_jobs(db_url, drivers)
    assert drivers.storage.read(volume_name(copy)) == "MARKER-1"

    occistack("snapshot", "delete", str(ready["id"]))
    assert occistack.json("snapshot", "list")[0]["state"] == "destroying"
    run_the_jobs(db_url, drivers)
    assert occistack.json("snapshot", "list") == []
    assert drivers.storage.snapshots == {}


def test_refusals(occistack, db_url):
    occistack("demo")
    assert "give --volume or --compute" in occistack.refused("snapshot", "create")
    assert "no storage nowhere" in occistack.refused("snapshot", "create", "--volume", "nowhere")
    assert "no snapshot 999" in occistack.refused("snapshot", "revert", "999")
    volume = a_volume(db_url, FakeDrivers(), "x")
    occistack("snapshot", "create", "--volume", volume)
    assert "still being taken" in occistack.refused("snapshot", "create", "--volume", volume)
    [queued] = occistack.json("snapshot", "list")
    assert "only a ready snapshot" in occistack.refused("snapshot", "revert", str(queued["id"]))
    assert "cannot be deleted now" in occistack.refused("snapshot", "delete", str(queued["id"]))
