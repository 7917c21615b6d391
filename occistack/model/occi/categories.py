"""The OCCI Core classification: categories, kinds, mixins, actions and attribute definitions.

These are frozen values. They carry no I/O and no database ids: a category is identified by its
scheme and term alone (GFD.221 §3), so two categories with the same identifier are equal even if
one was generated from a database row and the other declared in code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

#: JSON rendering type names (GFD.225 §3.3); "integer" is ours and renders as "number".
ATTRIBUTE_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})


class AttributeValueError(ValueError):
    """A value does not fit an attribute definition; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """One attribute of a kind, mixin or action (GFD.221 §3.4, new in 1.2)."""

    name: str
    type: str = "string"
    mutable: bool = True
    required: bool = False
    default: Any = None
    #: a POSIX ERE for strings, rendered as such in text and as a JSON Schema "pattern" in JSON.
    pattern: str | None = None
    description: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: the most characters a string may have (what its database column holds).
    max_length: int | None = None

    def __post_init__(self) -> None:
        if self.type not in ATTRIBUTE_TYPES:
            raise ValueError(f"attribute {self.name}: unknown type {self.type!r}")

    def json_pattern(self) -> dict[str, Any] | None:
        """The JSON Schema fragment that the JSON rendering carries as ``pattern``."""
        schema: dict[str, Any] = {}
        if self.type == "integer":
            schema["type"] = "integer"
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if not schema:
            return None
        schema.setdefault("type", "number" if self.type == "number" else "string")
        return schema

    @property
    def json_type(self) -> str:
        return "number" if self.type == "integer" else self.type

    def describe_accepted(self) -> str:
        """A short phrase naming what this attribute accepts, for error messages."""
        if self.enum is not None:
            return "one of " + ", ".join(self.enum)
        if self.type == "integer":
            bounds = _bounds_phrase(self.minimum, self.maximum)
            return "an integer" + bounds
        if self.type == "number":
            return "a number" + _bounds_phrase(self.minimum, self.maximum)
        if self.type == "boolean":
            return "true or false"
        if self.pattern is not None:
            return f"a string matching {self.pattern}"
        if self.max_length is not None:
            return f"a {self.type} of at most {self.max_length} characters"
        return f"a {self.type}"

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this attribute's type, or raise AttributeValueError.

        Text renderings lose type information (a client may quote a number or send a boolean
        unquoted), and the real clients do both, so numbers in strings are accepted and
        converted; anything that does not convert is refused with what would have been
        accepted.
        """
        converted = self._convert(value)
        if self.enum is not None and converted not in self.enum:
            raise AttributeValueError(
                f"{self.name}={value!r} is not accepted; expected {self.describe_accepted()}")
        if self.type in ("integer", "number"):
            if self.minimum is not None and converted < self.minimum or (
                    self.maximum is not None and converted > self.maximum):
                raise AttributeValueError(
                    f"{self.name}={value!r} is out of range; expected {self.describe_accepted()}")
        if self.max_length is not None and isinstance(converted, str) and len(converted) > self.max_length:
            raise AttributeValueError(
                f"{self.name} is {len(converted)} characters long; expected {self.describe_accepted()}")
        if self.pattern is not None and isinstance(converted, str):
            if _compiled(self.pattern).fullmatch(converted) is None:
                raise AttributeValueError(
                    f"{self.name}={value!r} is not accepted; expected {self.describe_accepted()}")
        return converted

    def _convert(self, value: Any) -> Any:
        kind = self.type
        if kind == "string":
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise AttributeValueError(f"{self.name} must be a string, not {_json_name(value)}")
            return value if isinstance(value, str) else _number_text(value)
        if kind == "integer":
            number = _as_number(self.name, value)
            if isinstance(number, float):
                if not number.is_integer():
                    raise AttributeValueError(f"{self.name}={value!r} is not accepted; expected an integer")
                number = int(number)
            return number
        if kind == "number":
            number = _as_number(self.name, value)
            return float(number)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise AttributeValueError(f"{self.name}={value!r} is not accepted; expected true or false")
        if kind == "array":
            if not isinstance(value, list):
                raise AttributeValueError(f"{self.name} must be an array, not {_json_name(value)}")
            return value
        if not isinstance(value, dict):
            raise AttributeValueError(f"{self.name} must be an object, not {_json_name(value)}")
        return value


def _bounds_phrase(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {_number_text(minimum)} to {_number_text(maximum)}"
    if minimum is not None:
        return f" of at least {_number_text(minimum)}"
    if maximum is not None:
        return f" of at most {_number_text(maximum)}"
    return ""


def _number_text(number: float | int) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _as_number(name: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise AttributeValueError(f"{name}={value!r} is not accepted; expected a number")
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                raise AttributeValueError(f"{name}={value!r} is not accepted; expected a number") from None
    else:
        raise AttributeValueError(f"{name} must be a number, not {_json_name(value)}")
    if isinstance(number, float) and not math.isfinite(number):
        raise AttributeValueError(f"{name}={value!r} is not accepted; expected a finite number")
    return number


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERN_CACHE.get(pattern)
    if compiled is None:
        compiled = _PATTERN_CACHE[pattern] = re.compile(pattern)
    return compiled


@dataclass(frozen=True, eq=False, slots=True)
class Category:
    """The base of kinds, mixins and actions: an identifier (scheme + term) and a title."""

    scheme: str
    term: str
    title: str | None = None
    attributes: tuple[AttributeDef, ...] = ()
    #: scheme + term, joined once: renderers read it for every entity of every listing.
    identifier: str = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    category_class = "category"

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", self.scheme + self.term)
        object.__setattr__(self, "_hash", hash((self.scheme, self.term)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Category):
            return NotImplemented
        return self.scheme == other.scheme and self.term == other.term

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identifier}>"


@dataclass(frozen=True, eq=False, slots=True)
class Action(Category):
    """An operation on an entity, bound to exactly one kind or mixin (GFD.221 §3.5)."""

    category_class = "action"


@dataclass(frozen=True, eq=False, slots=True)
class Kind(Category):
    """The immutable type of an entity; its parent chain ends at core#entity."""

    parent: Kind | None = None
    actions: tuple[Action, ...] = ()
    location: str | None = None

    category_class = "kind"

    def lineage(self) -> Iterable[Kind]:
        """This kind, then its parent, up to core#entity."""
        kind: Kind | None = self
        while kind is not None:
            yield kind
            kind = kind.parent

    def is_a(self, other: Kind) -> bool:
        return any(ancestor == other for ancestor in self.lineage())

    def location_of(self, entity_id: str) -> str:
        """Where an entity of this kind is, relative to the server: ``/compute/<id>``. Every face
        that shows an entity where tenants find it (the OCCI face, the admin API, the command
        line) names it so."""
        return self.location + entity_id

    def id_named_by(self, named: str) -> str:
        """The id of an entity of this kind named by its id or by its location."""
        return named.removeprefix(self.location or "").strip("/")


@dataclass(frozen=True, eq=False, slots=True)
class Mixin(Category):
    """Extra attributes and actions for entities of the kinds it applies to (GFD.221 §3.6)."""

    depends: tuple[Mixin, ...] = ()
    applies: tuple[Kind, ...] = ()
    actions: tuple[Action, ...] = ()
    location: str | None = None
    #: true for the mixins that users define through the query interface (tags).
    user_defined: bool = False

    category_class = "mixin"

    def applies_to(self, kind: Kind) -> bool:
        """Whether this mixin may be applied to an entity of ``kind``; no ``applies`` means any."""
        if not self.applies:
            return True
        return any(kind.is_a(target) for target in self.applies)

    def depends_on(self, other: Mixin) -> bool:
        """Whether ``other`` is among this mixin's dependencies, directly or through them."""
        pending = list(self.depends)
        while pending:
            mixin = pending.pop()
            if mixin == other:
                return True
            pending.extend(mixin.depends)
        return False


def split_identifier(identifier: str) -> tuple[str, str]:
    """Split ``scheme#term`` into its scheme (ending in ``#``) and its term."""
    scheme, sep, term = identifier.rpartition("#")
    if not sep or not term:
        raise ValueError(f"{identifier!r} is not a category identifier (expected <scheme>#<term>)")
    return scheme + "#", term


TERM_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def is_valid_term(term: str) -> bool:
    """GFD.229's term rule, as relaxed by OCCI 1.2 ('.', '-', '_' allowed after the first)."""
    return TERM_PATTERN.fullmatch(term) is not None


@dataclass(frozen=True, slots=True)
class AttributeSet:
    """The effective attribute definitions of a kind plus mixins, with mixin defaults winning."""

    definitions: dict[str, AttributeDef] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: Kind, mixins: Iterable[Mixin] = ()) -> AttributeSet:
        merged: dict[str, AttributeDef] = {}
        for ancestor in reversed(list(kind.lineage())):
            for definition in ancestor.attributes:
                merged[definition.name] = definition
        for mixin in mixins:
            for dependency in reversed(_dependency_chain(mixin)):
                for definition in dependency.attributes:
                    merged[definition.name] = definition
        return cls(merged)

    def get(self, name: str) -> AttributeDef | None:
        return self.definitions.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.definitions

    def __iter__(self):
        return iter(self.definitions.values())


def _dependency_chain(mixin: Mixin) -> list[Mixin]:
    """The mixin and what it depends on, nearest first, each once."""
    seen: list[Mixin] = []
    pending = [mixin]
    while pending:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.append(current)
        pending.extend(current.depends)
    return seen
