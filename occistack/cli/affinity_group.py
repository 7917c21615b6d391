"""``occistack affinity-group``: a project's host affinity and anti-affinity groups.

Each group is published to the project's users as an OCCI mixin
(``…/infrastructure/affinity_group#<name>``); a compute created with it is placed on the same
host as the group's other computes (affinity) or on a host none of them uses (anti-affinity).
OCCI users cannot create groups themselves, so the administrator makes them here (or with the
admin API) for a project.
"""

from __future__ import annotations

import click

from occistack.plane.admin.cases import tenancy
from occistack.plane.admin.cases.tenancy import AffinityGroupChanges, NewAffinityGroup
from occistack.plane.admin import affinity
from occistack.cli.base import OrderedGroup, document, json_option, print_rows, run

project_option = click.option("--project", required=True, help="The project the group belongs to.")


@click.group("affinity-group", cls=OrderedGroup)
def affinity_group() -> None:
    """Affinity and anti-affinity groups of a project."""


@affinity_group.command("create")
@project_option
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(("affinity", "anti-affinity")),
              help="affinity: one host for all; anti-affinity: a different host for each.")
@click.option("--description", help="What the group is for.")
def affinity_group_create(project: str, name: str, kind: str, description: str | None) -> None:
    """Create the group NAME in a project."""
    new = NewAffinityGroup(project=project, name=name, kind=kind, description=description)
    created = run(lambda ctx: tenancy.add_affinity_group(ctx, new).id)
    click.echo(f"created {affinity.affinity_kind(kind)} group {name} in project {project} (id {created})")


@affinity_group.command("update")
@project_option
@click.argument("name")
@click.option("--description", required=True, help="What the group is for (\"\" clears it).")
def affinity_group_update(project: str, name: str, description: str) -> None:
    """Change a group's description (its name and kind stay: its computes were made by them)."""
    run(lambda ctx: tenancy.update_affinity_group(ctx, name, AffinityGroupChanges(description=description),
                                                  project=project))
    click.echo(f"updated affinity group {name} of project {project}")


@affinity_group.command("list")
@click.option("--project", help="Only this project's.")
@json_option
def affinity_group_list(project: str | None, as_json: bool) -> None:
    """List affinity groups and how many computes each has."""
    def work(ctx):
        return [document(group, project=group.project_name, members=group.members)
                for group in tenancy.list_affinity_groups(ctx, project)]

    print_rows(run(work), ("id", "project", "name", "kind", "members", "description"), as_json)


@affinity_group.command("delete")
@project_option
@click.argument("name")
def affinity_group_delete(project: str, name: str) -> None:
    """Remove a group no compute belongs to."""
    run(lambda ctx: tenancy.remove_affinity_group(ctx, name, project=project))
    click.echo(f"removed affinity group {name} of project {project}")
