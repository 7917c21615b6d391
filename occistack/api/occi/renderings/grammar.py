"""The GFD.229 header-value grammar (``occi_text.lark``), loaded once, and what it yields.

``parse_value(start, text)`` parses the value of one OCCI header with the start rule for that
header. An inline transformer builds the IR while the LALR parser reduces, so no lark tree is
ever made. Every failure, the grammar's or the transformer's, comes out as one
:class:`ValueSyntaxError` whose ``position`` is a 0-based offset into ``text``; the parsers add
where that text came from (a body line, a header) when they turn it into an OCCIParseError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from occistack.api.occi.renderings.ir import AttributeSpecIR, CategoryIR, LinkIR
from occistack.api.occi.renderings.values import unquote

GRAMMAR_PATH = Path(__file__).with_name("occi_text.lark")

CATEGORY_HEADER = "category_header"
LINK_HEADER = "link_header"
ATTRIBUTE_HEADER = "attribute_header"
LOCATION_HEADER = "location_header"


class ValueSyntaxError(Exception):
    """A header value that does not parse: what was expected, and where (offset in the value)."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.message = message
        self.position = position


# --- values shared with the fast path ------------------------------------------------------

def int_value(text: str, position: int) -> int:
    try:
        return int(text)
    except ValueError:  # Python refuses to convert integers of thousands of digits
        raise ValueSyntaxError("the number has too many digits", position) from None


def build_link(target: str, parameters: Iterable[tuple[str, Any]]) -> LinkIR:
    """A LinkIR from a link target and its parameters in the order given (the last one wins).

    ``rel`` of a resource link is the kind of its target, so it also fills ``target_kind``
    (as ``target.kind`` does in JSON); an action link's rel is an action, not a kind.
    """
    rel = self_location = None
    categories: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}
    for name, value in parameters:
        if name == "rel":
            rel = value
        elif name == "self":
            self_location = value
        elif name == "category":
            categories = value
        else:
            attributes[name] = value
    return LinkIR(
        target=target,
        rel=rel,
        self_location=self_location,
        kind=categories[0] if categories else None,
        mixins=categories[1:],
        attributes=attributes,
        target_kind=rel if "?action=" not in target else None,
    )


# --- the transformer -------------------------------------------------------------------------

class _ToIR(Transformer):
    """Rule and terminal callbacks, applied by the LALR parser as it reduces and shifts."""

    # terminals

    def QUOTED_STRING(self, token: Token) -> str:
        return unquote(token)

    def INT(self, token: Token) -> int:
        return int_value(token, token.start_pos)

    def FLOAT(self, token: Token) -> float:
        return float(token)

    def TRUE(self, token: Token) -> bool:
        return True

    def FALSE(self, token: Token) -> bool:
        return False

    def TOKEN(self, token: Token) -> str:
        return str(token)

    def TYPE_IDENTIFIER(self, token: Token) -> str:
        return str(token)

    def CLASS_NAME(self, token: Token) -> str:
        return str(token)

    def LINK_TARGET(self, token: Token) -> str:
        return token[1:-1]

    def URI_REFERENCE(self, token: Token) -> str:
        return str(token)

    # headers

    def category_header(self, values: list[CategoryIR]) -> tuple[CategoryIR, ...]:
        return tuple(values)

    def link_header(self, values: list[LinkIR]) -> list[LinkIR]:
        return values

    def attribute_header(self, values: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return values

    def location_header(self, values: list[str]) -> list[str]:
        return values

    # Category

    def category_value(self, children: list[Any]) -> CategoryIR:
        term: Token = children[0]
        fields = dict(children[1:])
        scheme = fields.get("scheme")
        if scheme is None:
            raise ValueSyntaxError(
                f"the category {term!s} has no scheme; expected scheme=\"…\" after the term",
                term.start_pos)
        category_class = fields.get("class")
        if category_class is None:
            raise ValueSyntaxError(
                f"the category {term!s} has no class; "
                "expected class=\"kind\", \"mixin\" or \"action\"",
                term.start_pos)
        rel = fields.get("rel")
        return CategoryIR(
            scheme=scheme,
            term=str(term),
            cls=category_class,
            title=fields.get("title"),
            depends=(rel,) if rel else (),
            location=fields.get("location"),
            attributes=fields.get("attributes", ()),
            actions=fields.get("actions", ()),
        )

    def term(self, children: list[Token]) -> Token:
        return children[0]  # kept a Token: its position locates "no scheme" errors

    def scheme(self, children: list[str]) -> tuple[str, str]:
        return ("scheme", children[0])

    def class_(self, children: list[str]) -> tuple[str, str]:
        return ("class", children[0])

    def title(self, children: list[str]) -> tuple[str, str]:
        return ("title", children[0])

    def rel(self, children: list[str]) -> tuple[str, str]:
        return ("rel", children[0])

    def location(self, children: list[str]) -> tuple[str, str]:
        return ("location", children[0])

    def attributes(self, children: list[tuple[AttributeSpecIR, ...]]) -> tuple[str, Any]:
        return ("attributes", children[0])

    def actions(self, children: list[tuple[str, ...]]) -> tuple[str, Any]:
        return ("actions", children[0])

    def extension_parameter(self, children: list[Any]) -> tuple[str, None]:
        return ("", None)

    def attribute_list(self, children: list[AttributeSpecIR]) -> tuple[AttributeSpecIR, ...]:
        return tuple(children)

    def attribute_def(self, children: list[str]) -> AttributeSpecIR:
        properties = children[1:]
        return AttributeSpecIR(children[0], immutable="immutable" in properties,
                               required="required" in properties)

    def immutable(self, children: list[Any]) -> str:
        return "immutable"

    def required(self, children: list[Any]) -> str:
        return "required"

    def action_list(self, children: list[str]) -> tuple[str, ...]:
        return tuple(children)

    # Link

    def link_value(self, children: list[Any]) -> LinkIR:
        return build_link(children[0], children[1:])

    def link_instance(self, children: list[str]) -> tuple[str, str]:
        return ("self", children[0])

    def link_type(self, children: list[str]) -> tuple[str, tuple[str, ...]]:
        return ("category", tuple(children))

    def link_attribute(self, children: list[Any]) -> tuple[str, Any]:
        return (children[0], children[1])

    # X-OCCI-Attribute, X-OCCI-Location

    def attribute(self, children: list[Any]) -> tuple[str, Any]:
        return (children[0], children[1])

    def attribute_name(self, children: list[Token]) -> str:
        return str(children[0])

    def location_value(self, children: list[str]) -> str:
        return children[0]


# The grammar keeps GFD.229's rule name `class`, which Python cannot spell as a method name.
setattr(_ToIR, "class", _ToIR.class_)

PARSER = Lark(
    GRAMMAR_PATH.read_text(encoding="utf-8"),
    parser="lalr",
    lexer="contextual",
    start=[CATEGORY_HEADER, LINK_HEADER, ATTRIBUTE_HEADER, LOCATION_HEADER],
    transformer=_ToIR(),
    maybe_placeholders=False,
)


def parse_value(start: str, text: str) -> Any:
    """Parse one header value with the start rule ``start``; raise ValueSyntaxError."""
    try:
        return PARSER.parse(text, start=start)
    except UnexpectedInput as error:
        raise _explain(error, start, text) from None


def terminal_regexp(name: str) -> str:
    """The regular expression of one of the grammar's terminals, for the fast path."""
    return PARSER.get_terminal(name).pattern.to_regexp()


# --- errors in words --------------------------------------------------------------------------

_VALUE_TERMINALS = frozenset({"QUOTED_STRING", "INT", "FLOAT", "TRUE", "FALSE", "TOKEN"})
_CATEGORY_KEYWORDS = frozenset({"SCHEME", "CLASS", "TITLE", "REL", "LOCATION", "ATTRIBUTES",
                                "ACTIONS"})
_LINK_KEYWORDS = frozenset({"REL", "SELF", "CATEGORY"})

_WORDS = {
    "EQUAL": "'='",
    "SEMICOLON": "';'",
    "COMMA": "','",
    "DBLQUOTE": "'\"'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "QUOTED_STRING": "a quoted string",
    "CLASS_NAME": "kind, mixin or action",
    "IMMUTABLE": "immutable",
    "REQUIRED": "required",
    "TYPE_IDENTIFIER": "a category identifier (scheme#term)",
    "LINK_TARGET": "a link target in angle brackets, such as </network/1>",
    "URI_REFERENCE": "a location (a URI)",
    "$END": "the end of the value",
}

_NAME_WORDS = {
    CATEGORY_HEADER: "a category term, such as compute",
    ATTRIBUTE_HEADER: "an attribute name, such as occi.core.title",
    LINK_HEADER: "an attribute name",
}


def _explain(error: UnexpectedInput, start: str, text: str) -> ValueSyntaxError:
    if isinstance(error, UnexpectedCharacters):
        position, expected = error.pos_in_stream, set(error.allowed or ())
    elif isinstance(error, UnexpectedToken):
        expected = set(error.expected)
        position = len(text) if error.token.type == "$END" else error.token.start_pos
    elif isinstance(error, UnexpectedEOF):
        position, expected = len(text), set(error.expected)
    else:  # pragma: no cover - lark has no other kind of UnexpectedInput
        position, expected = 0, set()
    # The LALR tables merge states, so `expected` may name terminals that are valid only in
    # another context (';' after an X-OCCI-Attribute value); ask the parser what it accepts.
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        expected = set(interactive.accepts()) or expected
    position = min(max(position or 0, 0), len(text))
    found = text[position:position + 1]
    if found == '"' and ("QUOTED_STRING" in expected):
        return ValueSyntaxError("this quoted string is not closed: a '\"' is missing "
                                "(write a '\"' inside a string as '\\\"')", position)
    return ValueSyntaxError(describe_expected(expected, start, bool(found)), position)


def describe_expected(expected: set[str], start: str, found_something: bool = True) -> str:
    """'expected …' in words a client can act on, from the terminals the parser expected."""
    expected = {name for name in expected if not name.startswith("__")}
    after = ""
    if expected == {"EQUAL"}:
        after = {ATTRIBUTE_HEADER: "after the attribute name", LINK_HEADER: "after the name"}.get(
            start, "after the parameter name")
    phrases: list[str] = []
    if expected >= {"INT", "FLOAT", "TOKEN"}:
        phrases.append("a value (a quoted string, a number, true or false)")
        expected -= _VALUE_TERMINALS
        after = "after '='"
    if expected >= {"SCHEME", "CLASS"}:
        phrases.append("a parameter (scheme, class, title, rel, location, attributes or actions)")
        expected -= _CATEGORY_KEYWORDS | {"NAME"}
    if expected >= _LINK_KEYWORDS:
        phrases.append("rel, self, category or an attribute name")
        expected -= _LINK_KEYWORDS | {"NAME"}
    if "NAME" in expected:
        in_attribute_list = start == CATEGORY_HEADER and "DBLQUOTE" in expected
        phrases.append("an attribute name" if in_attribute_list
                       else _NAME_WORDS.get(start, "a name"))
        expected.discard("NAME")
    # Separators and the end read best last: "expected a value, ',' or the end of the value".
    ends = [name for name in ("SEMICOLON", "COMMA", "$END") if name in expected]
    expected -= set(ends)
    phrases.extend(sorted((_WORDS.get(name, name) for name in expected),
                          key=lambda phrase: (phrase.startswith("'"), phrase)))
    phrases.extend(_WORDS[name] for name in ends)
    if not phrases:
        return "unexpected input"
    what = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]
    message = "expected " + what + (" " + after if after else "")
    if not found_something:
        message += ", but the value ended"
    return message
