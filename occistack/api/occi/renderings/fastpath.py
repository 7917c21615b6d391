"""A fast path for the two per-request header values: X-OCCI-Attribute and Link.

Category values repeat and are cached; attribute and link values carry per-request data and
are parsed on every request. lark's LALR runtime costs two to three microseconds per token
(its standalone generated parser runs the same code, no faster): bench/parse.py measured a
create request at about 300 us with the grammar alone, slower than ooi's 200 us, and at about
30 us with this fast path in front of it. So the common shapes
are recognised here with one compiled regular expression per list element, built from the
grammar's own terminal definitions, and anything the fast path is not sure about -- an odd
escape in a category list, a keyword used out of place, any error -- returns None and goes to
the grammar, which either accepts it or explains what is wrong.

The contract, checked by the differential tests: when a function here returns a result, it
is exactly what ``grammar.parse_value`` returns for the same text.
"""

from __future__ import annotations

import re
from typing import Any

from occistack.api.occi.renderings.grammar import build_link, int_value, terminal_regexp
from occistack.api.occi.renderings.ir import LinkIR
from occistack.api.occi.renderings.values import unquote

_NAME = terminal_regexp("NAME")
_QUOTED = terminal_regexp("QUOTED_STRING")
_INT = terminal_regexp("INT")
_FLOAT = terminal_regexp("FLOAT")
_TOKEN = terminal_regexp("TOKEN")
_LINK_TARGET = terminal_regexp("LINK_TARGET")
_BLANKS = "[ \t]*"  # the grammar's %ignore

# The alternatives in the order the grammar's contextual lexer tries them (priority first),
# each captured in its own group: quoted, float, int, token.
_VALUE = f"(?:({_QUOTED})|({_FLOAT})|({_INT})|({_TOKEN}))"

_ATTRIBUTE = re.compile(f"{_BLANKS}({_NAME}){_BLANKS}={_BLANKS}{_VALUE}{_BLANKS}(?:(,)|\\Z)")
_LINK_TARGET_START = re.compile(f"{_BLANKS}({_LINK_TARGET})")
_LINK_PARAMETER = re.compile(f"{_BLANKS};{_BLANKS}({_NAME}){_BLANKS}={_BLANKS}{_VALUE}")
_LINK_END = re.compile(f"{_BLANKS}(?:;{_BLANKS})?(?:(,)|\\Z)")
# The grammar reads category="…" as '"' TYPE_IDENTIFIER+ '"' with blanks between, no escapes.
_CATEGORY_LIST = re.compile(r'"[ \t]*[^\s"\\]+(?:[ \t]+[^\s"\\]+)*[ \t]*"')

_KEYWORD_PARAMETERS = frozenset({"rel", "self", "category"})


def _value(match: re.Match[str], first_group: int) -> Any:
    quoted, floating, integer, token = match.group(first_group, first_group + 1,
                                                   first_group + 2, first_group + 3)
    if quoted is not None:
        return unquote(quoted)
    if floating is not None:
        return float(floating)
    if integer is not None:
        return int_value(integer, match.start(first_group + 2))
    if token == "true":
        return True
    if token == "false":
        return False
    return token


def attributes(text: str) -> list[tuple[str, Any]] | None:
    """The (name, value) pairs of an X-OCCI-Attribute value, or None to ask the grammar."""
    pairs = []
    position = 0
    match_attribute = _ATTRIBUTE.match
    while True:
        match = match_attribute(text, position)
        if match is None:
            return None
        pairs.append((match.group(1), _value(match, 2)))
        if match.group(6) is None:
            return pairs
        position = match.end()


def links(text: str) -> list[LinkIR] | None:
    """The links of a Link value, or None to ask the grammar."""
    found = []
    position = 0
    match_parameter = _LINK_PARAMETER.match
    while True:
        start = _LINK_TARGET_START.match(text, position)
        if start is None:
            return None
        target = start.group(1)[1:-1]
        position = start.end()
        parameters: list[tuple[str, Any]] = []
        while (match := match_parameter(text, position)) is not None:
            name = match.group(1)
            if name in _KEYWORD_PARAMETERS:
                quoted = match.group(2)
                if quoted is None:
                    return None
                if name == "category":
                    if _CATEGORY_LIST.fullmatch(quoted) is None:
                        return None
                    parameters.append((name, tuple(quoted[1:-1].split())))
                else:
                    parameters.append((name, unquote(quoted)))
            else:
                parameters.append((name, _value(match, 2)))
            position = match.end()
        end = _LINK_END.match(text, position)
        if end is None:
            return None
        found.append(build_link(target, parameters))
        if end.group(1) is None:
            return found
        position = end.end()
