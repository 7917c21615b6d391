"""``renderer_for``: the renderer of a media type, among every renderer occistack has.

Kept apart from render.py, which defines what a renderer is: each renderer module imports that
one, and this one imports every renderer, so imports run one way.
"""

from __future__ import annotations

from occistack.api.occi.renderings.render import Renderer
from occistack.api.occi.renderings.render_headers import TextOcciRenderer
from occistack.api.occi.renderings.render_json import JsonRenderer
from occistack.api.occi.renderings.render_text import TextPlainRenderer
from occistack.api.occi.renderings.render_urilist import UriListRenderer


def renderer_for(media_type: str) -> Renderer:
    """The renderer for ``media_type`` (parameters such as ``;charset=`` are ignored).

    Raises ValueError for a media type that no renderer implements; SUPPORTED_MEDIA_TYPES
    lists those that do.
    """
    key = media_type.split(";", 1)[0].strip().lower()
    renderer = _RENDERERS.get(key)
    if renderer is None:
        raise ValueError(f"no renderer for {media_type!r}; supported: "
                         + ", ".join(SUPPORTED_MEDIA_TYPES))
    return renderer


def _renderers() -> dict[str, Renderer]:
    return {
        "text/plain": TextPlainRenderer("text/plain"),
        "text/occi+plain": TextPlainRenderer("text/occi+plain"),
        "text/occi": TextOcciRenderer(),
        "text/uri-list": UriListRenderer(),
        "application/occi+json": JsonRenderer("application/occi+json"),
        "application/json": JsonRenderer("application/json"),
    }


_RENDERERS = _renderers()
SUPPORTED_MEDIA_TYPES: tuple[str, ...] = tuple(_RENDERERS)
