"""Admin views of volume snapshots, of every project: ``POST /admin/snapshots`` with
``{"volume": <storage id>}`` or ``{"compute": <compute id>}`` (its root disk) takes one (a job;
GET it to see it become ready), ``GET /admin/snapshots[?project=&volume=&compute=]`` lists them,
``DELETE`` removes one from secondary storage, ``…/actions/revert`` overwrites its volume with it
and ``…/actions/volume`` ``{"title", "size_gib"}`` makes a new volume of it."""

from __future__ import annotations

from typing import Any

from occistack.api.admin.support import AdminResource, add_resource_views, fields, query_int, read_body, record_json
from occistack.plane.tenant import snapshots
from occistack.plane.tenant.snapshots import SnapshotRequest, VolumeFromSnapshot

SNAPSHOT_FIELDS = fields("volume", "compute", "name")
VOLUME_FIELDS = fields("title", "size_gib:number", "id")


def _take(request) -> snapshots.SnapshotRecord:
    body = read_body(request, SNAPSHOT_FIELDS)
    return snapshots.create_snapshot(request.plane, SnapshotRequest(
        volume_id=body.get("volume"), compute_id=body.get("compute"), name=body.get("name")), every_project=True)


def _list(request) -> list[snapshots.SnapshotRecord]:
    return snapshots.list_snapshots(request.plane, volume_id=request.params.get("volume"),
                                    compute_id=request.params.get("compute"),
                                    project_id=query_int(request, "project"), every_project=True)


def _volume_from(request, snapshot_id: int) -> dict[str, Any]:
    """A new volume holding the snapshot, in the snapshot's project and zone: its id (GET it
    under /admin/resources/storage/<id>) beside the snapshot."""
    snapshots.show_snapshot(request.plane, snapshot_id, every_project=True)  # 404 before the body is read
    body = read_body(request, VOLUME_FIELDS)
    volume_id = snapshots.create_volume_from_snapshot(request.plane, VolumeFromSnapshot(
        snapshot_id, title=body.get("title"), size_gib=body.get("size_gib"), entity_id=body.get("id")),
        every_project=True)
    return {"volume": volume_id, "snapshot": record_json(snapshots.show_snapshot(request.plane, snapshot_id,
                                                                                 every_project=True))}


def _render(result) -> dict[str, Any]:
    return result if isinstance(result, dict) else record_json(result)


RESOURCE = AdminResource(
    "snapshots", "snapshot",
    lambda request, snapshot_id: snapshots.show_snapshot(request.plane, snapshot_id, every_project=True),
    list_records=_list,
    create=_take,
    # The row stays, destroying, until its job has removed the file (then GET answers 404).
    remove=lambda request, snapshot_id: snapshots.delete_snapshot(request.plane, snapshot_id, every_project=True),
    actions={"revert": lambda request, snapshot_id: snapshots.revert_to_snapshot(request.plane, snapshot_id,
                                                                                 every_project=True),
             "volume": _volume_from},
    render=_render,
)


def includeme(config) -> None:
    add_resource_views(config, RESOURCE)
