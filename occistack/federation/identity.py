"""Who a request comes from: as an outside authority vouches for it, and as this site knows it.

A :class:`FederatedIdentity` is what a credential proves -- a subject of an issuer, with the
virtual organisations (VOs), groups and roles the issuer vouches for -- before this site has
said what it may do. The mapping rules turn it into a project and a role, and provisioning into
a local user: the :class:`Identity` every view works with, whatever the method.

Memberships arrive in three spellings, all read into one :class:`Membership`:

* EGI Check-in / AARC-G002 entitlements:
  ``urn:mace:egi.eu:group:fedcloud.egi.eu:sub:role=vm_operator#aai.egi.eu``;
* VOMS FQANs: ``/fedcloud.egi.eu/sub/Role=VMManager/Capability=NULL``;
* plain group claims: ``fedcloud.egi.eu`` or ``/fedcloud.egi.eu/sub``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: int
    user_name: str
    project_id: int
    #: how the user proved who they are: "password", "ldap" (a directory's password), "oidc",
    #: later "x509", "keystone".
    method: str
    #: admin, member or reader (model.tenancy.ROLES).
    role: str = "member"


@dataclass(frozen=True, slots=True)
class Membership:
    """Membership of a group of a VO: ``group`` is the path from the VO down ("vo" for the VO
    itself, "vo/sub" for a subgroup); ``role`` is the role held there, if the issuer said."""

    group: str
    role: str | None = None

    @property
    def vo(self) -> str:
        return self.group.split("/", 1)[0]

    def __str__(self) -> str:
        return self.group if self.role is None else f"{self.group} (role {self.role})"


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    """What a credential proved, before any mapping."""

    #: "oidc", or "x509" for certificates and VOMS proxies.
    method: str
    #: the issuer as the credential names it (an OIDC ``iss`` URL).
    issuer: str
    #: the issuer's name in this site's settings (``occistack.oidc.<name>.issuer``).
    source: str
    subject: str
    memberships: tuple[Membership, ...] = ()
    #: the raw entitlement URNs and FQANs, for rules that match them as written.
    entitlements: tuple[str, ...] = ()
    fqans: tuple[str, ...] = ()
    #: an X.509 subject DN, when the credential has one.
    dn: str | None = None
    #: a name to show (``preferred_username``, ``name`` or ``email``), never used to match.
    display_name: str | None = None
    #: when the credential stops being valid (Unix time), if it says.
    expires_at: float | None = None

    @property
    def vos(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(membership.vo for membership in self.memberships))

    def describe(self) -> str:
        """What was presented, in words, for the messages of refusals."""
        parts = [f"subject {self.subject!r} of {self.issuer}"]
        if self.dn and self.dn != self.subject:
            parts.append(f"DN {self.dn!r}")
        parts.append("memberships: " + (", ".join(map(str, self.memberships)) or "none"))
        if self.entitlements:
            parts.append("entitlements: " + ", ".join(self.entitlements))
        if self.fqans:
            parts.append("FQANs: " + ", ".join(self.fqans))
        return "; ".join(parts)


# --- reading memberships ------------------------------------------------------------------------------

# AARC-G002: <namespace>:group:<group>[:<subgroup>]*[:role=<role>]#<group authority>; parts are
# percent-encoded.
_ENTITLEMENT = re.compile(r"urn:(?P<namespace>[^#]+?):group:(?P<path>[^#]+?)(?::role=(?P<role>[^:#]+))?"
                          r"(?:#(?P<authority>.*))?")


def membership_from_entitlement(entitlement: str) -> Membership | None:
    """The membership an AARC-G002 group entitlement states; None for other entitlements
    (resource capabilities, licences), which rules can still match as written."""
    match = _ENTITLEMENT.fullmatch(entitlement)
    if match is None:
        return None
    path = [unquote(part) for part in match["path"].split(":")]
    if not all(path):
        return None
    return Membership("/".join(path), unquote(match["role"]) if match["role"] else None)


def membership_from_fqan(fqan: str) -> Membership | None:
    """``/vo[/group…][/Role=r][/Capability=c]``; ``Role=NULL`` means no role."""
    if not fqan.startswith("/"):
        return None
    groups, role = [], None
    for part in fqan.strip("/").split("/"):
        if part.startswith("Role="):
            role = None if part[5:] in ("", "NULL") else part[5:]
        elif part.startswith("Capability="):
            continue
        elif part:
            groups.append(part)
    return Membership("/".join(groups), role) if groups else None


def membership_from_group(group: str) -> Membership | None:
    """A group claim: ``vo`` or a path ``/vo/sub`` (no role)."""
    path = [part for part in group.strip().split("/") if part]
    return Membership("/".join(path)) if path else None


def normalise_group(group: str) -> str:
    """A group as rules may write it ("/vo/sub", "vo:sub", "vo/sub") in the form memberships use."""
    return "/".join(part for part in re.split(r"[/:]", group) if part)
