"""Entity ids: client-chosen when the client insists (VMDIRAC and IM send ``occi.core.id``),
otherwise a fresh UUID."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import ENTITY_ID_LENGTH, Entity
from occistack.plane.errors import Conflict, InvalidRequest

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~\-]{0,%d}" % (ENTITY_ID_LENGTH - 1))


def normalise_entity_id(requested: str) -> str:
    """Strip the ``urn:uuid:`` form the specification's examples use and check what is left."""
    candidate = requested.strip()
    if candidate.lower().startswith("urn:uuid:"):
        candidate = candidate[len("urn:uuid:"):]
    if not _ID_PATTERN.fullmatch(candidate):
        raise InvalidRequest(
            f"occi.core.id {requested!r} is not usable; an id is 1 to {ENTITY_ID_LENGTH} letters, digits, "
            "'.', '_', '~' or '-', starting with a letter or digit (a UUID is best)")
    return candidate


def new_entity_id(session: Session, requested: str | None) -> str:
    if requested is None:
        return str(uuid.uuid4())
    entity_id = normalise_entity_id(requested)
    if entity_id_taken(session, entity_id):
        raise Conflict(f"the id {entity_id} is already in use; choose another occi.core.id or leave it out")
    return entity_id


def entity_id_taken(session: Session, entity_id: str) -> bool:
    """Whether any entity, of any project, has this id (ids are unique across the cloud)."""
    return session.scalar(select(Entity.id).where(Entity.id == entity_id)) is not None
