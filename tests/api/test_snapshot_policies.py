"""Snapshot policies through the admin API and the workers' sweep, on the embedded fake hosts:
a due policy is taken once however many sweeps see it, its retention deletes its own oldest
snapshots and never another's, a deleted volume's policy goes with it, and the refusals."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from occistack.model import SnapshotPolicy, VolumeSnapshot
from occistack.plane.jobs.snapshot_policies import claim_run
from tests.api.admin_client import error_of
from tests.api.occi_face import entity_id
from tests.api.test_high_availability import plane_of
from tests.api.test_snapshots import new_volume, snapshots_of
from tests.occi import TEXT, compute_body

NOW = datetime(2026, 12, 9, 3, 0, 30)


@pytest.fixture(autouse=True)
def no_policies(world):
    """The world is shared by the module's tests: each starts with no policy, so that a sweep
    counts only its own."""
    with world.session_factory() as session, session.begin():
        session.execute(delete(SnapshotPolicy))


def add_policy(root, volume: str, **fields) -> dict:
    body = {"volume": volume, "interval": "daily", "hour": 3, "retention": 2, **fields}
    return root.post_json("/admin/snapshot-policies", body, status=201).json


def make_due(world, policy_id: int, at: datetime = NOW - timedelta(seconds=30)) -> None:
    with world.session_factory() as session, session.begin():
        session.execute(update(SnapshotPolicy).where(SnapshotPolicy.id == policy_id).values(next_run_at=at))


def sweep(world, now: datetime) -> int:
    plane = plane_of(world)
    taken = plane.worker.run_snapshot_policies(now)
    plane.settle()
    return taken


def test_a_due_policy_is_taken_once_and_its_next_run_moves_on(world, root, client):
    volume = new_volume(client)
    policy = add_policy(root, volume, minute=0)
    assert policy["source"] == "volume" and policy["volume_id"] == volume and policy["snapshots"] == 0
    make_due(world, policy["id"])
    assert sweep(world, NOW) == 1
    assert sweep(world, NOW) == 0, "a second sweep of the same moment must not take the run again"
    [snapshot] = snapshots_of(root, volume)
    assert snapshot["state"] == "ready"
    shown = root.get(f"/admin/snapshot-policies/{policy['id']}", status=200).json
    assert shown["next_run_at"].startswith("2026-12-10T03:00") and shown["snapshots"] == 1
    assert shown["last_message"] is None


def test_the_worker_sweep_runs_due_policies(world, root, client):
    volume = new_volume(client)
    policy = add_policy(root, volume)
    make_due(world, policy["id"], datetime(2000, 1, 1))
    plane_of(world).worker.sweep()
    plane_of(world).worker.sweep()
    plane_of(world).settle()
    assert len(snapshots_of(root, volume)) == 1


def test_of_two_workers_that_saw_the_same_run_due_only_one_takes_it(world, root, client):
    policy_id = add_policy(root, new_volume(client))["id"]
    seen = NOW - timedelta(minutes=5)
    make_due(world, policy_id, seen)
    with world.session_factory() as session, session.begin():
        row = session.get(SnapshotPolicy, policy_id)
        assert claim_run(session, row, seen, NOW) is True
        assert claim_run(session, row, seen, NOW) is False, "the run was taken: its next run is no longer the one seen"
        assert row.next_run_at == datetime(2026, 12, 10, 3, 0)


def test_on_postgresql_a_second_worker_waits_for_the_first_and_then_takes_nothing(world, root, client):
    if not world.url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time; the row lock race is PostgreSQL's")
    policy_id = add_policy(root, new_volume(client))["id"]
    seen = NOW - timedelta(minutes=5)
    make_due(world, policy_id, seen)
    second: dict[str, bool] = {}

    def second_worker() -> None:
        with world.session_factory() as session, session.begin():
            row = session.get(SnapshotPolicy, policy_id)
            assert row.next_run_at == seen, "the second worker read the run as due, too"
            second["took"] = claim_run(session, row, seen, NOW)

    with world.session_factory() as session, session.begin():
        assert claim_run(session, session.get(SnapshotPolicy, policy_id), seen, NOW) is True
        racer = threading.Thread(target=second_worker)
        racer.start()
        racer.join(1.0)
        assert racer.is_alive(), "the second worker's UPDATE must wait for the first worker's transaction"
    racer.join(10.0)
    assert second == {"took": False}


def test_a_compute_root_disk_policy_takes_root_disk_snapshots_and_goes_with_the_compute(world, root, client):
    compute = entity_id(client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"])
    policy = root.post_json("/admin/snapshot-policies", {"compute": compute, "interval": "hourly", "minute": 0,
                                                         "retention": 1}, status=201).json
    assert (policy["source"], policy["compute_id"]) == ("root_disk", compute)
    make_due(world, policy["id"])
    assert sweep(world, NOW) == 1
    [snapshot] = root.get(f"/admin/snapshots?compute={compute}", status=200).json
    assert snapshot["source"] == "root_disk"  # it ends in error on these simulated hosts (test_snapshots.py)
    assert root.get(f"/admin/snapshot-policies/{policy['id']}", status=200).json["next_run_at"].startswith(
        "2026-12-09T04:00")
    client.delete(f"/compute/{compute}", status=200)
    plane_of(world).settle()
    root.get(f"/admin/snapshot-policies/{policy['id']}", status=404)


def test_retention_deletes_the_policys_oldest_snapshots_and_never_others(world, root, client):
    volume = new_volume(client)
    by_hand = root.post_json("/admin/snapshots", {"volume": volume, "name": "by-hand"}, status=201).json
    policy = add_policy(root, volume, retention=2)
    made = []
    for day in range(4):
        moment = NOW + timedelta(days=day)
        make_due(world, policy["id"], moment - timedelta(seconds=30))
        assert sweep(world, moment) == 1
        made.append(max(s["id"] for s in snapshots_of(root, volume)))
    left = {s["id"] for s in snapshots_of(root, volume)}
    assert left == {by_hand["id"], made[2], made[3]}, "the two oldest of the policy's went; the one by hand stays"
    assert root.get(f"/admin/snapshot-policies/{policy['id']}", status=200).json["snapshots"] == 2

    # A lowered retention applies at the next run, also when that run has to skip its snapshot.
    root.patch_json(f"/admin/snapshot-policies/{policy['id']}", {"retention": 1}, status=200)
    with world.session_factory() as session, session.begin():  # as if the host were copying it still
        session.execute(update(VolumeSnapshot).where(VolumeSnapshot.id == by_hand["id"]).values(state="creating"))
    moment = NOW + timedelta(days=4)
    make_due(world, policy["id"], moment - timedelta(seconds=30))
    assert sweep(world, moment) == 1
    assert {s["id"] for s in snapshots_of(root, volume)} == {by_hand["id"], made[3]}
    assert "still being taken" in root.get(f"/admin/snapshot-policies/{policy['id']}", status=200).json["last_message"]


def test_a_busy_volume_skips_the_run_and_says_why(world, root, client):
    volume = new_volume(client)
    policy = add_policy(root, volume)
    root.post_json("/admin/snapshots", {"volume": volume}, status=201)
    with world.session_factory() as session, session.begin():
        # As if the host were still copying it.
        session.execute(update(VolumeSnapshot).where(VolumeSnapshot.volume_id == volume).values(state="creating"))
    make_due(world, policy["id"])
    assert sweep(world, NOW) == 1
    shown = root.get(f"/admin/snapshot-policies/{policy['id']}", status=200).json
    assert "no snapshot taken" in shown["last_message"] and "still being taken" in shown["last_message"]
    assert shown["next_run_at"].startswith("2026-12-10T03:00")


def test_a_deleted_volumes_policy_goes_and_a_removed_policy_keeps_its_snapshots(world, root, client):
    volume, other = new_volume(client), new_volume(client)
    doomed = add_policy(root, volume)
    kept = add_policy(root, other)
    make_due(world, kept["id"])
    sweep(world, NOW)
    client.delete(f"/storage/{volume}", status=200)
    plane_of(world).settle()
    root.get(f"/admin/snapshot-policies/{doomed['id']}", status=404)

    [snapshot] = snapshots_of(root, other)
    root.delete(f"/admin/snapshot-policies/{kept['id']}", status=200)
    root.get(f"/admin/snapshot-policies/{kept['id']}", status=404)
    assert [s["id"] for s in snapshots_of(root, other)] == [snapshot["id"]]
    with world.session_factory() as session:
        assert session.scalar(select(VolumeSnapshot.policy_id).where(VolumeSnapshot.id == snapshot["id"])) is None


def test_list_filters_and_patch_changes_the_schedule(world, root, client):
    volume, other = new_volume(client), new_volume(client)
    policy = add_policy(root, volume)
    add_policy(root, other, interval="hourly", hour=0, minute=15)
    assert [p["id"] for p in root.get(f"/admin/snapshot-policies?volume={volume}", status=200).json] == [policy["id"]]
    assert len(root.get("/admin/snapshot-policies", status=200).json) == 2
    changed = root.patch_json(f"/admin/snapshot-policies/{policy['id']}",
                              {"interval": "monthly", "day": 15, "retention": 5}, status=200).json
    assert (changed["interval"], changed["day"], changed["hour"], changed["retention"]) == ("monthly", 15, 3, 5)
    assert changed["next_run_at"][8:16] == "15T03:00"


@pytest.mark.parametrize("body, status, message", [
    ({"interval": "daily", "retention": 2}, 400, "name either the storage"),
    ({"volume": "nowhere", "interval": "daily", "retention": 2}, 404, "no storage nowhere"),
    ({"compute": "nowhere", "interval": "daily", "retention": 2}, 404, "no compute nowhere"),
    ({"volume": "V", "interval": "yearly", "retention": 2}, 400, "is one of: hourly, daily, weekly, monthly"),
    ({"volume": "V", "interval": "weekly", "day": 9, "retention": 2}, 400, "0 (Monday) to 6 (Sunday)"),
    ({"volume": "V", "interval": "daily", "retention": 0}, 400, "retention 0 is out of range"),
    ({"volume": "V", "interval": "daily"}, 400, "retention"),
    ({"volume": "V", "interval": "daily", "retention": "two"}, 400, "retention"),
])
def test_create_refusals(world, root, client, body, status, message):
    volume = new_volume(client)
    body = {key: (volume if value == "V" else value) for key, value in body.items()}
    assert message in error_of(root.post_json("/admin/snapshot-policies", body, expect_errors=True), status)


def test_update_and_delete_refusals(world, root, client):
    policy = add_policy(root, new_volume(client))
    assert "no snapshot policy 999" in error_of(
        root.patch_json("/admin/snapshot-policies/999", {"retention": 3}, expect_errors=True), 404)
    assert "no snapshot policy 999" in error_of(root.delete("/admin/snapshot-policies/999", expect_errors=True), 404)
    assert "takes no day" in error_of(root.patch_json(f"/admin/snapshot-policies/{policy['id']}", {"day": 3},
                                                      expect_errors=True), 400)
    assert "field 'volume' cannot be changed" in error_of(
        root.patch_json(f"/admin/snapshot-policies/{policy['id']}", {"volume": "x"}, expect_errors=True), 400)
