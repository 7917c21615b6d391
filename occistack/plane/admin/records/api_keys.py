"""Records of users' API key pairs: never the secret, which only the create's answer carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy.orm import Session

from occistack.model import ApiKey, User
from occistack.plane.admin.records import from_row, names_by_id, related


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    user_id: int
    access_key: str
    created_at: datetime
    #: when a request signed with it was last accepted (to the minute), if ever.
    last_used_at: datetime | None
    #: when it was revoked; a revoked key signs nothing.
    revoked_at: datetime | None
    user_name: str = related()


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    """A new pair, with its secret: the only time the secret is shown."""

    key: ApiKeyRecord
    secret: str


def api_key_records(session: Session, keys: Iterable[ApiKey]) -> list[ApiKeyRecord]:
    keys = list(keys)
    users = names_by_id(session, User.name, (key.user_id for key in keys))
    return [from_row(ApiKeyRecord, key, user_name=users[key.user_id]) for key in keys]


def api_key_record(session: Session, key: ApiKey) -> ApiKeyRecord:
    return api_key_records(session, [key])[0]
