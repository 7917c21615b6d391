"""The job handlers of templates and ISOs: their download into secondary storage, and the
removal of a deleted one's image from there.

Each zone's copy of a template is a job of its own. Secondary storage is an NFS export of the
zone (a local directory in the embedded default), so any Up host of the zone can fetch the image
there (CloudStack hands this to its secondary storage VM; here the hosts' agents do it). The
agent verifies the checksum and answers the image's size, which placement then reserves as the
root disk of every compute made from it.
"""

from __future__ import annotations

from occistack.hostagent.protocol import DownloadTemplate, HostCommand, RemoveSecondaryFile
from occistack.model import OsTemplate, SecondaryStorage, TemplateCopy, Zone
from occistack.model.template_states import TEMPLATE_COPY_TRANSITIONS, TemplateCopyEvent, TemplateCopyState
from occistack.plane.template_copies import (
    charge_secondary_storage,
    copies_of,
    move_copy,
    refresh_template_state,
    set_progress,
)
from occistack.plane.alerts import TEMPLATE_DOWNLOAD_FAILED, raise_alert
from occistack.plane.events import record_event
from occistack.plane.jobs.handlers.base import JobHandler, Outcome, StepContext, StepFailed
from occistack.plane.jobs.commands import secondary_url
from occistack.plane.jobs.handlers.common import up_host_in
from occistack.plane.usage import open_template_usage

#: An image of several GiB over a slow link takes longer than a guest takes to boot.
DOWNLOAD_WAIT_SECONDS = 3600.0


def _copy(ctx: StepContext) -> tuple[TemplateCopy | None, OsTemplate | None]:
    copy = ctx.session.get(TemplateCopy, ctx.arguments.get("copy_id")) if "copy_id" in ctx.arguments else None
    template = ctx.session.get(OsTemplate, ctx.arguments.get("template_id"))
    return copy, template


def _send_to_zone(ctx: StepContext, store: SecondaryStorage, doing: str, command: HostCommand) -> Outcome:
    """Send ``command`` to an Up host of the store's zone (any of them reaches its secondary
    storage) and wait for the answer; StepFailed naming the zone when none is up to do it."""
    host = up_host_in(ctx.session, zone_id=store.zone_id)
    if host is None:
        zone = ctx.session.get(Zone, store.zone_id)
        raise StepFailed(f"no host of zone {zone.name if zone else store.zone_id!r} is up to {doing}")
    ctx.send(host.id, command)
    return Outcome.WAIT


def _source(ctx: StepContext, copy: TemplateCopy, template: OsTemplate) -> str:
    """Where a copy is fetched from: the URL the template was registered with (reachable from
    every zone, where another zone's secondary storage need not be), else -- a template saved
    from a compute has none -- a ready copy in another zone's secondary storage."""
    if template.image_url:
        return template.image_url
    for other in copies_of(ctx.session, template.id):
        if other.id != copy.id and other.state == TemplateCopyState.READY and other.secondary_storage_id:
            store = ctx.session.get(SecondaryStorage, other.secondary_storage_id)
            if store is not None and other.secondary_path:
                return secondary_url(store.url, other.secondary_path)
    raise StepFailed("it has no URL and no ready copy in another zone's secondary storage to copy from")


def download_template(ctx: StepContext) -> Outcome:
    copy, template = _copy(ctx)
    if copy is None or template is None:
        return Outcome.DONE  # deleted before it was downloaded
    store = ctx.session.get(SecondaryStorage, copy.secondary_storage_id) \
        if copy.secondary_storage_id is not None else None
    if store is None:
        raise StepFailed("its secondary storage was removed before the download")
    if ctx.step == 0:
        move_copy(ctx.session, copy, TemplateCopyEvent.STARTED)
        copy.progress = 0
        return _send_to_zone(ctx, store, "download it", DownloadTemplate(
            url=_source(ctx, copy, template), checksum=template.checksum,
            destination=secondary_url(store.url, copy.secondary_path), template=template.term))
    answer = ctx.answer(DownloadTemplate)
    if answer.error is not None:
        raise StepFailed(answer.error)
    downloaded = ctx.result(DownloadTemplate)
    if downloaded.size_gib > 0:
        template.size_gib = downloaded.size_gib
    move_copy(ctx.session, copy, TemplateCopyEvent.SUCCEEDED)
    copy.progress, copy.size_gib = 100, template.size_gib
    refresh_template_state(ctx.session, template)
    charge_secondary_storage(ctx.session, store.id, template.size_gib)
    open_template_usage(ctx.session, copy, template)
    zone = ctx.session.get(Zone, copy.zone_id)
    record_event(ctx.session, "template.register", "completed", "template", template.id,
                 project_id=template.project_id, job_id=ctx.job.id,
                 description=f"{template.term!r} is ready in secondary storage {store.name!r} of zone "
                             f"{zone.name if zone else copy.zone_id!r} ({template.size_gib:g} GiB)")
    return Outcome.DONE


def download_failed(ctx: StepContext, message: str) -> None:
    copy, template = _copy(ctx)
    if copy is None or template is None:
        return
    if TEMPLATE_COPY_TRANSITIONS.allows(copy.state, TemplateCopyEvent.FAILED):
        move_copy(ctx.session, copy, TemplateCopyEvent.FAILED, message)
    else:
        copy.state_message = message
    refresh_template_state(ctx.session, template)
    record_event(ctx.session, "template.register", "failed", "template", template.id,
                 project_id=template.project_id, job_id=ctx.job.id, description=message)
    zone = ctx.session.get(Zone, copy.zone_id)
    raise_alert(ctx.session, TEMPLATE_DOWNLOAD_FAILED, "template-copy", copy.id,
                f"{template.format} {template.term!r} could not be downloaded into zone "
                f"{zone.name if zone else copy.zone_id!r}: {message}", zone_id=copy.zone_id)


def download_progress(session, arguments: dict, percent: int) -> None:
    """An agent's report of how far a download has come (see gateway.progress)."""
    if "copy_id" in arguments:
        set_progress(session, arguments["copy_id"], percent)


def remove_template_image(ctx: StepContext) -> Outcome:
    """A deleted template's image leaves secondary storage, removed by an Up host of its zone."""
    store = ctx.session.get(SecondaryStorage, ctx.arguments["store_id"])
    if store is None:
        raise StepFailed("its secondary storage was removed from the cloud first; the image stays there")
    if ctx.step == 0:
        # Queued behind the template's download (one resource, one job at a time): whatever
        # that left, this removes.
        return _send_to_zone(ctx, store, "remove it",
                             RemoveSecondaryFile(secondary_url(store.url, ctx.arguments["path"])))
    answer = ctx.answer(RemoveSecondaryFile)
    if answer.error is not None:
        raise StepFailed(answer.error)
    record_event(ctx.session, "template.image.remove", "completed", "template", ctx.arguments["template_id"],
                 job_id=ctx.job.id,
                 description=f"the image of {ctx.arguments['template']!r} is gone from secondary storage "
                             f"{store.name!r}")
    return Outcome.DONE


def removal_failed(ctx: StepContext, message: str) -> None:
    # The template is gone already; the event tells the administrator where its file stays.
    record_event(ctx.session, "template.image.remove", "failed", "template", ctx.arguments["template_id"],
                 job_id=ctx.job.id,
                 description=f"the image of {ctx.arguments['template']!r} ({ctx.arguments['path']}) stays in "
                             f"secondary storage: {message}")


HANDLERS = {
    "download_template": JobHandler(download_template, download_failed, wait_seconds=DOWNLOAD_WAIT_SECONDS,
                                    on_progress=download_progress),
    "remove_template_image": JobHandler(remove_template_image, removal_failed),
}
