"""A fast path for the two per-request header values: X-OCCI-Attribute and Link.

Category values repeat and are cached; attribute and link values carry per-request data and
are parsed on every request. lark's LALR runtime costs two to three microseconds per token
(its standalone generated parser runs the same code, no faster): bench/parse.py measured a
create request at about 300 us with the grammar alone, slower than ooi's 200 us. So the common
shapes are recognised here with compiled regular expressions built from the grammar's own
terminal definitions, and anything the fast path is not sure about -- an odd escape in a
category list, a keyword used out of place, any error -- returns None and goes to the grammar,
which either accepts it or explains what is wrong.

How it stays fast: the regular-expression engine does the scanning in C and Python touches
each value once. An attribute is one anchored match that ends in the ',' after it or the end
of the text. A Link value is cut by one ``findall`` into tokens -- a target, a parameter with
its value, a bare ';', a ',' -- whose last alternative takes any other single character, so
that the tokens cover the text without gaps; a small loop then checks that they come in the
grammar's order (target, parameters, an optional ';', then ',' and the next link) and builds
the links. And a text with no '\\' in it (nearly all) is read with QUOTED_STRING spelt
'"[^"]*"': without a backslash it matches the same strings, and the engine runs a negated
single character about seven times faster than the class ``[^"\\]`` -- which counts when a
value is hundreds of bytes of base64 user data.

The contract, checked by the differential tests (tests/api/occi/renderings/test_robustness.py and
test_fast_path_agreement.py): when a function here returns a result, it is exactly what
``grammar.parse_value`` returns for the same text.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from occistack.api.occi.renderings.grammar import build_link, int_value, terminal_regexp
from occistack.api.occi.renderings.ir import LinkIR
from occistack.api.occi.renderings.values import unquote

_NAME = terminal_regexp("NAME")
_QUOTED = terminal_regexp("QUOTED_STRING")
_QUOTED_WITHOUT_ESCAPES = '"[^"]*"'  # QUOTED_STRING in a text that has no '\'
_INT = terminal_regexp("INT")
_FLOAT = terminal_regexp("FLOAT")
_TOKEN = terminal_regexp("TOKEN")
_LINK_TARGET = terminal_regexp("LINK_TARGET")
_BLANKS = "[ \t]*"  # the grammar's %ignore


class _Patterns(NamedTuple):
    attribute: re.Pattern[str]
    link_token: re.Pattern[str]


def _patterns(quoted: str) -> _Patterns:
    # A value's alternatives in the order the grammar's contextual lexer tries them (priority
    # first), each captured in its own group: quoted, float, int, token.
    value = f"(?:({quoted})|({_FLOAT})|({_INT})|({_TOKEN}))"
    return _Patterns(
        # One attribute: its name (group 1), value (2-5), and the ',' (6) or the end after it.
        attribute=re.compile(f"{_BLANKS}({_NAME}){_BLANKS}={_BLANKS}{value}{_BLANKS}(?:(,)|\\Z)"),
        # One token of a Link value: a target (1); a parameter, its name (2) and value (3-6);
        # a bare ';' (7); a ',' (8); blanks ending the value (no group); anything else (9).
        link_token=re.compile(
            f"{_BLANKS}(?:({_LINK_TARGET})|;{_BLANKS}({_NAME}){_BLANKS}={_BLANKS}{value}|(;)|(,))"
            f"|{_BLANKS}\\Z|(.)", re.DOTALL),
    )


_ESCAPED = _patterns(_QUOTED)
_PLAIN = _patterns(_QUOTED_WITHOUT_ESCAPES)

# The grammar reads category="…" as '"' TYPE_IDENTIFIER+ '"' with blanks between, no escapes.
_CATEGORY_LIST = re.compile(r'"[ \t]*[^\s"\\]+(?:[ \t]+[^\s"\\]+)*[ \t]*"')

_KEYWORD_PARAMETERS = frozenset({"rel", "self", "category"})
_BOOLEANS = {"true": True, "false": False}


def _quoted(text: str) -> str:
    return text[1:-1] if "\\" not in text else unquote(text)


def attributes(text: str) -> list[tuple[str, Any]] | None:
    """The (name, value) pairs of an X-OCCI-Attribute value, or None to ask the grammar."""
    match_attribute = (_ESCAPED if "\\" in text else _PLAIN).attribute.match
    pairs = []
    position = 0
    while True:
        match = match_attribute(text, position)
        if match is None:
            return None
        name, quoted, floating, integer, token, comma = match.groups()
        if quoted is not None:
            value: Any = _quoted(quoted)
        elif floating is not None:
            value = float(floating)
        elif integer is not None:
            value = int_value(integer, match.start(4))
        else:
            value = _BOOLEANS.get(token, token)
        pairs.append((name, value))
        if comma is None:
            return pairs
        position = match.end()


def links(text: str) -> list[LinkIR] | None:
    """The links of a Link value, or None to ask the grammar."""
    tokens = (_ESCAPED if "\\" in text else _PLAIN).link_token.findall(text)
    found: list[LinkIR] = []
    target: str | None = None
    parameters: list[tuple[str, Any]] = []
    closed = False  # a bare ';' ended this link's parameters: only ',' or the end may follow
    for link_target, name, quoted, floating, integer, token, semicolon, comma, other in tokens:
        if name:
            if target is None or closed:
                return None
            if name in _KEYWORD_PARAMETERS:
                if not quoted:
                    return None
                if name == "category":
                    if _CATEGORY_LIST.fullmatch(quoted) is None:
                        return None
                    parameters.append((name, tuple(quoted[1:-1].split())))
                else:
                    parameters.append((name, _quoted(quoted)))
            elif quoted:
                parameters.append((name, _quoted(quoted)))
            elif floating:
                parameters.append((name, float(floating)))
            elif integer:
                try:
                    parameters.append((name, int(integer)))
                except ValueError:  # thousands of digits: the grammar says where, in words
                    return None
            else:
                parameters.append((name, _BOOLEANS.get(token, token)))
        elif link_target:
            if target is not None:
                return None
            target, parameters, closed = link_target[1:-1], [], False
        elif comma:
            if target is None:
                return None
            found.append(build_link(target, parameters))
            target = None
        elif semicolon:
            if target is None or closed:
                return None
            closed = True
        elif other:
            return None
    if target is None:  # empty, or a ',' at the end
        return None
    found.append(build_link(target, parameters))
    return found
