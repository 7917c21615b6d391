"""The result of authentication, whatever the method."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: int
    user_name: str
    project_id: int
    #: how the user proved who they are: "password", later "x509", "oidc", "keystone".
    method: str
    #: admin, member or reader (model.tenancy.ROLES).
    role: str = "member"
