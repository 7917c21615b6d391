"""The category registry: every kind, mixin and action a server knows, by identifier and location.

Registries are layered. The standard one is built once; a site registry adds the mixins
generated from the database (templates, offerings, zones) and is rebuilt only when those
change; a request's registry adds the calling user's own mixins on top, cheaply, without
copying the layers below.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from occistack.model.occi.categories import Action, AttributeSet, Category, Kind, Mixin
from occistack.model.occi.core import CORE_KINDS, ENTITY
from occistack.model.occi.crtp import CRTP_TEMPLATES
from occistack.model.occi.infrastructure import INFRASTRUCTURE_KINDS, INFRASTRUCTURE_MIXINS
from occistack.model.occi.openstack import OPENSTACK_MIXINS
from occistack.model.occi.templates import AVAILABILITY_ZONE


class CategoryConflict(ValueError):
    """A category's identifier or location is already taken."""


class Registry:
    """An ordered, layered collection of categories.

    Order matters to clients: VMDIRAC drops the first line of ``GET /-/``, so the entity kind
    comes first, then the other kinds, the mixins and the actions in declaration order.
    """

    __slots__ = ("_parent", "_by_identifier", "_by_location", "_own")

    def __init__(self, categories: Iterable[Category] = (), parent: Registry | None = None):
        self._parent = parent
        self._by_identifier: dict[str, Category] = {}
        self._by_location: dict[str, Kind | Mixin] = {}
        self._own: list[Category] = []
        for category in categories:
            self._add(category)

    def _add(self, category: Category) -> None:
        identifier = category.identifier
        if self.get(identifier) is not None:
            raise CategoryConflict(f"the category {identifier} is already defined")
        location = getattr(category, "location", None)
        if location is not None and self.by_location(location) is not None:
            raise CategoryConflict(f"the location {location} is already bound to "
                                   f"{self.by_location(location).identifier}")
        self._by_identifier[identifier] = category
        if location is not None:
            self._by_location[location] = category  # type: ignore[assignment]
        self._own.append(category)
        if isinstance(category, (Kind, Mixin)):
            for action in category.actions:
                if self.get(action.identifier) is None:
                    self._by_identifier[action.identifier] = action
                    self._own.append(action)

    def extended(self, categories: Iterable[Category]) -> Registry:
        """A registry that sees this one plus ``categories``; this one is not changed."""
        return Registry(categories, parent=self)

    # --- lookups -----------------------------------------------------------------------------

    def get(self, identifier: str) -> Category | None:
        registry: Registry | None = self
        while registry is not None:
            category = registry._by_identifier.get(identifier)
            if category is not None:
                return category
            registry = registry._parent
        return None

    def by_location(self, location: str) -> Kind | Mixin | None:
        registry: Registry | None = self
        while registry is not None:
            category = registry._by_location.get(location)
            if category is not None:
                return category
            registry = registry._parent
        return None

    def kind(self, identifier: str) -> Kind | None:
        category = self.get(identifier)
        return category if isinstance(category, Kind) else None

    def mixin(self, identifier: str) -> Mixin | None:
        category = self.get(identifier)
        return category if isinstance(category, Mixin) else None

    def action(self, identifier: str) -> Action | None:
        category = self.get(identifier)
        return category if isinstance(category, Action) else None

    def __iter__(self) -> Iterator[Category]:
        """Every category, kinds first (entity first of all), then mixins, then actions."""
        everything = list(self._all())
        kinds = [c for c in everything if isinstance(c, Kind)]
        kinds.sort(key=lambda kind: kind != ENTITY)
        yield from kinds
        yield from (c for c in everything if isinstance(c, Mixin))
        yield from (c for c in everything if isinstance(c, Action))

    def _all(self) -> Iterator[Category]:
        if self._parent is not None:
            yield from self._parent._all()
        yield from self._own

    def __len__(self) -> int:
        return sum(1 for _ in self._all())

    def kinds(self) -> list[Kind]:
        return [c for c in self if isinstance(c, Kind)]

    def mixins(self) -> list[Mixin]:
        return [c for c in self if isinstance(c, Mixin)]

    def actions(self) -> list[Action]:
        return [c for c in self if isinstance(c, Action)]

    def related(self, category: Category) -> list[Category]:
        """The category and those that point at it: its actions, the kinds whose parent it is
        and the mixins that depend on it (so filtering on os_tpl lists every OS template)."""
        found: list[Category] = []
        for candidate in self:
            if candidate == category:
                found.append(candidate)
            elif isinstance(candidate, Kind) and candidate.parent == category:
                found.append(candidate)
            elif isinstance(candidate, Mixin) and category in candidate.depends:
                found.append(candidate)
            elif isinstance(candidate, Action) and isinstance(category, (Kind, Mixin)) \
                    and candidate in category.actions:
                found.append(candidate)
        return found

    def attribute_set(self, kind: Kind, mixins: Iterable[Mixin] = ()) -> AttributeSet:
        return AttributeSet.of(kind, mixins)


STANDARD_CATEGORIES: tuple[Category, ...] = (
    *CORE_KINDS,
    *INFRASTRUCTURE_KINDS,
    *INFRASTRUCTURE_MIXINS,
    AVAILABILITY_ZONE,
    *OPENSTACK_MIXINS,
    *CRTP_TEMPLATES,
)


def standard_registry() -> Registry:
    """OCCI 1.2 Core and Infrastructure, both contextualization schemes and the CRTP templates."""
    return Registry(STANDARD_CATEGORIES)
