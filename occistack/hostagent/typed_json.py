"""Frozen dataclasses to and from JSON values, each value checked against its field's type
(stdlib only: the agent's side imports it too).

The field annotations of the protocol's dataclasses are their schema: a value is checked
against its field's type before the dataclass is built, so that a message that parsed is one
the receiver can use as typed (a host_id is an int the database can hold, a token is text). A
class's annotations are turned into checking functions once, the first time it is built:
messages are on the agents' hot path, and most of them are well formed.

Types understood: bool, int (ids -- fields named ``id`` or ``*_id`` -- from 1, other whole
numbers from 0), float (finite, from 0), str, ``X | None``, ``Annotated[X, Most(n)]``,
``tuple[X, ...]``, fixed tuples ``tuple[X, Y]``, ``dict[str, X]``, ``Any`` (free-form JSON)
and nested dataclasses.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Annotated, Any, Callable


@dataclass(frozen=True, slots=True)
class Most:
    """A field's bound beyond its type (``Annotated[int, Most(n)]``): the largest whole number,
    or the most characters of text -- what the server keeps it in holds."""

    limit: int


#: Ids are keys of the database's rows: positive 64-bit integers. Other whole numbers (counts,
#: sizes, versions) are non-negative and 64-bit as well.
LARGEST_INTEGER = 2 ** 63 - 1
#: How deep a JSON value may nest inside a payload or result; no command's comes near.
DEEPEST_VALUE = 32


class Mismatch(Exception):
    """A value that does not fit; ``path`` grows with each enclosing field on the way out."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []

    def where(self, cls: type) -> str:
        """The whole complaint, naming the field from the outermost class
        (``Answers.answers[2].command_id must be ...``)."""
        return f"{cls.__name__}{''.join(reversed(self.path))} {self.problem}"


def plain(value) -> Any:
    """A dataclass (or a tuple or dict holding them) as JSON values: objects, arrays, scalars.
    (dataclasses.asdict does this too, deep-copying every payload on the way.)"""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if kind is tuple or kind is list:
        return [plain(item) for item in value]
    if kind is dict:
        return {key: plain(item) for key, item in value.items()}
    if is_dataclass(value):
        return {name: plain(getattr(value, name)) for name in _field_names(kind)}
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def build(cls: type, document: Any):
    """The dataclass ``cls`` from its JSON object, every field checked; Mismatch otherwise."""
    if type(document) is not dict:
        raise mismatch(f"an object ({cls.__name__})", document)
    checkers = _CHECKERS.get(cls)
    if checkers is None:
        checkers = _compile(cls)
    values = {}
    for name, value in document.items():
        checker = checkers.get(name)
        if checker is None:
            raise Mismatch(f"has no field {str(name)[:40]!r}; its fields are: {', '.join(checkers)}")
        try:
            values[name] = checker(value)
        except Mismatch as error:
            error.path.append("." + name)
            raise
    missing = _REQUIRED[cls].difference(values)
    if missing:
        raise Mismatch(f"lacks the field {', '.join(sorted(missing))}")
    return cls(**values)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_CHECKERS: dict[type, dict[str, Callable[[Any], Any]]] = {}
_REQUIRED: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES[cls] = tuple(item.name for item in fields(cls))
    return names


def _compile(cls: type) -> dict[str, Callable[[Any], Any]]:
    """The checkers of ``cls``'s fields, made once (TypeError for a field type no rule checks:
    at import of a module that calls :func:`prepare`, for a new type)."""
    _field_names(cls)
    _REQUIRED[cls] = frozenset(item.name for item in fields(cls) if item.default is MISSING
                               and item.default_factory is MISSING)
    checkers = _CHECKERS[cls] = {}  # before the fields: a class may nest itself
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        if name in _FIELD_NAMES[cls]:
            checkers[name] = _checker(hint, is_id=name == "id" or name.endswith("_id"))
    return checkers


def prepare(*classes: type) -> None:
    """Compile the checkers of ``classes`` now, so that a field type no rule checks fails at
    import, not when the first message arrives."""
    for cls in classes:
        if cls not in _CHECKERS:
            _compile(cls)


def _checker(annotation, is_id: bool = False):
    """The function that checks a JSON value against ``annotation`` and returns it as that type
    (tuples from arrays, dataclasses from objects), raising Mismatch otherwise."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):  # only ever "X | None"
        (inner,) = (_checker(argument, is_id) for argument in arguments if argument is not type(None))
        return lambda value: None if value is None else inner(value)
    if origin is Annotated:
        return _bounded(_checker(arguments[0], is_id), arguments[1].limit)
    if annotation is Any:
        return checked_json
    if annotation is bool:
        return _checked_bool
    if annotation is int:
        return _checked_id if is_id else _checked_count
    if annotation is float:
        return _checked_float
    if annotation is str:
        return _checked_text
    if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:  # tuple[X, ...]
        return _array_of(_checker(arguments[0]))
    if origin is tuple:  # tuple[X, Y, ...fixed]
        return _fixed_array_of(tuple(_checker(argument) for argument in arguments))
    if origin is dict:  # dict[str, X]; JSON's keys are text already
        return _object_of(_checker(arguments[1]))
    if isinstance(annotation, type) and is_dataclass(annotation):
        return lambda value: build(annotation, value)
    raise TypeError(f"no rule checks a {annotation!r}: teach typed_json._checker")


def _bounded(inner, limit: int):
    def checked(value):
        value = inner(value)
        if isinstance(value, str) and len(value) > limit:
            raise mismatch(f"at most {limit} characters long", value)
        if isinstance(value, int) and value > limit:
            raise mismatch(f"a whole number of at most {limit}", value)
        return value
    return checked


def _checked_bool(value):
    if value is True or value is False:
        return value
    raise mismatch("true or false", value)


def _checked_id(value):
    if type(value) is int and 1 <= value <= LARGEST_INTEGER:
        return value
    raise mismatch(f"a whole number from 1 to {LARGEST_INTEGER}", value)


def _checked_count(value):
    if type(value) is int and 0 <= value <= LARGEST_INTEGER:
        return value
    raise mismatch(f"a whole number from 0 to {LARGEST_INTEGER}", value)


def _checked_float(value):
    if type(value) in (int, float) and 0 <= value < math.inf:  # NaN compares false
        return float(value)
    raise mismatch("a finite number of at least 0", value)


def _checked_text(value):
    if type(value) is str and _storable(value):
        return value
    raise mismatch("text (whole characters, no NUL)", value)


def _array_of(item):
    def checked(value):
        if type(value) is not list and type(value) is not tuple:
            raise mismatch("an array", value)
        items = []
        for index, element in enumerate(value):
            try:
                items.append(item(element))
            except Mismatch as error:
                error.path.append(f"[{index}]")
                raise
        return tuple(items)
    return checked


def _fixed_array_of(items):
    def checked(value):
        if (type(value) is not list and type(value) is not tuple) or len(value) != len(items):
            raise mismatch(f"an array of {len(items)} items", value)
        return tuple(_element(check, element, index) for index, (check, element) in enumerate(zip(items, value)))
    return checked


def _element(check, element, index: int):
    try:
        return check(element)
    except Mismatch as error:
        error.path.append(f"[{index}]")
        raise


def _object_of(item):
    def checked(value):
        if type(value) is not dict:
            raise mismatch("an object", value)
        members = {}
        for key, element in value.items():
            try:
                members[_checked_text(key)] = item(element)
            except Mismatch as error:
                error.path.append(f"[{key[:40]!r}]")
                raise
        return members
    return checked


def checked_json(value):
    """A free-form value (a payload, a result): JSON nested at most DEEPEST_VALUE deep, without
    NUL characters (no database column holds one) or numbers beyond 64 bits."""
    pending = [(value, 0)]
    while pending:  # a loop, not recursion: the value may nest as deep as the JSON parser allowed
        item, depth = pending.pop()
        kind = type(item)
        if kind is str:
            if not _storable(item):
                raise Mismatch("holds a NUL character or a lone UTF-16 surrogate, which no value may hold")
        elif kind is dict or kind is list:
            if depth >= DEEPEST_VALUE:
                raise Mismatch(f"nests deeper than {DEEPEST_VALUE} levels")
            elements = (element for pair in item.items() for element in pair) if kind is dict else item
            pending.extend((element, depth + 1) for element in elements)
        elif kind is int:
            if not -LARGEST_INTEGER - 1 <= item <= LARGEST_INTEGER:
                raise Mismatch(f"holds the number {item}, beyond 64 bits")
        elif kind is float:
            if not math.isfinite(item):
                raise Mismatch(f"holds {item}, which is not a finite number")
        elif item is not None and kind is not bool:
            raise Mismatch(f"holds a {kind.__name__}, which JSON has not")
    return value


def _storable(text: str) -> bool:
    """Text without NUL and without a lone surrogate (a JSON "\\ud800", which cannot be encoded)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def mismatch(accepted: str, value) -> Mismatch:
    shown = repr(value) if type(value) in (str, int, float) else None
    if shown is not None and len(shown) > 40:
        shown = shown[:37] + "..."
    return Mismatch(f"must be {accepted}; got {shown or _json_kind(value)}")


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
