"""``occistack affinity-group``: a project's host affinity and anti-affinity groups.

Each group is published to the project's users as an OCCI mixin
(``…/infrastructure/affinity_group#<name>``); a compute created with it is placed on the same
host as the group's other computes (affinity) or on a host none of them uses (anti-affinity).
OCCI users cannot create groups themselves, so the administrator makes them here (or with the
admin API) for a project.
"""

from __future__ import annotations

import click

from occistack.plane import admin
from occistack.plane.tenant import affinity
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
    def work(session, actor):
        owner = admin.find_project(session, project)
        return affinity.create_affinity_group(session, project_id=owner.id, name=name, kind=kind,
                                              description=description, actor=actor).id

    created = run(work)
    click.echo(f"created {affinity.affinity_kind(kind)} group {name} in project {project} (id {created})")


@affinity_group.command("list")
@click.option("--project", help="Only this project's.")
@json_option
def affinity_group_list(project: str | None, as_json: bool) -> None:
    """List affinity groups and how many computes each has."""
    def work(session, _actor):
        projects = {row.id: row.name for row in admin.list_projects(session)}
        project_id = admin.find_project(session, project).id if project is not None else None
        return [document(row, project=projects.get(row.project_id),
                         members=affinity.members_count(session, row.id))
                for row in affinity.list_affinity_groups(session, project_id=project_id)]

    print_rows(run(work), ("id", "project", "name", "kind", "members", "description"), as_json)


@affinity_group.command("delete")
@project_option
@click.argument("name")
def affinity_group_delete(project: str, name: str) -> None:
    """Remove a group no compute belongs to."""
    def work(session, actor):
        owner = admin.find_project(session, project)
        affinity.delete_affinity_group(session, name, project_id=owner.id, actor=actor)

    run(work)
    click.echo(f"removed affinity group {name} of project {project}")
