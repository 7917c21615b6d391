"""Mapping rules: which project, with which role, a federated identity gets at this site.

In the spirit of Keystone's mapping rules, written in YAML (or JSON, which YAML reads too)::

    rules:
      - match: {issuer: egi, vo: fedcloud.egi.eu, vo_role: vm_operator}
        project: fedcloud
        role: member
      - match: {issuer: egi, entitlement: "urn:mace:egi.eu:group:ops:*"}
        project: ops
        role: reader
      - match: {vo: "*.example.org"}
        project: "{vo}"            # one project per VO, created on first login

**The first rule whose conditions all hold decides**; later rules are not looked at. (Keystone
collects the groups of every matching rule; occistack gives a user one project, because OCCI
has no way for a client to choose among several, so the order of the rules is the order of
preference.) An identity no rule matches is refused with 403, and the message lists what it
presented and what each rule accepts.

Conditions, each a string or a list of strings (any of them), where ``*`` matches any run of
characters:

* about the identity: ``issuer`` (the issuer's name in the settings, or its URL), ``subject``,
  ``dn`` (an X.509 subject), ``entitlement`` (any entitlement as written), ``fqan`` (any VOMS
  FQAN as written);
* about one membership, all of which must hold for the same membership: ``vo``, ``group``
  (a path: ``vo/sub``, ``/vo/sub`` or ``vo:sub``) and ``vo_role`` (the role in that group:
  an entitlement's ``role=``, an FQAN's ``Role=``).

``project`` may contain ``{vo}``: the VO of the membership that matched. ``role`` is the
user's role here: admin, member (the default) or reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from occistack.model.tenancy import ROLES
from occistack.federation.errors import IdentityNotMapped
from occistack.federation.identity import FederatedIdentity, Membership, normalise_group

IDENTITY_CONDITIONS = ("issuer", "subject", "dn", "entitlement", "fqan")
MEMBERSHIP_CONDITIONS = ("vo", "group", "vo_role")
#: What a project may be called (the admin API's rule for names).
PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_RULE_KEYS = ("match", "project", "role")


class MappingError(ValueError):
    """The rules file cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What a rule gives: a project (by name) and a role in it."""

    project: str
    role: str
    rule: int
    #: (resource, limit) pairs a project gets when the grant creates it: the site's
    #: ``occistack.default_quotas``, set on the rules by the server.
    project_quotas: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str
    regex: re.Pattern

    @classmethod
    def of(cls, text: str, *, group: bool = False) -> Pattern:
        if group:
            text = normalise_group(text)
        return cls(text, re.compile(".*".join(map(re.escape, text.split("*"))), re.DOTALL))

    def matches(self, value: str | None) -> bool:
        return value is not None and self.regex.fullmatch(value) is not None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Rule:
    number: int
    conditions: dict[str, tuple[Pattern, ...]]
    project: str
    role: str

    def grant(self, identity: FederatedIdentity) -> Grant | None:
        if not self._identity_matches(identity):
            return None
        membership = self._matching_membership(identity)
        if membership is _NO_MATCH:
            return None
        project = self.project.replace("{vo}", membership.vo) if membership is not None else self.project
        if not PROJECT_NAME.fullmatch(project):
            raise IdentityNotMapped(
                f"rule {self.number} of the mapping gives {identity.describe()} the project {project!r}, which is "
                "not a usable project name (letters, digits, '.', '-' and '_', at most 64); ask the site to "
                "fix the rule")
        return Grant(project, self.role, self.number)

    def _identity_matches(self, identity: FederatedIdentity) -> bool:
        values = {
            "issuer": (identity.issuer, identity.source),
            "subject": (identity.subject,),
            "dn": (identity.dn,),
            "entitlement": identity.entitlements,
            "fqan": identity.fqans,
        }
        return all(_any_matches(self.conditions[name], values[name])
                   for name in IDENTITY_CONDITIONS if name in self.conditions)

    def _matching_membership(self, identity: FederatedIdentity):
        """The first membership that meets every membership condition; None when the rule has
        no such condition, _NO_MATCH when none does."""
        if not any(name in self.conditions for name in MEMBERSHIP_CONDITIONS):
            return None
        for membership in identity.memberships:
            if self._membership_matches(membership):
                return membership
        return _NO_MATCH

    def _membership_matches(self, membership: Membership) -> bool:
        values = {"vo": membership.vo, "group": membership.group, "vo_role": membership.role}
        return all(_any_matches(self.conditions[name], (values[name],))
                   for name in MEMBERSHIP_CONDITIONS if name in self.conditions)

    def describe(self) -> str:
        words = {"issuer": "issuer", "subject": "subject", "dn": "DN", "entitlement": "entitlement",
                 "fqan": "FQAN", "vo": "VO", "group": "group", "vo_role": "VO role"}
        conditions = ", ".join(f"{words[name]} {' or '.join(map(str, patterns))}"
                               for name, patterns in self.conditions.items())
        return f"rule {self.number}: {conditions} → project {self.project} as {self.role}"


_NO_MATCH = object()


def _any_matches(patterns: Iterable[Pattern], values: Iterable[str | None]) -> bool:
    values = tuple(values)
    return any(pattern.matches(value) for pattern in patterns for value in values)


class MappingRules:
    def __init__(self, rules: Iterable[Rule], source: str = "the mapping rules",
                 project_quotas: Mapping[str, float] | None = None):
        self.rules = tuple(rules)
        self.source = source
        self.project_quotas = tuple((project_quotas or {}).items())

    def with_project_quotas(self, quotas: Mapping[str, float]) -> MappingRules:
        """These rules, giving the projects they create ``quotas``."""
        return MappingRules(self.rules, self.source, quotas)

    def grant(self, identity: FederatedIdentity) -> Grant:
        """The grant of the first rule that matches, or IdentityNotMapped saying what was
        presented and what the rules accept."""
        for rule in self.rules:
            grant = rule.grant(identity)
            if grant is not None:
                return replace(grant, project_quotas=self.project_quotas) if self.project_quotas else grant
        if not self.rules:
            accepted = "this site has no mapping rules, so it accepts no federated identity yet"
        else:
            accepted = "this site accepts: " + "; ".join(rule.describe() for rule in self.rules)
        raise IdentityNotMapped(f"the credential is valid, but no mapping rule gives it a project here: it "
                                f"presented {identity.describe()}; {accepted}")

    def describe(self) -> list[str]:
        return [rule.describe() for rule in self.rules]

    @classmethod
    def from_file(cls, path: str | Path) -> MappingRules:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise MappingError(f"cannot read the mapping rules {path}: {error.strerror or error}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise MappingError(f"the mapping rules {path} are neither YAML nor JSON: {error}") from None
        return cls.from_data(data, source=str(path))

    @classmethod
    def from_data(cls, data: Any, source: str = "the mapping rules") -> MappingRules:
        if isinstance(data, dict) and set(data) == {"rules"}:
            data = data["rules"]
        if data is None:
            data = []
        if not isinstance(data, list):
            raise MappingError(f"{source}: expected a list of rules (or a mapping with the one key 'rules')")
        return cls((_read_rule(number, entry, source) for number, entry in enumerate(data, start=1)), source)


def _read_rule(number: int, entry: Any, source: str) -> Rule:
    where = f"{source}, rule {number}"
    if not isinstance(entry, dict):
        raise MappingError(f"{where}: a rule is a mapping with the keys {', '.join(_RULE_KEYS)}")
    unknown = sorted(set(entry) - set(_RULE_KEYS))
    if unknown:
        raise MappingError(f"{where}: unknown keys {', '.join(unknown)}; a rule has {', '.join(_RULE_KEYS)}")
    match = entry.get("match")
    if not isinstance(match, dict) or not match:
        raise MappingError(f"{where}: 'match' must give at least one condition of: "
                           f"{', '.join(IDENTITY_CONDITIONS + MEMBERSHIP_CONDITIONS)}")
    conditions: dict[str, tuple[Pattern, ...]] = {}
    for name, value in match.items():
        if name not in IDENTITY_CONDITIONS + MEMBERSHIP_CONDITIONS:
            raise MappingError(f"{where}: unknown condition {name!r}; conditions are "
                               f"{', '.join(IDENTITY_CONDITIONS + MEMBERSHIP_CONDITIONS)}")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) and item for item in values):
            raise MappingError(f"{where}: the condition {name!r} must be a non-empty string or a list of them")
        conditions[name] = tuple(Pattern.of(item, group=name == "group") for item in values)
    project = entry.get("project")
    if not isinstance(project, str) or not project:
        raise MappingError(f"{where}: 'project' names the project the rule gives (it may contain {{vo}})")
    if "{vo}" in project and not any(name in conditions for name in MEMBERSHIP_CONDITIONS):
        raise MappingError(f"{where}: the project {project!r} uses {{vo}}, so the rule needs a vo, group or "
                           "vo_role condition to say which membership it means")
    leftover = project.replace("{vo}", "")
    if "{" in leftover or "}" in leftover:
        raise MappingError(f"{where}: the project {project!r} has a placeholder other than {{vo}}")
    if "{vo}" not in project and not PROJECT_NAME.fullmatch(project):
        raise MappingError(f"{where}: the project name {project!r} is not usable: letters, digits, '.', '-' "
                           "and '_', starting with a letter or digit, at most 64")
    role = entry.get("role", "member")
    if role not in ROLES:
        raise MappingError(f"{where}: the role {role!r} is not one of {', '.join(ROLES)}")
    return Rule(number, conditions, project, role)
