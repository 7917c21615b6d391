"""The text renderings out (GFD.229): the values of Category, Link and X-OCCI-Attribute, and
the text/plain renderer that writes them one per line.

The text/occi renderer (render_headers.py) writes the same values into headers, so the value
builders here take ``ascii_only``: header values must stay within what HTTP carries.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterable, Mapping, Sequence, TypeVar

from occistack.model.occi import Action, AttributeDef, Category, Kind, Mixin
from occistack.api.occi.renderings.ir import LinkOut, ResourceOut
from occistack.api.occi.renderings.render import Rendered, Renderer
from occistack.api.occi.renderings.values import quote, render_value

T = TypeVar("T")

_CORE_FIRST = ("occi.core.id", "occi.core.title", "occi.core.summary")
_CORE_FIRST_SET = frozenset(_CORE_FIRST)


class PerCategory(Generic[T]):
    """A rendering computed once per category object (and per ``ascii_only``), then reused.

    Keyed by identity, not by identifier: two registries may hold different definitions of
    one identifier (a user mixin redefined). The entry keeps the category alive, so its id
    cannot be reused by another object while the entry exists.
    """

    def __init__(self, build: Callable[[Any, bool], T], maxsize: int = 4096):
        self._build = build
        self._maxsize = maxsize
        self._entries: dict[tuple[int, bool], tuple[Category, T]] = {}

    def __call__(self, category: Category, ascii_only: bool = False) -> T:
        key = (id(category), ascii_only)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is category:
            return entry[1]
        text = self._build(category, ascii_only)
        if len(self._entries) >= self._maxsize:
            self._entries.clear()
        self._entries[key] = (category, text)
        return text


# --- Category values ------------------------------------------------------------------------

def _category_reference(category: Category, ascii_only: bool) -> str:
    return (f"{category.term}; scheme={quote(category.scheme, ascii_only)}; "
            f'class="{category.category_class}"')


def _attribute_def(definition: AttributeDef) -> str:
    properties = []
    if definition.required:
        properties.append("required")
    if not definition.mutable:
        properties.append("immutable")
    return definition.name + ("{" + " ".join(properties) + "}" if properties else "")


def _category_definition(category: Category, ascii_only: bool) -> str:
    parts = [_category_reference(category, ascii_only)]
    if category.title is not None:
        parts.append("title=" + quote(category.title, ascii_only))
    related: Category | None = None
    if isinstance(category, Kind):
        related = category.parent
    elif isinstance(category, Mixin) and category.depends:
        related = category.depends[0]  # GFD.229 renders only the first
    if related is not None:
        parts.append("rel=" + quote(related.identifier, ascii_only))
    location = getattr(category, "location", None)
    if location is not None:
        parts.append("location=" + quote(location, ascii_only))
    if category.attributes:
        parts.append('attributes="' + " ".join(map(_attribute_def, category.attributes)) + '"')
    actions = getattr(category, "actions", ())
    if actions:
        parts.append('actions="' + " ".join(action.identifier for action in actions) + '"')
    return "; ".join(parts)


#: ``term; scheme="…"; class="…"`` -- how an entity names its kind and mixins.
category_reference: PerCategory[str] = PerCategory(_category_reference)
#: the full Category value of the query interface.
category_definition: PerCategory[str] = PerCategory(_category_definition)


def _action_link_suffix_of(action: Action, ascii_only: bool) -> str:
    return f"?action={action.term}>; rel=" + quote(action.identifier, ascii_only)


_action_link_suffix: PerCategory[str] = PerCategory(_action_link_suffix_of)


# --- Link and X-OCCI-Attribute values ---------------------------------------------------------

def attribute_values(attributes: Mapping[str, Any], ascii_only: bool = False) -> list[str]:
    """``name=value`` for every attribute with a value, occi.core.id/title/summary first."""
    values = []
    for name in _CORE_FIRST:
        if name in attributes:
            text = render_value(attributes[name], ascii_only)
            if text is not None:
                values.append(name + "=" + text)
    for name, value in attributes.items():
        if name not in _CORE_FIRST_SET:
            text = render_value(value, ascii_only)
            if text is not None:
                values.append(name + "=" + text)
    return values


def link_value(link: LinkOut, ascii_only: bool = False) -> str:
    """A resource's link: ``</target>; rel="…"; self="…"; category="…"; attributes…``."""
    parts = ["<" + link.target + ">"]
    if link.target_kind is not None:
        parts.append("rel=" + quote(link.target_kind, ascii_only))
    parts.append("self=" + quote(link.location, ascii_only))
    categories = link.kind.identifier
    if link.mixins:
        categories += " " + " ".join(mixin.identifier for mixin in link.mixins)
    parts.append('category="' + categories + '"')
    parts.extend(attribute_values(link.attributes, ascii_only))
    return "; ".join(parts)


def action_link_value(location: str, action: Action, ascii_only: bool = False) -> str:
    return "<" + location + _action_link_suffix(action, ascii_only)


def link_attributes(link: LinkOut) -> dict[str, Any]:
    """A standalone link's attributes, with its source and target as GFD.229 names them."""
    attributes = {name: link.attributes[name] for name in _CORE_FIRST if name in link.attributes}
    attributes["occi.core.source"] = link.attributes.get("occi.core.source", link.source)
    if link.source_kind is not None or "occi.core.source.kind" in link.attributes:
        attributes["occi.core.source.kind"] = link.attributes.get("occi.core.source.kind",
                                                                  link.source_kind)
    attributes["occi.core.target"] = link.attributes.get("occi.core.target", link.target)
    if link.target_kind is not None or "occi.core.target.kind" in link.attributes:
        attributes["occi.core.target.kind"] = link.attributes.get("occi.core.target.kind",
                                                                  link.target_kind)
    for name, value in link.attributes.items():
        attributes.setdefault(name, value)
    return attributes


class EntityText:
    """An entity as the three lists of header values both text renderings write."""

    __slots__ = ("categories", "links", "attributes")

    def __init__(self, categories: list[str], links: list[str], attributes: list[str]):
        self.categories = categories
        self.links = links
        self.attributes = attributes

    @classmethod
    def of_resource(cls, resource: ResourceOut, ascii_only: bool = False) -> EntityText:
        categories = [category_reference(resource.kind, ascii_only)]
        categories.extend(category_reference(mixin, ascii_only) for mixin in resource.mixins)
        links = [link_value(link, ascii_only) for link in resource.links]
        links.extend(action_link_value(resource.location, action, ascii_only)
                     for action in resource.actions)
        return cls(categories, links, attribute_values(resource.attributes, ascii_only))

    @classmethod
    def of_link(cls, link: LinkOut, ascii_only: bool = False) -> EntityText:
        categories = [category_reference(link.kind, ascii_only)]
        categories.extend(category_reference(mixin, ascii_only) for mixin in link.mixins)
        links = [action_link_value(link.location, action, ascii_only) for action in link.actions]
        return cls(categories, links, attribute_values(link_attributes(link), ascii_only))

    @classmethod
    def of_action_invocation(cls, action: Category, attributes: Mapping[str, Any],
                             ascii_only: bool = False) -> EntityText:
        return cls([category_reference(action, ascii_only)], [],
                   attribute_values(attributes, ascii_only))


def entity_locations(resources: Sequence[ResourceOut], links: Sequence[LinkOut]) -> list[str]:
    return [resource.location for resource in resources] + [link.location for link in links]


# --- text/plain -----------------------------------------------------------------------------

class TextPlainRenderer(Renderer):
    """text/plain (and text/occi+plain): one ``Header: value`` per line.

    Lines are joined by LF with no newline after the last one: VMDIRAC splits the body on
    '\\n' and reads the second word of every line, so a trailing empty line breaks it.
    """

    media_type = "text/plain"
    full_collections = False

    def __init__(self, content_type: str = "text/plain"):
        self.content_type = content_type

    def _lines(self, lines: Iterable[str]) -> Rendered:
        return Rendered("\n".join(lines).encode("utf-8"), self.content_type)

    def _entity(self, text: EntityText) -> Rendered:
        lines = ["Category: " + value for value in text.categories]
        lines.extend("Link: " + value for value in text.links)
        lines.extend("X-OCCI-Attribute: " + value for value in text.attributes)
        return self._lines(lines)

    def query_interface(self, categories: Iterable[Category]) -> Rendered:
        return self._lines("Category: " + category_definition(category) for category in categories)

    def category(self, category: Category) -> Rendered:
        return self._lines(["Category: " + category_definition(category)])

    def resource(self, resource: ResourceOut, base_url: str) -> Rendered:
        return self._entity(EntityText.of_resource(resource))

    def link(self, link: LinkOut, base_url: str) -> Rendered:
        return self._entity(EntityText.of_link(link))

    def locations(self, paths: Sequence[str], base_url: str) -> Rendered:
        return self._lines("X-OCCI-Location: " + base_url + path for path in paths)

    def collection(self, resources: Sequence[ResourceOut], links: Sequence[LinkOut],
                   base_url: str) -> Rendered:
        return self.locations(entity_locations(resources, links), base_url)

    def created(self, paths: Sequence[str], base_url: str,
                entities: Sequence[ResourceOut | LinkOut] = ()) -> Rendered:
        return self.locations(paths, base_url)

    def action_invocation(self, action: Category, attributes: Mapping[str, Any]) -> Rendered:
        return self._entity(EntityText.of_action_invocation(action, attributes))

    def error(self, status: int, title: str, message: str) -> Rendered:
        return Rendered(message.encode("utf-8"), self.content_type)

    def ok(self) -> Rendered:
        return Rendered(b"", self.content_type)
