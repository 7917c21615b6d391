"""``occistack template`` and ``occistack iso``: images registered by URL and checksum, which a
job downloads into a zone's secondary storage.

The command writes the template and its download job in one transaction and returns; the
download happens when a worker runs the job (``occistack worker``, or the server's in-process
worker), on an Up host of the zone. ``list`` shows it move from downloading to ready (or to
error, with the reason in its description).
"""

from __future__ import annotations

import click

from ..model import SecondaryStorage
from ..orchestrator import admin
from ..orchestrator.jobs import JobDispatcher
from .base import OrderedGroup, document, json_option, print_rows, run

_COLUMNS = ("id", "term", "state", "zone", "secondary_storage", "size_gib", "project_id", "title", "description")


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
        click.option("--url", required=True, help="http://, https:// or nfs:// URL of the image."),
        click.option("--checksum", required=True,
                     help="<algorithm>:<hex> (md5, sha1, sha256, sha512), or a bare hex digest."),
        click.option("--zone", required=True, help="The zone whose secondary storage gets the image."),
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


def _register(format: str, term: str, url: str, checksum: str, zone: str, title: str | None,
              os_family: str | None, os_name: str | None, os_version: str | None, architecture: str,
              size_gib: float | None, min_cores: int, min_memory_gib: float, attributes: tuple[str, ...],
              project: str | None) -> None:
    extra = _attributes(attributes)

    def work(session, actor):
        template = admin.register_template(
            session, term=term, url=url, checksum=checksum, zone=zone, title=title, format=format,
            os_family=os_family, os_name=os_name, os_version=os_version, architecture=architecture,
            size_gib=size_gib, min_cores=min_cores, min_memory_gib=min_memory_gib, extra_attributes=extra,
            public=project is None, project=project, actor=actor, dispatcher=JobDispatcher())
        return template.id, session.get(SecondaryStorage, template.secondary_storage_id).name

    template_id, store = run(work)
    noun = "ISO" if format == "iso" else "template"
    click.echo(f"registered {noun} {term} (id {template_id}); a worker will download it into secondary storage "
               f"{store}")


def _list(format: str, as_json: bool) -> None:
    def work(session, _actor):
        stores = {row.id: row for row in admin.list_secondary_storage(session)}
        zones = {row.id: row.name for row in admin.list_zones(session)}
        rows = []
        for row in admin.list_templates(session, format=format):
            store = stores.get(row.secondary_storage_id)
            rows.append(document(row, secondary_storage=store.name if store else None,
                                 zone=zones.get(store.zone_id) if store else None))
        return rows

    print_rows(run(work), _COLUMNS, as_json)


def _delete(format: str, term: str) -> None:
    run(lambda session, actor: admin.delete_template(session, term, format=format, actor=actor,
                                                     dispatcher=JobDispatcher()))
    click.echo(f"removed {'ISO' if format == 'iso' else 'template'} {term}")


# --- template ----------------------------------------------------------------------------------

@click.group(cls=OrderedGroup)
def template() -> None:
    """OS templates (published as OCCI os_tpl mixins once downloaded)."""


@template.command("register")
@_register_options
def template_register(**options) -> None:
    """Register the template TERM: a worker downloads it into the zone's secondary storage."""
    _register("template", **options)


@template.command("list")
@json_option
def template_list(as_json: bool) -> None:
    """List the OS templates, with their download state."""
    _list("template", as_json)


@template.command("delete")
@click.argument("term")
def template_delete(term: str) -> None:
    """Remove a template no compute was made from."""
    _delete("template", term)


# --- iso ------------------------------------------------------------------------------------------

@click.group(cls=OrderedGroup)
def iso() -> None:
    """ISO images (installers, rescue systems; never published as os_tpl)."""


@iso.command("register")
@_register_options
def iso_register(**options) -> None:
    """Register the ISO TERM: a worker downloads it into the zone's secondary storage."""
    _register("iso", **options)


@iso.command("list")
@json_option
def iso_list(as_json: bool) -> None:
    """List the ISOs, with their download state."""
    _list("iso", as_json)


@iso.command("delete")
@click.argument("term")
def iso_delete(term: str) -> None:
    """Remove an ISO."""
    _delete("iso", term)
