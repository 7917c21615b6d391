"""The job handlers of templates and ISOs: their download into secondary storage, and the
removal of a deleted one's image from there.

Secondary storage is an NFS export of the zone, so any Up host of the zone can fetch the image
there (CloudStack hands this to its secondary storage VM; here the hosts' agents do it). The
agent verifies the checksum and answers the image's size, which placement then reserves as the
root disk of every compute made from it.
"""

from __future__ import annotations

from ...model import OsTemplate, SecondaryStorage, Zone
from ..admin.templates import charge_secondary_storage
from ..events import record_event
from .base import JobHandler, Outcome, StepContext, StepFailed
from .common import secondary_url, up_host_in

#: An image of several GiB over a slow link takes longer than a guest takes to boot.
DOWNLOAD_WAIT_SECONDS = 3600.0


def _template(ctx: StepContext) -> OsTemplate | None:
    return ctx.session.get(OsTemplate, ctx.arguments.get("template_id"))


def _send_to_zone(ctx: StepContext, store: SecondaryStorage, doing: str, command: str, payload: dict) -> Outcome:
    """Send ``command`` to an Up host of the store's zone (any of them reaches its NFS export)
    and wait for the answer; StepFailed naming the zone when none is up to do it."""
    host = up_host_in(ctx.session, zone_id=store.zone_id)
    if host is None:
        zone = ctx.session.get(Zone, store.zone_id)
        raise StepFailed(f"no host of zone {zone.name if zone else store.zone_id!r} is up to {doing}")
    ctx.send(host.id, command, payload)
    return Outcome.WAIT


def download_template(ctx: StepContext) -> Outcome:
    template = _template(ctx)
    if template is None:
        return Outcome.DONE  # deleted before it was downloaded
    store = ctx.session.get(SecondaryStorage, template.secondary_storage_id) \
        if template.secondary_storage_id is not None else None
    if store is None:
        raise StepFailed("its secondary storage was removed before the download")
    if ctx.step == 0:
        return _send_to_zone(ctx, store, "download it", "download_template", {
            "url": template.image_url, "checksum": template.checksum,
            "destination": secondary_url(store.url, template.secondary_path), "template": template.term,
        })
    answer = ctx.answer("download_template")
    if answer.error is not None:
        raise StepFailed(answer.error)
    size = (answer.result or {}).get("size_gib")
    if isinstance(size, (int, float)) and not isinstance(size, bool) and size > 0:
        template.size_gib = float(size)
    template.state, template.description = "ready", None
    charge_secondary_storage(ctx.session, store.id, template.size_gib)
    record_event(ctx.session, "template.register", "completed", "template", template.id,
                 project_id=template.project_id, job_id=ctx.job.id,
                 description=f"{template.term!r} is ready in secondary storage {store.name!r} "
                             f"({template.size_gib:g} GiB)")
    return Outcome.DONE


def download_failed(ctx: StepContext, message: str) -> None:
    template = _template(ctx)
    if template is None:
        return
    template.state, template.description = "error", message
    record_event(ctx.session, "template.register", "failed", "template", template.id,
                 project_id=template.project_id, job_id=ctx.job.id, description=message)


def remove_template_image(ctx: StepContext) -> Outcome:
    """A deleted template's image leaves secondary storage, removed by an Up host of its zone."""
    store = ctx.session.get(SecondaryStorage, ctx.arguments["store_id"])
    if store is None:
        raise StepFailed("its secondary storage was removed from the cloud first; the image stays there")
    if ctx.step == 0:
        # Queued behind the template's download (one resource, one job at a time): whatever
        # that left, this removes.
        return _send_to_zone(ctx, store, "remove it", "remove_secondary_file",
                             {"destination": secondary_url(store.url, ctx.arguments["path"])})
    answer = ctx.answer("remove_secondary_file")
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
    "download_template": JobHandler(download_template, download_failed, wait_seconds=DOWNLOAD_WAIT_SECONDS),
    "remove_template_image": JobHandler(remove_template_image, removal_failed),
}
