"""What the site administrator's use cases share: who acts, how a row is named (by id or by
name), the checks every input goes through, the shape of an update (fields left UNCHANGED),
and the event each change leaves behind.

A reference to a row is an ``int`` (its id, as the HTTP API hands out) or a ``str`` (its name,
as an administrator types it on the command line). Names that are unique only inside a parent
(a pod inside its zone) need the parent's reference too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from occistack.model import Project
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.events import record_event

#: A row's id, or its name.
Ref = int | str

#: Names of infrastructure and tenancy rows: they appear in URLs, command lines and log lines.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
NAME_RULE = "letters, digits, '.', '-' and '_', starting with a letter or digit"
#: A host or storage tag: what offerings name to steer placement.
TAG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
#: How many names an error message lists before it stops.
_NAMES_LISTED = 20


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes an administrative change, as the event log names them."""

    label: str
    user_id: int | None = None

    @classmethod
    def admin(cls, user_name: str, user_id: int | None = None) -> Actor:
        return cls(f"admin:{user_name}", user_id)

    @classmethod
    def cli(cls, os_user: str) -> Actor:
        return cls(f"cli:{os_user}")


SYSTEM = Actor("system")


def record_change(session: Session, actor: Actor, action: str, resource_type: str, resource_id: int | str | None,
                  description: str | None = None, project_id: int | None = None, state: str = "completed") -> None:
    """The event of an administrative change, in the change's own transaction: "completed",
    or "started" for a change that something else finishes later (a host's maintenance)."""
    # Not a Caller: an administrator's change belongs to no project, only to its user.
    record_event(session, action, state, resource_type, resource_id, actor=actor.label,
                 project_id=project_id, description=description, user_id=actor.user_id)


# --- updates ---------------------------------------------------------------------------------------

class Unchanged(Enum):
    """The value of a field an update leaves as it is (None is a value: it clears a field)."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED


def changed_fields(changes: Any) -> dict[str, Any]:
    """The fields of an update request (a dataclass) that change something, by name."""
    return {item.name: getattr(changes, item.name) for item in fields(changes)
            if getattr(changes, item.name) is not UNCHANGED}


def apply_changes(session: Session, row, what: str, changed: Mapping[str, Any], actor: Actor, *,
                  label: str | None = None) -> None:
    """Write checked new values to ``row`` and record one event naming what changed
    ("zone 'z1': dns, title"; ``label`` names a row that has no ``name``, or by the name it had
    before a rename); values equal to the row's change nothing, and an update that changes
    nothing records nothing, so scripts may repeat it."""
    different = sorted(name for name, value in changed.items() if getattr(row, name) != value)
    if not different:
        return
    for name in different:
        setattr(row, name, changed[name])
    session.flush()
    resource_type = what.replace(" ", "_")
    record_change(session, actor, f"{resource_type}.update", resource_type, row.id,
                  f"{what} {label or repr(row.name)}: {', '.join(different)}", project_id=project_of(row))


def project_of(row) -> int | None:
    """The project a row belongs to (a project is its own), whose event log shows its changes."""
    return row.id if isinstance(row, Project) else getattr(row, "project_id", None)


# --- references ------------------------------------------------------------------------------------

def is_id(ref: Ref | None) -> bool:
    return isinstance(ref, int) and not isinstance(ref, bool)


def find_row(session: Session, model, ref: Ref, what: str, *, name_column=None, where: Sequence = (),
             where_text: str = "", plural: str | None = None):
    """The row ``ref`` names: by id when it is an int, else by ``name_column`` among the rows
    ``where`` selects (the children of one parent). The NotFound message lists what exists."""
    if is_id(ref):
        row = session.get(model, ref)
        if row is None:
            raise NotFound(f"no {what} with id {ref}")
        return row
    if not isinstance(ref, str) or not ref:
        raise InvalidRequest(f"name the {what} by its name or id")
    name_column = name_column if name_column is not None else model.name
    row = session.scalar(select(model).where(name_column == ref, *where))
    if row is None:
        existing = list(session.scalars(select(name_column).where(*where).order_by(name_column)
                                        .limit(_NAMES_LISTED + 1)))
        listed = ", ".join(existing[:_NAMES_LISTED]) + (", …" if len(existing) > _NAMES_LISTED else "")
        if not existing:
            none_yet = "there are none yet" if where_text else f"there are no {plural_of(what)} yet"
            raise NotFound(f"no {what} named {ref!r}{where_text}; {none_yet}")
        raise NotFound(f"no {what} named {ref!r}{where_text}; {plural or plural_of(what)} are: {listed}")
    return row


def count(session: Session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def refuse_if_used(what: str, dependants: Mapping[str, int]) -> None:
    """Conflict when anything still depends on the row: "zone 'z1' still has 2 pods and 1 host"."""
    used = [f"{number} {noun if number == 1 else plural_of(noun)}" for noun, number in dependants.items() if number]
    if used:
        raise Conflict(f"{what} still has {_and_join(used)}; remove them first")


def plural_of(noun: str) -> str:
    if noun.endswith(("s", "sh")):
        return noun + "es"
    if noun.endswith("y") and not noun.endswith(("ay", "ey", "oy")):
        return noun[:-1] + "ies"
    return noun + "s"


def _and_join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def set_enabled(session: Session, row, what: str, enabled: bool, actor: Actor):
    """Enable or disable a row with an ``enabled`` flag. Enabling what is enabled changes and
    records nothing, so scripts may repeat it."""
    if row.enabled != enabled:
        row.enabled = enabled
        session.flush()
        resource_type = what.replace(" ", "_")
        record_change(session, actor, f"{resource_type}.{'enable' if enabled else 'disable'}", resource_type,
                      row.id, f"{what} {row.name!r}", project_id=project_of(row))
    return row


def refuse_duplicate(session: Session, model, what: str, where: Iterable, description: str, within: str = "") -> None:
    """Conflict when a row like the one to be created exists: "a pod named 'p1' already exists
    in zone 'z1'". Checked before the INSERT so the answer says what clashed; the unique
    constraint still decides a race between two administrators."""
    if count(session, model, *where):
        raise Conflict(f"{what} {description} already exists{' ' + within if within else ''}")


# --- checks -------------------------------------------------------------------------------------------

def check_name(what: str, name: object, longest: int = 64) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"the {what} needs a name ({NAME_RULE})")
    if len(name) > longest:
        raise InvalidRequest(f"the {what} name {name[:80]!r} is too long: at most {longest} characters")
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidRequest(f"the {what} name {name!r} is not usable: use {NAME_RULE}")
    return name


def check_title(what: str, title: object, longest: int = 255) -> str | None:
    if title is None:
        return None
    if not isinstance(title, str):
        raise InvalidRequest(f"the {what} title must be text")
    if len(title) > longest:
        raise InvalidRequest(f"the {what} title is too long: at most {longest} characters")
    return title or None


def check_text(what: str, value: object, longest: int) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{what} is missing")
    if len(value) > longest:
        raise InvalidRequest(f"{what} is too long: at most {longest} characters")
    return value


def check_choice(what: str, value: object, choices: Sequence[str]) -> str:
    if value not in choices:
        raise InvalidRequest(f"{what} {value!r} is not one of the accepted values: {', '.join(choices)}")
    return value  # type: ignore[return-value]


def check_whole(what: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """A whole number within bounds (bools are not numbers here, whatever Python says)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise InvalidRequest(f"{what} must be a whole number; got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise InvalidRequest(f"{what} must be {bounds}; got {value}")
    return value


def check_number(what: str, value: object, *, minimum: float | None = None, above: float | None = None) -> float:
    """A finite number, at least ``minimum`` or greater than ``above``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequest(f"{what} must be a number; got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidRequest(f"{what} must be at least {_number(minimum)}; got {_number(value)}")
    if above is not None and value <= above:
        raise InvalidRequest(f"{what} must be greater than {_number(above)}; got {_number(value)}")
    return float(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def normalise_tags(what: str, tags: str | Iterable[str] | None, longest: int = 255) -> str:
    """Tags as the model keeps them: comma-separated, without blanks or repeats, in the order
    given. Accepts "a,b" or ["a", "b"]."""
    if tags is None:
        return ""
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    cleaned: list[str] = []
    for tag in items:
        if not isinstance(tag, str):
            raise InvalidRequest(f"{what} must be text; got {tag!r}")
        tag = tag.strip()
        if not tag:
            continue
        if not TAG_PATTERN.fullmatch(tag):
            raise InvalidRequest(f"the tag {tag!r} of the {what} is not usable: use {NAME_RULE}")
        if tag not in cleaned:
            cleaned.append(tag)
    joined = ",".join(cleaned)
    if len(joined) > longest:
        raise InvalidRequest(f"the {what} are too long together: at most {longest} characters")
    return joined
