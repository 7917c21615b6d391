"""Who is asking: every use case acts on behalf of one caller and only within their project."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    user_name: str
    project_id: int
