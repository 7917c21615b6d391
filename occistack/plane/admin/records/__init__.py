"""What the administrator's operations hand the faces: frozen records, one kind per resource,
instead of the rows they were read from -- so a face (the admin API, the command line) renders
what it is given and never reads the database behind an operation's back.

A record's fields come in two sorts. Its *own* fields copy the row's columns, under the same
names and in the row's column order, but never a secret (a password hash, an agent's token
hash, a sealed BMC password): they are what a face shows as the record's document. Its
*related* fields (made with :func:`related`) say what the row's neighbours add -- the name of
the zone a pod is in, a physical network's VLAN ranges, how many computes an affinity group
has -- and a face shows each where it names it. References to other rows are their ids; the
names come with them where a face shows names.

The records of a list are built together (:func:`names_by_id` reads every parent's name in one
query), never one query per row.

    inventory   regions, zones, pods, clusters
    hosts       hosts
    storage     primary storage pools, secondary storage
    networks    physical networks, VLAN ranges, IP ranges
    catalog     offerings, templates and ISOs with their copies
    tenancy     domains, accounts, projects, affinity groups
    users       users and quotas
    api_keys    users' API key pairs (never their secrets)
    reports     the event log
"""

from __future__ import annotations

from dataclasses import Field, field, fields
from typing import Any, Iterable, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

R = TypeVar("R")

_RELATED = "related"


def related() -> Any:
    """A field that is none of the row's columns: what its neighbours add (a parent's name, the
    rows below it, a count)."""
    return field(metadata={_RELATED: True})


def own_fields(record: Any) -> tuple[Field, ...]:
    """The fields of a record (or record class) that copy the row's columns, in the row's column
    order: what a face shows as the record's document."""
    return tuple(item for item in fields(record) if not item.metadata.get(_RELATED))


def from_row(record_type: type[R], row: Any, **given: Any) -> R:
    """The record of ``row``: each own field read from the row's column of that name, unless
    ``given`` holds it; the related fields are ``given``."""
    values = {item.name: getattr(row, item.name) for item in own_fields(record_type)}
    values.update(given)
    return record_type(**values)


def names_by_id(session: Session, name_column: InstrumentedAttribute, ids: Iterable[int | None]) -> dict[int, str]:
    """id → ``name_column`` of the rows of its table whose ids are among ``ids``, in one query."""
    wanted = {row_id for row_id in ids if row_id is not None}
    if not wanted:
        return {}
    model = name_column.class_
    return dict(session.execute(select(model.id, name_column).where(model.id.in_(wanted))).all())
