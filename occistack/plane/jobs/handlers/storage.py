"""Job handlers of volumes (OCCI storage) and their attachments (storage links).

A volume's GiB were reserved on a primary storage pool when its request was accepted; the
work runs on an Up host that reaches the pool (one of the pool's cluster, or any of its zone
for zone-wide storage). Attach and detach run on the host of the compute.
"""

from __future__ import annotations

from occistack.hostagent.protocol import AttachVolume, CreateVolume, DeleteVolume, DetachVolume, ResizeVolume
from occistack.model import StorageLink, StoragePool, VirtualMachine, Volume, VolumeSnapshot
from occistack.model.states import LINK_TRANSITIONS, VOLUME_TRANSITIONS, Event
from occistack.plane.jobs.deletes import begin_teardown, clear_delete_request, fail_waiting_deletes, submit_waiting_deletes
from occistack.plane.events import record_event
from occistack.plane.transitions import apply_event
from occistack.plane.usage import close_usage, open_usage
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.commands import volume_name
from occistack.plane.jobs.handlers.common import delete_entities, up_host_in
from occistack.plane.jobs.handlers.snapshots import snapshot_url


def _volume(ctx: StepContext) -> Volume | None:
    return ctx.session.get(Volume, ctx.job.entity_id)


def _storage_host(ctx: StepContext, volume: Volume) -> int:
    pool = ctx.session.get(StoragePool, volume.storage_pool_id) if volume.storage_pool_id else None
    if pool is None:
        raise StepFailed("the storage has no primary storage pool")
    host = up_host_in(ctx.session, cluster_id=pool.cluster_id) if pool.cluster_id else \
        up_host_in(ctx.session, zone_id=pool.zone_id)
    if host is None:
        raise StepFailed(f"no host that reaches primary storage {pool.name!r} is up")
    return host.id


def create_volume(ctx: StepContext) -> Outcome:
    volume = _volume(ctx)
    if volume is None:
        return Outcome.DONE
    if ctx.step == 0:
        ctx.send(_storage_host(ctx, volume), _create_command(ctx, volume))
        return Outcome.WAIT
    answer = ctx.answer(CreateVolume)
    if answer.error is not None:
        raise StepFailed(f"creation failed: {answer.error}")
    apply_event(ctx.session, volume, VOLUME_TRANSITIONS, Event.SUCCEEDED)
    open_usage(ctx.session, "volume", volume.id, volume.project_id, zone_id=volume.zone_id,
               size_gib=volume.size_gib)
    record_event(ctx.session, "volume.create", "completed", "storage", volume.id, project_id=volume.project_id,
                 job_id=ctx.job.id, description=f"storage {volume.title or volume.id} of {volume.size_gib:g} GiB "
                                                "created")
    return Outcome.DONE


def _create_command(ctx: StepContext, volume: Volume) -> CreateVolume:
    """An empty volume, or -- made from a snapshot -- a copy of the snapshot's image."""
    if "snapshot_id" not in ctx.arguments:
        return CreateVolume(volume_name(volume.id), volume.size_gib)
    snapshot = ctx.session.get(VolumeSnapshot, ctx.arguments["snapshot_id"])
    if snapshot is None or snapshot.checksum is None:
        raise StepFailed(f"snapshot {ctx.arguments['snapshot_id']} it was to be made from is gone")
    return CreateVolume(volume_name(volume.id), volume.size_gib, source=snapshot_url(ctx.session, snapshot),
                        checksum=snapshot.checksum)


def create_volume_failed(ctx: StepContext, message: str) -> None:
    volume = _volume(ctx)
    if volume is None:
        return
    if VOLUME_TRANSITIONS.allows(volume.state, Event.FAILED):
        apply_event(ctx.session, volume, VOLUME_TRANSITIONS, Event.FAILED, message)
    record_event(ctx.session, "volume.create", "failed", "storage", volume.id, project_id=volume.project_id,
                 job_id=ctx.job.id, description=message)


def resize_volume(ctx: StepContext) -> Outcome:
    volume = _volume(ctx)
    if volume is None:
        return Outcome.DONE
    size = ctx.arguments["size_gib"]
    if ctx.step == 0:
        ctx.send(_storage_host(ctx, volume), ResizeVolume(volume_name(volume.id), size))
        return Outcome.WAIT
    answer = ctx.answer(ResizeVolume)
    if answer.error is not None:
        raise StepFailed(f"resize to {size:g} GiB failed: {answer.error}")
    volume.size_gib, volume.state_message = size, None
    close_usage(ctx.session, "volume", volume.id)
    open_usage(ctx.session, "volume", volume.id, volume.project_id, zone_id=volume.zone_id, size_gib=size)
    return Outcome.DONE


def resize_volume_failed(ctx: StepContext, message: str) -> None:
    volume = _volume(ctx)
    if volume is not None:
        # The storage itself is unchanged: it keeps its state; the extra GiB go back.
        volume.state_message = message
        ctx.services.placement.release_storage(ctx.session, volume.storage_pool_id,
                                               ctx.arguments["size_gib"] - volume.size_gib)


def delete_volume(ctx: StepContext) -> Outcome:
    volume = _volume(ctx)
    if volume is None:
        return Outcome.DONE
    if ctx.step == 0:
        begin_teardown(ctx.session, volume, VOLUME_TRANSITIONS, Event.DESTROY)
        ctx.send(_storage_host(ctx, volume), DeleteVolume(volume_name(volume.id)))
        return Outcome.WAIT
    answer = ctx.answer(DeleteVolume)
    if answer.error is not None:
        raise StepFailed(f"deletion failed: {answer.error}")
    ctx.services.placement.release_storage(ctx.session, volume.storage_pool_id, volume.size_gib)
    close_usage(ctx.session, "volume", volume.id)
    record_event(ctx.session, "volume.delete", "completed", "storage", volume.id, project_id=volume.project_id,
                 job_id=ctx.job.id, description=f"storage {volume.title or volume.id} deleted")
    delete_entities(ctx.session, [volume.id])
    return Outcome.DONE


def delete_volume_failed(ctx: StepContext, message: str) -> None:
    """In error with the reason, and no longer being deleted: a DELETE retries."""
    volume = _volume(ctx)
    if volume is None:
        return
    begin_teardown(ctx.session, volume, VOLUME_TRANSITIONS, Event.DESTROY)
    apply_event(ctx.session, volume, VOLUME_TRANSITIONS, Event.FAILED, message)
    clear_delete_request(ctx.session, volume)
    record_event(ctx.session, "volume.delete", "failed", "storage", volume.id, project_id=volume.project_id,
                 job_id=ctx.job.id, description=message)


# --- storage links -------------------------------------------------------------------------

def _link(ctx: StepContext) -> StorageLink | None:
    return ctx.session.get(StorageLink, ctx.job.entity_id)


def attach_volume(ctx: StepContext) -> Outcome:
    link = _link(ctx)
    if link is None:
        return Outcome.DONE
    vm = ctx.session.get(VirtualMachine, link.vm_id)
    if ctx.step == 0:
        ctx.send(vm.host_id, AttachVolume(vm.instance_name, volume_name(link.volume_id), link.device_id))
        return Outcome.WAIT
    answer = ctx.answer(AttachVolume)
    if answer.error is not None:
        raise StepFailed(f"attaching the storage failed: {answer.error}")
    apply_event(ctx.session, link, LINK_TRANSITIONS, Event.SUCCEEDED)
    return Outcome.DONE


def detach_volume(ctx: StepContext) -> Outcome:
    link = _link(ctx)
    if link is None:
        return Outcome.DONE
    vm = ctx.session.get(VirtualMachine, link.vm_id)
    if ctx.step == 0:
        begin_teardown(ctx.session, link, LINK_TRANSITIONS, Event.DETACH)
    if ctx.step == 0 and vm.host_id is not None and vm.instance_name:
        ctx.send(vm.host_id, DetachVolume(vm.instance_name, volume_name(link.volume_id)))
        return Outcome.WAIT
    if ctx.step > 0:
        answer = ctx.answer(DetachVolume)
        if answer.error is not None:
            raise StepFailed(f"detaching the storage failed: {answer.error}")
    delete_entities(ctx.session, [link.id])
    submit_waiting_deletes(ctx.session, volume_ids=[link.volume_id])  # a delete may wait for it
    return Outcome.DONE


def link_failed(ctx: StepContext, message: str) -> None:
    link = _link(ctx)
    if link is not None and LINK_TRANSITIONS.allows(link.state, Event.FAILED):
        apply_event(ctx.session, link, LINK_TRANSITIONS, Event.FAILED, message)


def detach_failed(ctx: StepContext, message: str) -> None:
    """The link stays, in error with the reason and no longer being deleted; a delete of its
    storage that waited for it fails too."""
    link = _link(ctx)
    if link is None:
        return
    begin_teardown(ctx.session, link, LINK_TRANSITIONS, Event.DETACH)
    apply_event(ctx.session, link, LINK_TRANSITIONS, Event.FAILED, message)
    clear_delete_request(ctx.session, link)
    fail_waiting_deletes(ctx.session, f"it could not be detached from compute {link.vm_id}: {message}",
                         volume_ids=[link.volume_id])


HANDLERS = {
    "create_volume": JobHandler(create_volume, create_volume_failed),
    "resize_volume": JobHandler(resize_volume, resize_volume_failed),
    "delete_volume": JobHandler(delete_volume, delete_volume_failed),
    "attach_volume": JobHandler(attach_volume, link_failed),
    "detach_volume": JobHandler(detach_volume, detach_failed),
}
