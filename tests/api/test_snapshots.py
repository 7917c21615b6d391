"""Volume snapshots through the real WSGI stack and the job queue, on the embedded fake hosts:
the OCCI storage action ``snapshot``, the admin API's /admin/snapshots (list, show, revert, a new
volume from one, delete), and the refusals. The fake storage keeps what a guest "wrote" on each
volume, so a revert and a copy are checked by their data, not by their states only. (A real
QEMU guest doing the same is tests/drivers/test_snapshot_guest.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.model import VolumeSnapshot

from occistack.plane.jobs.commands import volume_name
from tests.api.admin_client import error_of
from tests.api.occi_face import entity_id
from tests.occi import STORAGE_ACTIONS, TEXT, action, attribute, compute_body, link_line, storage_body


def new_volume(client, size: float = 1.0) -> str:
    return entity_id(client.post("/storage/", storage_body(size), headers=TEXT, status=201).headers["Location"])


def snapshot_by_occi(client, volume_id: str, name: str | None = None, status: int = 200):
    body = "\n".join([action("snapshot", STORAGE_ACTIONS), *([attribute("name", name)] if name else [])])
    return client.post(f"/storage/{volume_id}?action=snapshot", body, headers=TEXT, status=status)


def snapshots_of(root, volume_id: str) -> list[dict]:
    return root.get(f"/admin/snapshots?volume={volume_id}", status=200).json


def states_while_copying(world, monkeypatch, volume_id: str) -> list[str]:
    """The states of the volume's snapshots in the database at the moment the host copies one out."""
    seen: list[str] = []
    store = world.drivers.storage._store_snapshot

    def copying(*args):
        with world.session_factory() as session:
            seen.extend(session.scalars(select(VolumeSnapshot.state).where(VolumeSnapshot.volume_id == volume_id)))
        return store(*args)
    monkeypatch.setattr(world.drivers.storage, "_store_snapshot", copying)
    return seen


def test_a_member_snapshots_storage_and_the_administrator_reverts_copies_and_deletes_it(world, client, root,
                                                                                      monkeypatch):
    storage = world.drivers.storage
    volume = new_volume(client)
    storage.write(volume_name(volume), "MARKER-BEFORE")
    seen = states_while_copying(world, monkeypatch, volume)
    snapshot_by_occi(client, volume, "before-upgrade")
    assert seen == ["backing_up"], "the host's report that the copy is taken moves it to backing_up"
    [snapshot] = snapshots_of(root, volume)
    assert (snapshot["name"], snapshot["state"], snapshot["source"]) == ("before-upgrade", "ready", "volume")
    assert snapshot["checksum"].startswith("sha256:") and snapshot["size_gib"] == 1.0

    storage.write(volume_name(volume), "MARKER-AFTER")
    reverted = root.post_json(f"/admin/snapshots/{snapshot['id']}/actions/revert", {}, status=200).json
    assert reverted["id"] == snapshot["id"]
    assert root.get(f"/admin/snapshots/{snapshot['id']}", status=200).json["state"] == "ready"
    assert storage.read(volume_name(volume)) == "MARKER-BEFORE"

    made = root.post_json(f"/admin/snapshots/{snapshot['id']}/actions/volume", {"size_gib": 2}, status=200).json
    copy = made["volume"]
    assert storage.read(volume_name(copy)) == "MARKER-BEFORE"
    assert storage.volume_size_gib(volume_name(copy)) == 2.0
    assert client.get(f"/storage/{copy}", headers=TEXT, status=200)  # in the snapshot's project

    where = next(url for url in storage.snapshots if url.endswith(f"/{snapshot['id']}.qcow2"))
    root.delete(f"/admin/snapshots/{snapshot['id']}", status=200)
    root.get(f"/admin/snapshots/{snapshot['id']}", status=404)
    assert where not in storage.snapshots, "the snapshot must leave secondary storage"


def test_the_storage_offers_the_snapshot_action_and_other_projects_cannot_use_it(world, client, other_client):
    volume = new_volume(client)
    rendered = client.get(f"/storage/{volume}", headers=TEXT, status=200).text
    assert "storage/action#snapshot" in rendered
    snapshot_by_occi(other_client, volume, status=404)


def test_a_volume_attached_to_a_running_compute_is_snapshotted_but_not_reverted(world, client, root):
    volume = new_volume(client)
    compute = entity_id(client.post("/compute/", compute_body(link_line(f"/storage/{volume}", "storage", "storagelink")),
                                    headers=TEXT, status=201).headers["Location"])
    world.drivers.storage.write(volume_name(volume), "LIVE")
    created = root.post_json("/admin/snapshots", {"volume": volume}, status=201).json
    shown = root.get(f"/admin/snapshots/{created['id']}", status=200).json
    assert shown["state"] == "ready", shown
    message = error_of(root.post_json(f"/admin/snapshots/{created['id']}/actions/revert", {}, expect_errors=True), 409)
    assert f"attached to compute {compute}" in message and "stop the compute or detach" in message


def test_a_failed_copy_leaves_the_snapshot_in_error_saying_why_and_it_can_be_deleted(world, client, root):
    volume = new_volume(client)
    world.drivers.storage.failures.fail_next("export_snapshot", "the NFS server went away")
    snapshot_by_occi(client, volume)
    [snapshot] = snapshots_of(root, volume)
    assert snapshot["state"] == "error" and "the NFS server went away" in snapshot["state_message"]
    error_of(root.post_json(f"/admin/snapshots/{snapshot['id']}/actions/revert", {}, expect_errors=True), 409)
    root.delete(f"/admin/snapshots/{snapshot['id']}", status=200)
    root.get(f"/admin/snapshots/{snapshot['id']}", status=404)


def test_a_root_disk_snapshot_on_hosts_without_root_disk_volumes_fails_honestly(world, client, root):
    compute = entity_id(client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"])
    created = root.post_json("/admin/snapshots", {"compute": compute}, status=201).json
    assert created["source"] == "root_disk"
    shown = root.get(f"/admin/snapshots/{created['id']}", status=200).json
    assert shown["state"] == "error" and "no root disk volume on this host" in shown["state_message"]


@pytest.mark.parametrize("body, expected", [
    ({}, "either the storage"),
    ({"volume": "a", "compute": "b"}, "not both"),
    ({"volume": "no-such-volume"}, "no storage no-such-volume"),
    ({"volume": 5}, "must be"),
])
def test_refusals_say_what_is_accepted(root, body, expected):
    response = root.post_json("/admin/snapshots", body, expect_errors=True)
    assert expected in response.json["error"]["message"]
    assert response.status_int in (400, 404)


def test_a_volume_from_a_snapshot_cannot_be_smaller_than_it(world, client, root):
    volume = new_volume(client, 2.0)
    snapshot_by_occi(client, volume)
    [snapshot] = snapshots_of(root, volume)
    message = error_of(root.post_json(f"/admin/snapshots/{snapshot['id']}/actions/volume", {"size_gib": 1},
                                      expect_errors=True), 400)
    assert "at least 2 GiB" in message


def test_a_snapshot_outlives_its_volume_and_still_makes_volumes(world, client, root):
    volume = new_volume(client)
    world.drivers.storage.write(volume_name(volume), "KEEP-ME")
    snapshot_by_occi(client, volume)
    [snapshot] = snapshots_of(root, volume)
    client.delete(f"/storage/{volume}", status=200)
    client.get(f"/storage/{volume}", headers=TEXT, status=404)
    kept = root.get(f"/admin/snapshots/{snapshot['id']}", status=200).json
    assert (kept["state"], kept["volume_id"]) == ("ready", None)
    message = error_of(root.post_json(f"/admin/snapshots/{snapshot['id']}/actions/revert", {}, expect_errors=True),
                       409)
    assert "is gone; make a new volume from the snapshot instead" in message
    made = root.post_json(f"/admin/snapshots/{snapshot['id']}/actions/volume", {}, status=200).json
    assert world.drivers.storage.read(volume_name(made["volume"])) == "KEEP-ME"


def storage_action(client, volume_id: str, term: str, *attributes: str, status: int = 200):
    body = "\n".join([action(term, STORAGE_ACTIONS), *attributes])
    return client.post(f"/storage/{volume_id}?action={term}", body, headers=TEXT, status=status)


def test_the_backup_action_keeps_the_storage_in_secondary_storage(world, client, root):
    volume = new_volume(client)
    world.drivers.storage.write(volume_name(volume), "MARKER-BACKED-UP")
    storage_action(client, volume, "backup", attribute("name", "weekly"))
    [backup] = snapshots_of(root, volume)
    assert (backup["name"], backup["state"]) == ("weekly", "ready")
    assert any(url.endswith(f"/{backup['id']}.qcow2") for url in world.drivers.storage.snapshots)


def test_the_resize_action_grows_storage_and_never_shrinks_it(world, client):
    volume = new_volume(client, 1.0)
    storage_action(client, volume, "resize", attribute("size", 3))
    assert "occi.storage.size=3" in client.get(f"/storage/{volume}", headers=TEXT, status=200).text
    assert world.drivers.storage.volume_size_gib(volume_name(volume)) == 3.0
    refused = storage_action(client, volume, "resize", attribute("size", 2), status=409)
    assert "cannot shrink (from 3 to 2 GiB)" in refused.text
    missing = storage_action(client, volume, "resize", status=400)
    assert "size" in missing.text
