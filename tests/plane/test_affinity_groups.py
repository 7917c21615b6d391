"""Affinity groups of a project: creating (names, kinds, uniqueness per project), listing, and
deleting only when no compute belongs to them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.model import EventRecord
from occistack.plane.admin import affinity
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from tests.factories import ProjectFactory, VirtualMachineFactory


@pytest.mark.parametrize("kind, stored", [
    ("anti-affinity", "host anti-affinity"),
    ("affinity", "host affinity"),
    ("host anti-affinity", "host anti-affinity"),
    ("Host Affinity", "host affinity"),
])
def test_a_group_is_created_with_its_kind(session, kind, stored):
    project = ProjectFactory(session=session)
    group = affinity.create_affinity_group(session, project_id=project.id, name="web", kind=kind,
                                           description="the web tier")
    assert (group.project_id, group.name, group.kind, group.description) == (project.id, "web", stored, "the web tier")
    event = session.scalar(select(EventRecord).where(EventRecord.action == "affinity_group.create"))
    assert (event.project_id, event.description) == (project.id, f"{stored} group 'web'")


@pytest.mark.parametrize("options, message", [
    ({"name": "-web"}, "the affinity group name '-web' is not a valid OCCI term"),
    ({"name": "a/b"}, "is not a valid OCCI term"),
    ({"name": ""}, "the affinity group needs a name"),
    ({"name": "x" * 65}, "is not a valid OCCI term: at most 64"),
    ({"kind": "sticky"}, "the affinity group kind 'sticky' is not accepted; accepted: affinity, anti-affinity"),
    ({"kind": None}, "the affinity group kind None is not accepted"),
    ({"description": "d" * 256}, "the description must be text of at most 255 characters"),
])
def test_bad_groups_are_refused(session, options, message):
    project = ProjectFactory(session=session)
    values = {"name": "web", "kind": "affinity", **options}
    with pytest.raises(InvalidRequest, match=message):
        affinity.create_affinity_group(session, project_id=project.id, **values)


def test_names_are_unique_per_project(session):
    first, second = ProjectFactory(session=session), ProjectFactory(session=session)
    affinity.create_affinity_group(session, project_id=first.id, name="web", kind="affinity")
    with pytest.raises(Conflict, match="an affinity group named 'web' already exists in this project"):
        affinity.create_affinity_group(session, project_id=first.id, name="web", kind="anti-affinity")
    affinity.create_affinity_group(session, project_id=second.id, name="web", kind="anti-affinity")
    assert [g.kind for g in affinity.list_affinity_groups(session, project_id=second.id)] == ["host anti-affinity"]
    assert len(affinity.list_affinity_groups(session)) == 2


def test_a_group_with_members_cannot_be_deleted(session):
    project = ProjectFactory(session=session)
    group = affinity.create_affinity_group(session, project_id=project.id, name="db", kind="anti-affinity")
    members = [VirtualMachineFactory(session=session, affinity_group_id=group.id) for _ in range(2)]
    assert affinity.members_count(session, group.id) == 2
    with pytest.raises(Conflict, match="^affinity group 'db' still has 2 computes; remove them first$"):
        affinity.delete_affinity_group(session, "db", project_id=project.id)
    for vm in members:
        session.delete(vm)
    session.flush()
    affinity.delete_affinity_group(session, "db", project_id=project.id)
    assert affinity.list_affinity_groups(session, project_id=project.id) == []


def test_groups_are_found_only_in_their_project(session):
    mine, theirs = ProjectFactory(session=session), ProjectFactory(session=session)
    group = affinity.create_affinity_group(session, project_id=theirs.id, name="web", kind="affinity")
    with pytest.raises(NotFound, match="no affinity group named 'web' in this project; there are none yet"):
        affinity.delete_affinity_group(session, "web", project_id=mine.id)
    with pytest.raises(NotFound, match=f"no affinity group with id {group.id} in this project"):
        affinity.find_affinity_group(session, group.id, project_id=mine.id)
    with pytest.raises(NotFound, match="no affinity group 'web' in this project"):
        affinity.affinity_group_id_for(session, mine.id, "web")
    assert affinity.affinity_group_id_for(session, theirs.id, "web") == group.id
    with pytest.raises(InvalidRequest, match="name the project of affinity group 'web'"):
        affinity.find_affinity_group(session, "web")
    # By id, without a project: the administrator's way.
    affinity.delete_affinity_group(session, group.id)
    assert affinity.list_affinity_groups(session) == []
