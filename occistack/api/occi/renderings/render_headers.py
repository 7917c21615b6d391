"""text/occi out: the rendering travels in response headers, the body says ``OK``.

Each header's values are comma-joined into one header (the form GFD.229 recommends), and
quoted strings are written in ASCII with \\u escapes, since header values carry no UTF-8.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from occistack.model.occi import Category
from occistack.api.occi.renderings.ir import LinkOut, ResourceOut
from occistack.api.occi.renderings.render import Rendered, Renderer
from occistack.api.occi.renderings.render_text import EntityText, category_definition, entity_locations

_OK = b"OK"


class TextOcciRenderer(Renderer):
    media_type = "text/occi"
    content_type = "text/occi"
    full_collections = False

    def _headers(self, *named_values: tuple[str, list[str]]) -> Rendered:
        headers = tuple((name, ", ".join(values)) for name, values in named_values if values)
        return Rendered(_OK, self.content_type, headers)

    def _entity(self, text: EntityText) -> Rendered:
        return self._headers(("Category", text.categories), ("Link", text.links),
                             ("X-OCCI-Attribute", text.attributes))

    def query_interface(self, categories: Iterable[Category]) -> Rendered:
        return self._headers(("Category", [category_definition(category, True)
                                           for category in categories]))

    def category(self, category: Category) -> Rendered:
        return self._headers(("Category", [category_definition(category, True)]))

    def resource(self, resource: ResourceOut, base_url: str) -> Rendered:
        return self._entity(EntityText.of_resource(resource, ascii_only=True))

    def link(self, link: LinkOut, base_url: str) -> Rendered:
        return self._entity(EntityText.of_link(link, ascii_only=True))

    def locations(self, paths: Sequence[str], base_url: str) -> Rendered:
        return self._headers(("X-OCCI-Location", [base_url + path for path in paths]))

    def collection(self, resources: Sequence[ResourceOut], links: Sequence[LinkOut],
                   base_url: str) -> Rendered:
        return self.locations(entity_locations(resources, links), base_url)

    def created(self, paths: Sequence[str], base_url: str,
                entities: Sequence[ResourceOut | LinkOut] = ()) -> Rendered:
        return self.locations(paths, base_url)

    def action_invocation(self, action: Category, attributes: Mapping[str, Any]) -> Rendered:
        return self._entity(EntityText.of_action_invocation(action, attributes, ascii_only=True))

    def error(self, status: int, title: str, message: str) -> Rendered:
        return Rendered(message.encode("utf-8"), self.content_type)

    def ok(self) -> Rendered:
        return Rendered(_OK, self.content_type)
