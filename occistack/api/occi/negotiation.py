"""Media types in and out, protocol versions, and the headers every response carries.

The real clients bend HTTP in ways a strict server would refuse (SPEC-NOTES §7): rOCCI and
VMDIRAC send ``Content-Type: text/plain,text/occi``; rOCCI claims ``OCCI/1.1``; many send no
Accept at all. This module is where those are understood, once, and cached by header value
because the same few header strings arrive over and over.
"""

from __future__ import annotations

import re
from functools import lru_cache

from occistack import __version__

TEXT_PLAIN = "text/plain"
TEXT_OCCI_PLAIN = "text/occi+plain"
TEXT_OCCI = "text/occi"
URI_LIST = "text/uri-list"
OCCI_JSON = "application/occi+json"
JSON = "application/json"

#: What we render, best first when a client's preferences tie.
RESPONSE_TYPES = (TEXT_PLAIN, TEXT_OCCI_PLAIN, TEXT_OCCI, OCCI_JSON, JSON, URI_LIST)
#: What we parse in request bodies.
REQUEST_TYPES = (TEXT_PLAIN, TEXT_OCCI_PLAIN, TEXT_OCCI, OCCI_JSON, JSON)

SERVER_HEADER = f"occistack/{__version__} OCCI/1.2 OCCI/1.1 OCCI-CRTP/1.1"
ACCEPT_HEADER = ", ".join((OCCI_JSON, JSON, TEXT_OCCI, TEXT_PLAIN, TEXT_OCCI_PLAIN, URI_LIST))

SUPPORTED_VERSION = (1, 2)
_VERSION = re.compile(r"OCCI/(\d+)\.(\d+)")


class NotAcceptable(Exception):
    """Nothing in the client's Accept header is something we render."""


class UnsupportedMediaType(Exception):
    """The body's Content-Type is nothing we parse."""


@lru_cache(maxsize=512)
def response_type(accept: str | None) -> str:
    """The media type to answer in, from an Accept header (q-values honoured, ties broken by
    our order); text/plain when there is no Accept or it allows anything (GFD.185)."""
    if not accept or not accept.strip():
        return TEXT_PLAIN
    best: tuple[float, int, str] | None = None
    for position, (media, quality) in enumerate(_parse_accept(accept)):
        if quality <= 0:
            continue
        candidate = _match(media)
        if candidate is None:
            continue
        # Higher quality wins; among equals, the client's first listed wins.
        key = (quality, -position, candidate)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        raise NotAcceptable(accept)
    return best[2]


def _match(media: str) -> str | None:
    if media in RESPONSE_TYPES:
        return media
    if media in ("*/*", "text/*", "*"):
        return TEXT_PLAIN
    if media == "application/*":
        return OCCI_JSON
    return None


def _parse_accept(accept: str):
    for part in accept.split(","):
        pieces = part.strip().split(";")
        media = pieces[0].strip().lower()
        if not media:
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        yield media, quality


@lru_cache(maxsize=512)
def request_type(content_type: str | None) -> str | None:
    """The media type a request body is in. A comma-joined header (``text/plain,text/occi``,
    as rOCCI and VMDIRAC send) means its first type we parse; no header means text/plain."""
    if not content_type or not content_type.strip():
        return None
    for part in content_type.split(","):
        media = part.split(";")[0].strip().lower()
        if media in REQUEST_TYPES:
            return media
        if media in ("application/x-www-form-urlencoded", "text/*", "*/*"):
            # curl -d sends form-urlencoded by default; an OCCI body is never a form.
            return TEXT_PLAIN
    raise UnsupportedMediaType(content_type)


@lru_cache(maxsize=256)
def client_version_too_high(user_agent: str | None) -> str | None:
    """The OCCI version the client claims, if it is above the one we implement (→ 501)."""
    if not user_agent:
        return None
    for major, minor in _VERSION.findall(user_agent):
        if (int(major), int(minor)) > SUPPORTED_VERSION:
            return f"{major}.{minor}"
    return None


def is_json(media_type: str) -> bool:
    return media_type in (OCCI_JSON, JSON)
