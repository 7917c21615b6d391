"""``occistack snapshot``: point-in-time copies of volumes and root disks in secondary storage,
of every project. Each command queues a job that the worker runs; ``list`` shows how it went."""

from __future__ import annotations

import click

from occistack.cli.base import OrderedGroup, document, fail, json_option, print_document, print_rows, run
from occistack.cli.progress import Step, timeout_option, wait_for, wait_option
from occistack.cli.snapshot_policy import policy
from occistack.model.snapshots import SnapshotState
from occistack.plane.tenant import snapshots
from occistack.plane.tenant.snapshots import SnapshotRequest, VolumeFromSnapshot

COLUMNS = ("id", "name", "project_id", "source", "of", "zone", "size_gib", "stored_gib", "state", "state_message")


@click.group("snapshot", cls=OrderedGroup)
def snapshot() -> None:
    """Volume snapshots (kept in the zone's secondary storage)."""


def _row(record: snapshots.SnapshotRecord) -> dict:
    return document(record, of=record.volume_id or record.compute_id)


@snapshot.command("create")
@click.option("--volume", help="The storage (volume) id to snapshot.")
@click.option("--compute", help="The compute id whose root disk to snapshot.")
@click.option("--name", help="The snapshot's name (default: what it is of, and the time).")
@json_option
@wait_option
@timeout_option
def snapshot_create(volume: str | None, compute: str | None, name: str | None, as_json: bool, wait: bool,
                    timeout_seconds: float | None) -> None:
    """Take a snapshot of a volume (attached or not) or of a compute's root disk."""
    if (volume is None) == (compute is None):
        fail("give --volume or --compute (one of them)")
    record = run(lambda ctx: snapshots.create_snapshot(
        ctx, SnapshotRequest(volume_id=volume, compute_id=compute, name=name), every_project=True))
    if wait:
        _wait_for_snapshot(record.id, timeout_seconds)
        record = run(lambda ctx: snapshots.show_snapshot(ctx, record.id, every_project=True))
        print_document(_row(record), as_json, f"snapshot {record.id} ({record.name}) is ready")
        return
    print_document(_row(record), as_json,
                   f"snapshot {record.id} ({record.name}) is being taken; `occistack snapshot list` shows when it "
                   "is ready")


#: How far a snapshot is, by its state: taken on the host, then copied to secondary storage.
_PERCENT = {SnapshotState.CREATING: 10, SnapshotState.BACKING_UP: 50}


def _wait_for_snapshot(snapshot_id: int, timeout_seconds: float | None) -> None:
    def read(ctx) -> list[Step]:
        now = snapshots.show_snapshot(ctx, snapshot_id, every_project=True)
        ended = now.state in (SnapshotState.READY, SnapshotState.ERROR)
        failed = (now.state_message or "failed") if now.state == SnapshotState.ERROR else None
        return [Step(f"snapshot {snapshot_id}", 100 if ended else _PERCENT.get(now.state, 50), ended, failed)]

    wait_for(read, "snapshotting", timeout_seconds=timeout_seconds)


@snapshot.command("list")
@click.option("--volume", help="Only the snapshots of this storage id.")
@click.option("--compute", help="Only the snapshots of this compute's root disk.")
@click.option("--project", type=int, help="Only this project's (its id).")
@json_option
def snapshot_list(volume: str | None, compute: str | None, project: int | None, as_json: bool) -> None:
    """List snapshots, oldest first."""
    records = run(lambda ctx: snapshots.list_snapshots(ctx, volume_id=volume, compute_id=compute, project_id=project,
                                                       every_project=True))
    print_rows([_row(record) for record in records], COLUMNS, as_json)


@snapshot.command("revert")
@click.argument("snapshot_id", type=int)
def snapshot_revert(snapshot_id: int) -> None:
    """Overwrite the volume (or root disk) with the snapshot; it must be detached or its compute stopped."""
    record = run(lambda ctx: snapshots.revert_to_snapshot(ctx, snapshot_id, every_project=True))
    click.echo(f"{record.volume_id and 'storage ' + record.volume_id or 'compute ' + str(record.compute_id)} is being "
               f"reverted to snapshot {record.id}")


@snapshot.command("volume")
@click.argument("snapshot_id", type=int)
@click.option("--size-gib", type=float, help="At least the snapshot's size (the default).")
@click.option("--title", help="The new volume's title.")
def snapshot_volume(snapshot_id: int, size_gib: float | None, title: str | None) -> None:
    """Make a new volume of the snapshot, in its project and zone."""
    volume_id = run(lambda ctx: snapshots.create_volume_from_snapshot(
        ctx, VolumeFromSnapshot(snapshot_id, title=title, size_gib=size_gib), every_project=True))
    click.echo(f"storage {volume_id} is being made from snapshot {snapshot_id}")


@snapshot.command("delete")
@click.argument("snapshot_id", type=int)
def snapshot_delete(snapshot_id: int) -> None:
    """Remove the snapshot from secondary storage."""
    run(lambda ctx: snapshots.delete_snapshot(ctx, snapshot_id, every_project=True))
    click.echo(f"snapshot {snapshot_id} is being deleted")


snapshot.add_command(policy)
