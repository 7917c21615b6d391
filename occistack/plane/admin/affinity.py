"""Affinity groups: computes of one project that placement keeps on one host ("host affinity")
or on different hosts ("host anti-affinity"), as CloudStack's groups of those names.

A group is published to its project as a mixin (api/occi/catalog.py); a compute created with
that mixin joins the group for life, and placement (placement_service.py) turns the hosts of
the group's other members into the planner's affinity or anti-affinity host set. Groups are
made by the site administrator for a project (admin API, command line): OCCI has no way for a
user to create a mixin that carries a rule, only tags.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from occistack.model import AffinityGroup, VirtualMachine
from occistack.model.contention import ROW_LOCK
from occistack.model.occi import is_valid_term
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    count,
    find_row,
    is_id,
    record_change,
    refuse_duplicate,
    refuse_if_used,
)
from occistack.plane.errors import InvalidRequest, NotFound

#: The kinds, as the model (and CloudStack) names them.
KINDS = ("host affinity", "host anti-affinity")
#: What may be typed for each kind: the full name or its short form.
KIND_WORDS = {"affinity": "host affinity", "anti-affinity": "host anti-affinity",
              **{kind: kind for kind in KINDS}}
_LONGEST_NAME = 64
_LONGEST_DESCRIPTION = 255


def affinity_kind(kind: object) -> str:
    """"anti-affinity" or "host anti-affinity" → "host anti-affinity" (and so for affinity)."""
    found = KIND_WORDS.get(kind.strip().lower()) if isinstance(kind, str) else None
    if found is None:
        raise InvalidRequest(f"the affinity group kind {kind!r} is not accepted; accepted: affinity, anti-affinity "
                             f"(or {' / '.join(repr(k) for k in KINDS)})")
    return found


def create_affinity_group(session: Session, *, project_id: int, name: str, kind: str,
                          description: str | None = None, actor: Actor = SYSTEM) -> AffinityGroup:
    _check_name(name)
    chosen = affinity_kind(kind)
    description = _checked_description(description)
    refuse_duplicate(session, AffinityGroup, "an affinity group",
                     [AffinityGroup.project_id == project_id, AffinityGroup.name == name], f"named {name!r}",
                     "in this project")
    group = AffinityGroup(project_id=project_id, name=name, kind=chosen, description=description)
    session.add(group)
    session.flush()
    record_change(session, actor, "affinity_group.create", "affinity_group", group.id,
                  f"{chosen} group {name!r}", project_id=project_id)
    return group


def update_affinity_group(session: Session, group: Ref, *, project_id: int | None = None, description=UNCHANGED,
                          actor: Actor = SYSTEM) -> AffinityGroup:
    """Change a group's description (CloudStack has no update of a group at all). Its name is
    the term of the mixin its project's computes were created with, and its kind decided where
    its members were placed: both stay (make another group instead)."""
    found = find_affinity_group(session, group, project_id=project_id)
    changed = {} if description is UNCHANGED else {"description": _checked_description(description)}
    apply_changes(session, found, "affinity group", changed, actor)
    return found


def _checked_description(description: object) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > _LONGEST_DESCRIPTION):
        raise InvalidRequest(f"the description must be text of at most {_LONGEST_DESCRIPTION} characters")
    return description or None


def _check_name(name: object) -> None:
    # The name is the term of the group's mixin, and part of its location.
    if not isinstance(name, str) or not name:
        raise InvalidRequest("the affinity group needs a name: the term of its OCCI mixin")
    if len(name) > _LONGEST_NAME or not is_valid_term(name):
        raise InvalidRequest(f"the affinity group name {name[:80]!r} is not a valid OCCI term: at most "
                             f"{_LONGEST_NAME} letters, digits, '.', '-' and '_', starting with a letter or digit")


def list_affinity_groups(session: Session, *, project_id: int | None = None) -> list[AffinityGroup]:
    """One project's groups, or (for the administrator) every project's."""
    query = select(AffinityGroup).order_by(AffinityGroup.project_id, AffinityGroup.name)
    if project_id is not None:
        query = query.where(AffinityGroup.project_id == project_id)
    return list(session.scalars(query))


def find_affinity_group(session: Session, group: Ref, *, project_id: int | None = None) -> AffinityGroup:
    """By id (of any project unless ``project_id`` is given), or by name within the project."""
    if is_id(group):
        found = find_row(session, AffinityGroup, group, "affinity group")
        if project_id is not None and found.project_id != project_id:
            raise NotFound(f"no affinity group with id {group} in this project")
        return found
    if project_id is None:
        raise InvalidRequest(f"name the project of affinity group {group!r}: group names are unique per project")
    return find_row(session, AffinityGroup, group, "affinity group", where=[AffinityGroup.project_id == project_id],
                    where_text=" in this project", plural="its affinity groups")


def members_count(session: Session, group_id: int) -> int:
    return count(session, VirtualMachine, VirtualMachine.affinity_group_id == group_id)


def members_counts(session: Session, group_ids: Iterable[int]) -> dict[int, int]:
    """group id → how many computes it has, for those of ``group_ids`` that have any."""
    wanted = set(group_ids)
    if not wanted:
        return {}
    return dict(session.execute(select(VirtualMachine.affinity_group_id, func.count())
                                .where(VirtualMachine.affinity_group_id.in_(wanted))
                                .group_by(VirtualMachine.affinity_group_id)).all())


def delete_affinity_group(session: Session, group: Ref, *, project_id: int | None = None,
                          actor: Actor = SYSTEM) -> None:
    """Remove a group no compute belongs to (its members' placement was decided by it)."""
    found = find_affinity_group(session, group, project_id=project_id)
    refuse_if_used(f"affinity group {found.name!r}", {"compute": members_count(session, found.id)})
    session.delete(found)
    session.flush()
    record_change(session, actor, "affinity_group.delete", "affinity_group", found.id,
                  f"{found.kind} group {found.name!r}", project_id=found.project_id)


def affinity_group_id_for(session: Session, project_id: int, name: str) -> int:
    """The id of the project's group ``name`` (what a compute's affinity mixin names)."""
    group_id = session.scalar(select(AffinityGroup.id).where(AffinityGroup.project_id == project_id,
                                                             AffinityGroup.name == name))
    if group_id is None:
        raise NotFound(f"no affinity group {name!r} in this project")
    return group_id


def join_affinity_group(session: Session, group_id: int) -> None:
    """Hold the group's row until this transaction ends, before reading its members: computes
    join a group one at a time. Otherwise two created at once would both see the group empty
    and could land in two zones, or (anti-affinity) both on one host."""
    session.get(AffinityGroup, group_id, with_for_update=ROW_LOCK, populate_existing=True)


def affinity_group_zone(session: Session, group_id: int) -> tuple[int | None, str]:
    """The zone of the group's computes (None while it has none) and the group's name.

    A group's host rule compares hosts, and hosts of two zones never meet, so a group holds the
    computes of one zone, as CloudStack's groups do in effect: the zone of its first member."""
    group = session.get(AffinityGroup, group_id)
    zone_id = session.scalar(select(VirtualMachine.zone_id).where(VirtualMachine.affinity_group_id == group_id,
                                                                  VirtualMachine.zone_id.is_not(None)).limit(1))
    return zone_id, group.name if group is not None else str(group_id)
