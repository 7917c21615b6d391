"""The text renderings in: a text/plain body, or the OCCI headers of a text/occi request."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from occistack.api.occi.renderings.fastpath import attributes as fast_attributes
from occistack.api.occi.renderings.fastpath import links as fast_links
from occistack.api.occi.renderings.errors import OCCIParseError
from occistack.api.occi.renderings.grammar import (ATTRIBUTE_HEADER, CATEGORY_HEADER, LINK_HEADER, LOCATION_HEADER,
                      ValueSyntaxError, parse_value)
from occistack.api.occi.renderings.ir import CategoryIR, LinkIR, RenderingIR

# The set of categories a server knows is finite and clients send the same lines again and
# again, so parsed Category values are kept; attribute and link values carry per-request data
# and are never cached. Errors are not cached either (lru_cache does not keep exceptions).
CATEGORY_CACHE_SIZE = 2048


@lru_cache(maxsize=CATEGORY_CACHE_SIZE)
def _categories(value: str) -> tuple[CategoryIR, ...]:
    return parse_value(CATEGORY_HEADER, value)


# What a line or header is, by its name. The spellings clients send are looked up as they are;
# any other spelling is lower-cased (and, on a text/plain line, stripped) and looked up again.
_CATEGORY, _LINK, _ATTRIBUTE, _LOCATION = range(4)
_KINDS = {"category": _CATEGORY, "link": _LINK, "x-occi-attribute": _ATTRIBUTE,
          "x-occi-location": _LOCATION}
_SPELLINGS = {**_KINDS, "Category": _CATEGORY, "Link": _LINK, "X-OCCI-Attribute": _ATTRIBUTE,
              "X-OCCI-Location": _LOCATION, "X-Occi-Attribute": _ATTRIBUTE,
              "X-Occi-Location": _LOCATION}


class _Collector:
    """What the lines or headers said so far, in the order they said it."""

    __slots__ = ("categories", "links", "attributes", "locations")

    def __init__(self) -> None:
        self.categories: list[CategoryIR] = []
        self.links: list[LinkIR] = []
        self.attributes: dict[str, Any] = {}
        self.locations: list[str] = []

    def add(self, kind: int, value: str) -> None:
        """Parse one value: the fast path first for the per-request values, else the grammar."""
        if kind == _ATTRIBUTE:
            pairs = fast_attributes(value)
            self.attributes.update(pairs if pairs is not None
                                   else parse_value(ATTRIBUTE_HEADER, value))
        elif kind == _CATEGORY:
            self.categories.extend(_categories(value))
        elif kind == _LINK:
            links = fast_links(value)
            self.links.extend(links if links is not None else parse_value(LINK_HEADER, value))
        else:
            self.locations.extend(parse_value(LOCATION_HEADER, value))

    def result(self) -> RenderingIR:
        return RenderingIR(categories=tuple(self.categories), links=tuple(self.links),
                           attributes=self.attributes, locations=tuple(self.locations))


_ACCEPTED_LINES = "'Category:', 'Link:', 'X-OCCI-Attribute:' or 'X-OCCI-Location:'"
_CONTEXT_SPAN = 24


def _excerpt(text: str, position: int) -> str:
    start = max(position - _CONTEXT_SPAN, 0)
    excerpt = text[start:position + _CONTEXT_SPAN].strip()
    return ("…" if start else "") + excerpt


def parse_text_plain(body: str) -> RenderingIR:
    """Parse a text/plain (or text/occi+plain) body: one ``Header: value`` per line."""
    if not isinstance(body, str):
        try:
            body = bytes(body).decode("utf-8")
        except (TypeError, UnicodeDecodeError) as error:
            raise OCCIParseError(f"expected a UTF-8 text body ({error})") from None
    if body.startswith("\ufeff"):  # a byte-order mark some editors put first
        body = body[1:]
    collector = _Collector()
    add = collector.add
    number = 0
    for line in body.split("\n"):
        number += 1
        colon = line.find(":")
        kind = _SPELLINGS.get(line[:colon]) if colon > 0 else None
        if kind is None and colon > 0:
            kind = _KINDS.get(line[:colon].strip().lower())
        if kind is None:
            if not line.strip():
                continue
            raise OCCIParseError(f"expected a line starting with {_ACCEPTED_LINES}",
                                 line=number, column=1, context=_excerpt(line, 0))
        value = line[colon + 1:]
        if value.endswith("\r"):
            value = value[:-1]
        try:
            add(kind, value)
        except ValueSyntaxError as error:
            column = colon + 1 + error.position
            raise OCCIParseError(error.message, line=number, column=column + 1,
                                 context=_excerpt(line, column)) from None
    return collector.result()


def parse_text_occi(headers: Mapping[str, str]) -> RenderingIR:
    """Parse the OCCI headers of a text/occi request; every other header is ignored.

    Header names are matched without regard to case, so WebOb's ``request.headers`` and a
    plain dict both work; a header the client repeated arrives comma-joined (as WSGI joins it).
    """
    collector = _Collector()
    for name, value in headers.items():
        kind = _SPELLINGS.get(name)
        if kind is None:
            if not isinstance(name, str) or (kind := _KINDS.get(name.lower())) is None:
                continue
        if not isinstance(value, str):
            value = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        if not value.strip():
            continue
        try:
            collector.add(kind, value)
        except ValueSyntaxError as error:
            raise OCCIParseError(error.message, column=error.position + 1,
                                 source=f"header {_canonical(name)}",
                                 context=_excerpt(value, error.position)) from None
    return collector.result()


def _canonical(name: str) -> str:
    return {"category": "Category", "link": "Link", "x-occi-attribute": "X-OCCI-Attribute",
            "x-occi-location": "X-OCCI-Location"}[name.lower()]
