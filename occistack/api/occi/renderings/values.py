"""Attribute values in the text renderings: quoting them out and reading them back.

Shared by the renderers and the parsers so that every value a renderer writes reads back as
the same value: a string survives any character, a number keeps its type.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Characters that would end a line or a header (or that some client's line splitter treats as
# a line break), and lone surrogates, which UTF-8 cannot carry: written as escapes.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROL = re.compile('[\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')
# The text/occi rendering goes into HTTP headers, which carry Latin-1 at most: escape the rest.
_CONTROL_OR_NON_ASCII = re.compile('[\\\\"\x00-\x1f\x7f-\uffff]')
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    escaped = _ESCAPES.get(char)
    return escaped if escaped is not None else f"\\u{ord(char):04x}"


def _escape_non_bmp(match: re.Match[str]) -> str:
    # As a UTF-16 surrogate pair, the way JSON writes it; the reader joins the pair again.
    code = ord(match.group()) - 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def quote(text: str, ascii_only: bool = False) -> str:
    """``text`` as a GFD.229 quoted-string, with escapes that :func:`unquote` reverses."""
    if ascii_only:
        text = _CONTROL_OR_NON_ASCII.sub(_escape_char, text)
        if not text.isascii():
            text = _NON_BMP.sub(_escape_non_bmp, text)
        return '"' + text + '"'
    if _CONTROL.search(text) is None:
        return '"' + text + '"'
    return '"' + _CONTROL.sub(_escape_char, text) + '"'


_ESCAPE_SEQUENCE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _unescape(match: re.Match[str]) -> str:
    hex_digits, char = match.groups()
    if hex_digits is not None:
        return chr(int(hex_digits, 16))
    # Anything else escaped stands for itself (\" \\ \/ ...), as in most string syntaxes.
    return _SIMPLE_ESCAPES.get(char, char)


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def unquote(quoted: str) -> str:
    """The text of a quoted-string (with its quotes) as lexed by the grammar."""
    inner = quoted[1:-1]
    if "\\" not in inner:
        return inner
    text = _ESCAPE_SEQUENCE.sub(_unescape, inner)
    if "\\u" in inner:
        text = _SURROGATE_PAIR.sub(_join_surrogates, text)
    return text


def render_value(value: Any, ascii_only: bool = False) -> str | None:
    """An attribute value as the text renderings write it; None for a value not rendered."""
    if isinstance(value, str):
        return quote(value, ascii_only)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)  # always has a '.' or an exponent, so it reads back as a float
        return quote(repr(value))
    if value is None:
        return None
    # Lists and objects have no text form in GFD.229; JSON text in a string keeps them readable.
    return quote(json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only, default=str),
                 ascii_only)
