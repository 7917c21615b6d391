"""OCCI renderings: parsers into one IR and renderers out of it, for every media type.

Public API (the server uses only these names):

* ``parse_text_plain(body: str) -> RenderingIR`` -- text/plain and text/occi+plain bodies.
* ``parse_text_occi(headers: Mapping[str, str]) -> RenderingIR`` -- the OCCI HTTP headers
  (``Category``, ``Link``, ``X-OCCI-Attribute``, ``X-OCCI-Location``; a header repeated by the
  client arrives comma-joined, as WSGI joins it).
* ``parse_json(body: str) -> RenderingIR`` -- application/occi+json and application/json.
* ``renderer_for(media_type: str) -> Renderer`` -- one of the ``*_RENDERER`` singletons.
* ``OCCIParseError`` -- every parse failure, with line, column and a message.
"""

from occistack.api.occi.renderings.errors import OCCIParseError
from occistack.api.occi.renderings.ir import AttributeSpecIR, CategoryIR, LinkIR, LinkOut, RenderingIR, ResourceOut
from occistack.api.occi.renderings.parse_json import parse_json
from occistack.api.occi.renderings.parse_text import parse_text_occi, parse_text_plain
from occistack.api.occi.renderings.render import NotRenderable, Rendered, Renderer
from occistack.api.occi.renderings.renderers import SUPPORTED_MEDIA_TYPES, renderer_for

TEXT_PLAIN_RENDERER = renderer_for("text/plain")
TEXT_OCCI_PLAIN_RENDERER = renderer_for("text/occi+plain")
TEXT_OCCI_RENDERER = renderer_for("text/occi")
URI_LIST_RENDERER = renderer_for("text/uri-list")
OCCI_JSON_RENDERER = renderer_for("application/occi+json")
JSON_RENDERER = renderer_for("application/json")

__all__ = [
    "AttributeSpecIR",
    "CategoryIR",
    "JSON_RENDERER",
    "LinkIR",
    "LinkOut",
    "NotRenderable",
    "OCCIParseError",
    "OCCI_JSON_RENDERER",
    "Rendered",
    "Renderer",
    "RenderingIR",
    "ResourceOut",
    "SUPPORTED_MEDIA_TYPES",
    "TEXT_OCCI_PLAIN_RENDERER",
    "TEXT_OCCI_RENDERER",
    "TEXT_PLAIN_RENDERER",
    "URI_LIST_RENDERER",
    "parse_json",
    "parse_text_occi",
    "parse_text_plain",
    "renderer_for",
]
