"""What every renderer offers (``renderer_for``, in renderers.py, picks one by media type).

A renderer turns the server's answers -- categories, resources, links, collections, errors --
into the bytes and headers of one media type. The views never build a body themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from occistack.model.occi import Category
from occistack.api.occi.renderings.ir import LinkOut, ResourceOut


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    content_type: str
    #: extra response headers; text/occi puts the whole rendering here.
    headers: tuple[tuple[str, str], ...] = ()


class NotRenderable(Exception):
    """The media type cannot express this answer (the server answers 400 with the message)."""


class Renderer(ABC):
    """One media type's rendering of every answer an OCCI server gives."""

    #: the media type this renderer implements.
    media_type: str
    #: the Content-Type it answers with (text/occi+plain gets the text/plain renderer).
    content_type: str
    #: whether listings carry whole entities (JSON) or only their locations (text types).
    full_collections: bool

    @abstractmethod
    def query_interface(self, categories: Iterable[Category]) -> Rendered:
        """GET /-/: the category collection, in the order given."""

    @abstractmethod
    def category(self, category: Category) -> Rendered:
        """One kind, mixin or action."""

    @abstractmethod
    def resource(self, resource: ResourceOut, base_url: str) -> Rendered:
        """One resource with its links and applicable actions."""

    @abstractmethod
    def link(self, link: LinkOut, base_url: str) -> Rendered:
        """One link on its own."""

    @abstractmethod
    def locations(self, paths: Sequence[str], base_url: str) -> Rendered:
        """A listing by location (``base_url`` has no trailing slash, paths start with '/')."""

    @abstractmethod
    def collection(self, resources: Sequence[ResourceOut], links: Sequence[LinkOut],
                   base_url: str) -> Rendered:
        """An entity collection."""

    @abstractmethod
    def created(self, paths: Sequence[str], base_url: str,
                entities: Sequence[ResourceOut | LinkOut] = ()) -> Rendered:
        """The answer to a create: where the new entities are (JSON: the entities)."""

    @abstractmethod
    def action_invocation(self, action: Category, attributes: Mapping[str, Any]) -> Rendered:
        """An action invocation (what a client sends to trigger ``action``)."""

    @abstractmethod
    def error(self, status: int, title: str, message: str) -> Rendered:
        """An error answer."""

    @abstractmethod
    def ok(self) -> Rendered:
        """An empty success, such as the answer to a DELETE."""


def absolute(base_url: str, path: str) -> str:
    return base_url + path
