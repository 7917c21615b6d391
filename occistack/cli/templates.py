"""``occistack template`` and ``occistack iso``: images registered by URL and checksum, which a
job downloads into a zone's secondary storage.

The command writes the template, one copy per zone (``--zone``, repeatable) and their download
jobs in one transaction and returns; each download happens when a worker runs its job
(``occistack worker``, or the server's in-process worker), on an Up host of that zone.
``list`` and ``show`` show each zone's copy move from pending through downloading (with its
percentage) to ready, or to error with the reason; ``retry`` downloads a failed copy again and
``copy`` adds a copy in another zone (CloudStack's copyTemplate); ``share`` and ``unshare``
offer a private template to other projects (updateTemplatePermissions). With ``--wait``, register,
copy and retry follow the downloads they started with a progress bar and exit 1 with the
reason if one fails (cli/progress.py).
"""

from __future__ import annotations

import json
from typing import Sequence

import click

from occistack.model.template_states import TemplateCopyState
from occistack.plane import admin
from occistack.plane.admin.cases import catalog
from occistack.plane.admin.cases.catalog import NewTemplate, TemplateChanges
from occistack.plane.admin.cases.common import UNCHANGED
from occistack.plane.admin.records.catalog import TemplateCopyRecord, TemplateRecord
from occistack.cli.base import OrderedGroup, document, json_option, or_unchanged, print_rows, run
from occistack.cli.progress import Step, timeout_option, wait_for, wait_option

_COLUMNS = ("id", "term", "state", "zones", "size_gib", "project_id", "shared_with", "title", "description")
_COPY_COLUMNS = ("zone", "state", "progress", "secondary_storage", "secondary_path", "size_gib", "state_message")


def _attributes(values: tuple[str, ...]) -> dict[str, str] | None:
    """--attribute NAME=VALUE, repeated (values are text)."""
    found = {}
    for value in values:
        name, separator, text = value.partition("=")
        if not separator or not name.strip():
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", param_hint="--attribute")
        found[name.strip()] = text
    return found or None


def _register_options(command):
    options = (
        click.argument("term"),
        click.option("--url", required=True, help="http://, https://, nfs:// or file:/// URL of the image."),
        click.option("--checksum", required=True,
                     help="<algorithm>:<hex> (md5, sha1, sha256, sha512), or a bare hex digest."),
        click.option("--zone", "zones", required=True, multiple=True,
                     help="A zone whose secondary storage gets the image (repeat for several zones)."),
        click.option("--title", help="A description for people."),
        click.option("--os-family", help="linux, windows, …"),
        click.option("--os-name", help="Debian, Ubuntu, …"),
        click.option("--os-version"),
        click.option("--architecture", type=click.Choice(admin.ARCHITECTURES), default="x64", show_default=True),
        click.option("--size-gib", type=float, help="The image's size until the download reports it."),
        click.option("--min-cores", type=int, default=1, show_default=True),
        click.option("--min-memory-gib", type=float, default=0.125, show_default=True),
        click.option("--attribute", "attributes", multiple=True,
                     help="NAME=VALUE published on the mixin (repeat for more)."),
        click.option("--project", help="Make it private to this project (default: public)."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _register(format: str, term: str, url: str, checksum: str, zones: tuple[str, ...], title: str | None,
              os_family: str | None, os_name: str | None, os_version: str | None, architecture: str,
              size_gib: float | None, min_cores: int, min_memory_gib: float, attributes: tuple[str, ...],
              project: str | None, wait: bool = False, timeout_seconds: float | None = None) -> None:
    new = NewTemplate(term=term, url=url, checksum=checksum, zones=list(zones), title=title, format=format,
                      os_family=os_family, os_name=os_name, os_version=os_version, architecture=architecture,
                      size_gib=size_gib, min_cores=min_cores, min_memory_gib=min_memory_gib,
                      extra_attributes=_attributes(attributes), public=project is None, project=project)

    def work(ctx):
        template = catalog.register_template(ctx, new)
        return template.id, [f"{copy.secondary_storage} of zone {copy.zone}" for copy in template.copies], \
            [copy.zone_id for copy in template.copies]

    template_id, stores, zone_ids = run(work)
    noun = "ISO" if format == "iso" else "template"
    click.echo(f"registered {noun} {term} (id {template_id}); a worker will download it into secondary storage "
               f"{', '.join(stores)}")
    if wait:
        _wait_for_copies(format, template_id, zone_ids, timeout_seconds)


def _wait_for_copies(format: str, template: int | str, zone_ids: Sequence[int], timeout_seconds: float | None) -> None:
    """--wait: a progress bar over the downloads into ``zone_ids`` until each copy is ready or
    in error; exit 1 with each failed copy's reason."""
    wanted = set(zone_ids)

    def read(ctx) -> list[Step]:
        copies = catalog.show_template(ctx, template, format=format).copies
        return [Step(f"zone {copy.zone}", 100 if copy.state == TemplateCopyState.READY else copy.progress,
                     copy.state in (TemplateCopyState.READY, TemplateCopyState.ERROR),
                     (copy.state_message or "failed") if copy.state == TemplateCopyState.ERROR else None)
                for copy in copies if copy.zone_id in wanted]

    wait_for(read, "downloading", timeout_seconds=timeout_seconds)
    click.echo(f"ready in {len(wanted)} zone{'' if len(wanted) == 1 else 's'}")


def _update_options(command):
    options = (
        click.argument("term"),
        click.option("--title", help="A new title (\"\" clears it)."),
        click.option("--os-family", help="linux, windows, … (\"\" clears it)."),
        click.option("--os-name", help="Debian, Ubuntu, … (\"\" clears it)."),
        click.option("--os-version", help="\"\" clears it."),
        click.option("--min-cores", type=int, help="The fewest cores a compute made from it may have."),
        click.option("--min-memory-gib", type=float, help="The least memory a compute made from it may have."),
        click.option("--attribute", "attributes", multiple=True,
                     help="NAME=VALUE published on the mixin, replacing the old ones (repeat for more)."),
        click.option("--no-attributes", is_flag=True, help="Publish no extra attributes any more."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _update(format: str, term: str, title: str | None, os_family: str | None, os_name: str | None,
            os_version: str | None, min_cores: int | None, min_memory_gib: float | None,
            attributes: tuple[str, ...], no_attributes: bool) -> None:
    if attributes and no_attributes:
        raise click.UsageError("give --attribute or --no-attributes, not both")
    changes = TemplateChanges(title=or_unchanged(title), os_family=or_unchanged(os_family),
                              os_name=or_unchanged(os_name), os_version=or_unchanged(os_version),
                              min_cores=or_unchanged(min_cores), min_memory_gib=or_unchanged(min_memory_gib),
                              extra_attributes=None if no_attributes else _attributes(attributes) or UNCHANGED)
    run(lambda ctx: catalog.update_template(ctx, term, changes, format=format))
    click.echo(f"updated {'ISO' if format == 'iso' else 'template'} {term}")


def _copy_summary(copy: TemplateCopyRecord) -> str:
    """zone1:ready, zone2:downloading 45%, zone3:error."""
    progress = f" {copy.progress}%" if copy.state == TemplateCopyState.DOWNLOADING else ""
    return f"{copy.zone}:{copy.state}{progress}"


def _copies(template: TemplateRecord) -> list[dict]:
    # A copy's update time is shown to the microsecond, as the admin API shows it.
    return [document(copy, updated_at=copy.updated_at.isoformat() if copy.updated_at else None)
            for copy in template.copies]


def _list(format: str, as_json: bool) -> None:
    def work(ctx):
        return [document(template, zones=_copies(template) if as_json
                         else " ".join(map(_copy_summary, template.copies)),
                         shared_with=list(template.shared_with) if as_json else ",".join(template.shared_with))
                for template in catalog.list_templates(ctx, format)]

    print_rows(run(work), _COLUMNS, as_json)


def _show(format: str, term: str, as_json: bool) -> None:
    def work(ctx):
        found = catalog.show_template(ctx, term, format=format)
        return document(found, zones=_copies(found), shared_with=list(found.shared_with))

    shown = run(work)
    if as_json:
        click.echo(json.dumps(shown, indent=2, default=str))
        return
    for column in _COLUMNS:
        if column == "shared_with":
            click.echo(f"shared_with: {', '.join(shown[column])}")
        elif column != "zones":
            click.echo(f"{column}: {'' if shown.get(column) is None else shown[column]}")
    click.echo("copies:")
    print_rows(shown["zones"], _COPY_COLUMNS, False)


def _copy(format: str, term: str, zone: str, wait: bool, timeout_seconds: float | None) -> None:
    def work(ctx):
        before = {copy.zone_id for copy in catalog.show_template(ctx, term, format=format).copies}
        after = catalog.copy_template(ctx, term, zone, format=format)
        return after.id, [copy.zone_id for copy in after.copies if copy.zone_id not in before]

    template_id, new_zones = run(work)
    click.echo(f"copying {'ISO' if format == 'iso' else 'template'} {term} to zone {zone}; a worker will download "
               "it there (see `list`)")
    if wait:
        _wait_for_copies(format, template_id, new_zones, timeout_seconds)


def _retry(format: str, term: str, zone: str | None, wait: bool, timeout_seconds: float | None) -> None:
    retried = run(lambda ctx: [copy.zone_id for copy in catalog.retry_template(ctx, term, zone, format=format)])
    click.echo(f"downloading {term} again in {len(retried)} zone{'' if len(retried) == 1 else 's'} (see `list`)")
    if wait:
        _wait_for_copies(format, term, retried, timeout_seconds)


def _share(term: str, project: str) -> None:
    shared = run(lambda ctx: catalog.share_template(ctx, term, project).shared_with)
    click.echo(f"shared template {term} with project {project}; now shared with: {', '.join(shared)}")


def _unshare(term: str, project: str) -> None:
    shared = run(lambda ctx: catalog.unshare_template(ctx, term, project).shared_with)
    click.echo(f"template {term} is no longer shared with project {project} (its computes made from it keep "
               f"running); now shared with: {', '.join(shared) or 'no project'}")


def _delete(format: str, term: str) -> None:
    run(lambda ctx: catalog.delete_template(ctx, term, format=format))
    click.echo(f"removed {'ISO' if format == 'iso' else 'template'} {term}")


def _add_image_commands(group: click.Group, format: str, noun: str, article: str) -> None:
    """The same commands for templates and ISOs: register, list, show, update, copy, retry, delete."""

    @group.command("register", help=f"Register the {noun} TERM: a worker downloads it into each zone's "
                                    "secondary storage.")
    @_register_options
    @wait_option
    @timeout_option
    def register(**options) -> None:
        _register(format, **options)

    @group.command("list", help=f"List the {noun}s, with each zone's download state.")
    @json_option
    def list_(as_json: bool) -> None:
        _list(format, as_json)

    @group.command("show", help=f"Show {article} {noun} and each zone's copy (state, download progress, reason).")
    @click.argument("term")
    @json_option
    def show(term: str, as_json: bool) -> None:
        _show(format, term, as_json)

    @group.command("update", help=f"Change {article} {noun}'s title, OS, minimum size or extra attributes (its "
                                  "term, URL, checksum and zones stay).")
    @_update_options
    def update(**options) -> None:
        _update(format, **options)

    @group.command("copy", help=f"Copy the {noun} to another zone's secondary storage (a job downloads it "
                                "there).")
    @click.argument("term")
    @click.option("--zone", required=True, help="The zone that gets a copy.")
    @wait_option
    @timeout_option
    def copy(term: str, zone: str, wait: bool, timeout_seconds: float | None) -> None:
        _copy(format, term, zone, wait, timeout_seconds)

    @group.command("retry", help="Download again a copy whose download failed.")
    @click.argument("term")
    @click.option("--zone", help="Only this zone's copy (default: every copy in error).")
    @wait_option
    @timeout_option
    def retry(term: str, zone: str | None, wait: bool, timeout_seconds: float | None) -> None:
        _retry(format, term, zone, wait, timeout_seconds)

    @group.command("delete", help=f"Remove {article} {noun} no compute was made from, and every zone's copy of it.")
    @click.argument("term")
    def delete(term: str) -> None:
        _delete(format, term)


@click.group(cls=OrderedGroup)
def template() -> None:
    """OS templates (published as OCCI os_tpl mixins once downloaded)."""


@click.group(cls=OrderedGroup)
def iso() -> None:
    """ISO images (installers, rescue systems; never published as os_tpl)."""


_add_image_commands(template, "template", "template", "a")


# Only templates are shared: an ISO is never published to a project.
@template.command("share", help="Share the private template TERM with another project: its users see it as an "
                                "os_tpl mixin and make computes from it.")
@click.argument("term")
@click.option("--project", required=True, help="The project (name or id) that gets the template.")
def share(term: str, project: str) -> None:
    _share(term, project)


@template.command("unshare", help="Stop sharing the template TERM with a project: it leaves that project's "
                                  "catalog at once; computes already made from it keep running.")
@click.argument("term")
@click.option("--project", required=True, help="The project (name or id) that loses the template.")
def unshare(term: str, project: str) -> None:
    _unshare(term, project)
_add_image_commands(iso, "iso", "ISO", "an")
