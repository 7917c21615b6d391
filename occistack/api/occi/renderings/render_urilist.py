"""text/uri-list out (RFC 2483): absolute URLs, one per line, for listings only."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, NoReturn, Sequence

from occistack.model.occi import Category
from occistack.api.occi.renderings.ir import LinkOut, ResourceOut
from occistack.api.occi.renderings.render import NotRenderable, Rendered, Renderer
from occistack.api.occi.renderings.render_text import entity_locations

_ONLY_COLLECTIONS = ("text/uri-list can only render collections; ask for text/plain, "
                     "text/occi or application/occi+json")


class UriListRenderer(Renderer):
    media_type = "text/uri-list"
    content_type = "text/uri-list"
    full_collections = False

    def _refuse(self) -> NoReturn:
        raise NotRenderable(_ONLY_COLLECTIONS)

    def query_interface(self, categories: Iterable[Category]) -> Rendered:
        self._refuse()

    def category(self, category: Category) -> Rendered:
        self._refuse()

    def resource(self, resource: ResourceOut, base_url: str) -> Rendered:
        self._refuse()

    def link(self, link: LinkOut, base_url: str) -> Rendered:
        self._refuse()

    def action_invocation(self, action: Category, attributes: Mapping[str, Any]) -> Rendered:
        self._refuse()

    def locations(self, paths: Sequence[str], base_url: str) -> Rendered:
        # No newline after the last URL, like text/plain (clients split on '\n').
        return Rendered("\n".join(base_url + path for path in paths).encode("utf-8"),
                        self.content_type)

    def collection(self, resources: Sequence[ResourceOut], links: Sequence[LinkOut],
                   base_url: str) -> Rendered:
        return self.locations(entity_locations(resources, links), base_url)

    def created(self, paths: Sequence[str], base_url: str,
                entities: Sequence[ResourceOut | LinkOut] = ()) -> Rendered:
        return self.locations(paths, base_url)

    def error(self, status: int, title: str, message: str) -> Rendered:
        # A message is not a list of URIs: say it as plain text.
        return Rendered(message.encode("utf-8"), "text/plain")

    def ok(self) -> Rendered:
        return Rendered(b"", self.content_type)
