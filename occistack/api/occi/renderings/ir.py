"""The one intermediate representation (IR) of OCCI renderings, in both directions.

Incoming: every parser (text/plain, text/occi headers, JSON) returns a :class:`RenderingIR`.
The text renderings cannot tell an entity from an action invocation or a category filter --
all are Category, Link and X-OCCI-Attribute lines -- so the IR keeps that generic shape and the
view interprets it in context (``ir.kind``, ``ir.mixins``, ``ir.action``). The JSON parser maps
its distinct shapes (resource, link, action invocation, mixin, collections) onto the same fields.

Outgoing: views describe what to render with :class:`ResourceOut` and :class:`LinkOut`, built
from the database, and the renderers turn them into bytes. Neither side sees the other's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from occistack.model.occi import Action, Category, Kind


@dataclass(frozen=True, slots=True)
class AttributeSpecIR:
    """An attribute named in a category rendering's ``attributes="…"`` list."""

    name: str
    immutable: bool = False
    required: bool = False


@dataclass(frozen=True, slots=True)
class CategoryIR:
    """One parsed ``Category`` (or JSON kind/mixin/action reference or definition)."""

    scheme: str
    term: str
    #: "kind", "mixin" or "action"; JSON references (``"kind": "…"``) set it from their place.
    cls: str
    title: str | None = None
    #: text ``rel`` and JSON ``depends``/``parent`` (text carries only the first one).
    depends: tuple[str, ...] = ()
    applies: tuple[str, ...] = ()
    location: str | None = None
    attributes: tuple[AttributeSpecIR, ...] = ()
    actions: tuple[str, ...] = ()

    @property
    def identifier(self) -> str:
        return self.scheme + self.term


# LinkIR and RenderingIR are made afresh for each request and handed to that request's view
# alone, so they are not frozen: a frozen dataclass sets each field through object.__setattr__,
# which made building them a sixth of a JSON request's parse time (bench/parse.py). CategoryIR
# and AttributeSpecIR are kept by the parsers' caches and shared between requests: frozen.
@dataclass(slots=True)
class LinkIR:
    """One parsed link: a text ``Link`` line or a JSON link object.

    ``target`` is the ``<…>`` URI (JSON: ``target.location``). An *action link*
    (``</compute/1?action=start>``, which a client echoes back in a PUT of a GET's rendering)
    has ``is_action`` set and carries no category.
    """

    target: str
    rel: str | None = None
    self_location: str | None = None
    #: the first identifier of ``category="…"`` (JSON: ``kind``), normally a link kind.
    kind: str | None = None
    mixins: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    #: JSON ``source.location`` (text: only through the ``occi.core.source`` attribute).
    source: str | None = None
    target_kind: str | None = None
    source_kind: str | None = None

    @property
    def is_action(self) -> bool:
        return "?action=" in self.target


@dataclass(slots=True)
class RenderingIR:
    """What a request body (or its OCCI headers) said.

    ``members`` is set only for a JSON collection of several entities; then the top-level
    fields are empty and ``entities()`` returns the members.
    """

    categories: tuple[CategoryIR, ...] = ()
    links: tuple[LinkIR, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    locations: tuple[str, ...] = ()
    members: tuple[RenderingIR, ...] = ()

    @property
    def kind(self) -> CategoryIR | None:
        for category in self.categories:
            if category.cls == "kind":
                return category
        return None

    @property
    def kinds(self) -> tuple[CategoryIR, ...]:
        return tuple(c for c in self.categories if c.cls == "kind")

    @property
    def mixins(self) -> tuple[CategoryIR, ...]:
        return tuple(c for c in self.categories if c.cls == "mixin")

    @property
    def action(self) -> CategoryIR | None:
        for category in self.categories:
            if category.cls == "action":
                return category
        return None

    @property
    def is_empty(self) -> bool:
        return not (self.categories or self.links or self.attributes or self.locations or self.members)

    def entities(self) -> tuple[RenderingIR, ...]:
        return self.members if self.members else (self,)


# --- outgoing ------------------------------------------------------------------------------------

# LinkOut and ResourceOut are built for one response and read once by its renderer; as with
# LinkIR and RenderingIR, freezing them (an object.__setattr__ per field) was a measurable part
# of a 10,000-compute listing (bench/listing.py), and nothing keeps them past the response.
@dataclass(slots=True)
class LinkOut:
    """A link to render, inline in its source resource or on its own.

    Locations are paths relative to the application (``/networkinterface/<id>``); the renderers
    make them absolute where the specification wants URLs (``Location``, ``X-OCCI-Location``).
    ``attributes`` hold every attribute to render, ``occi.core.*`` included, already typed.
    """

    location: str
    kind: Kind
    mixins: tuple[Category, ...]
    attributes: dict[str, Any]
    source: str
    source_kind: str
    target: str
    target_kind: str | None
    actions: tuple[Action, ...] = ()


@dataclass(slots=True)
class ResourceOut:
    """A resource to render, with its links and the actions applicable in its current state."""

    location: str
    kind: Kind
    mixins: tuple[Category, ...]
    attributes: dict[str, Any]
    links: tuple[LinkOut, ...] = ()
    actions: tuple[Action, ...] = ()
