"""The fast path and the lark grammar read every header alike.

``occi_text.lark`` is the specification of the text renderings; ``fastpath.py`` reads the
common shapes of X-OCCI-Attribute and Link values with regular expressions. Here hypothesis
generates values in the grammar's shapes (names, quoted strings with and without escapes,
numbers, tokens, booleans, blanks where the grammar ignores them, keyword parameters, a
trailing ';') and mutates them, and whole requests are parsed twice -- as the server does, and
with the fast path switched off -- from generated lines and from what real clients send. Both
must give the same IR, or the same refusal with the same message and position.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occistack.api.occi.renderings import (OCCIParseError, fastpath, parse_text, parse_text_occi,
                                           parse_text_plain)
from occistack.api.occi.renderings.grammar import (ATTRIBUTE_HEADER, LINK_HEADER, ValueSyntaxError,
                                                   parse_value)
from occistack.api.occi.renderings.values import quote

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
CRTP = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"

_SETTINGS = settings(max_examples=400, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# --- values in the grammar's shapes --------------------------------------------------------------

blanks = st.sampled_from(["", "", " ", "  ", "\t", " \t"])
names = st.one_of(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,12}", fullmatch=True),
                  st.sampled_from(["occi.core.title", "occi.compute.cores", "true", "rel",
                                   "self", "category", "scheme", "x-1", "_"]))
quoted = st.one_of(
    st.text(max_size=40).map(quote),                      # escapes for '"', '\', controls
    st.text(max_size=40).map(lambda text: quote(text, ascii_only=True)),
    st.from_regex(r'"[^"\\]{0,60}"', fullmatch=True),     # no escapes: the fast regex
    st.sampled_from(['""', '"a, b; c=d"', '"<x>"', '"\\u00e9\\ud83d\\ude00"', '"a\\qb"']),
)
numbers = st.one_of(st.integers(-10**6, 10**6).map(str),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.sampled_from([".5", "1.", "-0.0", "1e3", "+7", "2E-2", "9" * 30]))
tokens = st.sampled_from(["true", "false", "x64", "2x", "/a/b?c=1", "1.2.3", "-", "a#b", "TRUE"])
values = st.one_of(quoted, numbers, tokens)


@st.composite
def attribute_values(draw) -> str:
    items = [draw(blanks) + draw(names) + draw(blanks) + "=" + draw(blanks) + draw(values)
             + draw(blanks) for _ in range(draw(st.integers(1, 4)))]
    return ",".join(items)


@st.composite
def category_lists(draw) -> str:
    identifiers = draw(st.lists(st.sampled_from([INFRA + "storagelink", INFRA + "networkinterface",
                                                 "http://x/y#z", "m#x", "k"]), min_size=1,
                                max_size=3))
    return '"' + draw(blanks) + " ".join(identifiers) + draw(blanks) + '"'


@st.composite
def link_values(draw) -> str:
    links = []
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(["</storage/1>", "</occi1.1/network/n-2>",
                                       "</compute/1?action=start>", "<http://h:8787/network/P>"]))
        parameters = []
        for _ in range(draw(st.integers(0, 6))):
            kind = draw(st.sampled_from(["rel", "self", "category", "attribute", "attribute"]))
            if kind == "category":
                value = draw(category_lists())
            elif kind in ("rel", "self"):
                value = draw(quoted)
            else:
                kind, value = draw(names), draw(values)
            parameters.append(draw(blanks) + ";" + draw(blanks) + kind + draw(blanks) + "="
                              + draw(blanks) + value)
        trailing = draw(st.sampled_from(["", "", ";", " ; "]))
        links.append(draw(blanks) + target + "".join(parameters) + trailing + draw(blanks))
    return ",".join(links)


# Characters that matter to the grammar, for the mutations.
SYNTAX = ' \t\n\r;,=:"\\<>#/.-_0123456789eExtrufals'


@st.composite
def mutated(draw, strategy: st.SearchStrategy[str]) -> str:
    text = draw(strategy)
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(SYNTAX))
        edit = draw(st.sampled_from(("insert", "delete", "replace")))
        if edit == "insert":
            text = text[:position] + char + text[position:]
        elif edit == "delete":
            text = text[:position] + text[position + 1:]
        else:
            text = text[:position] + char + text[position + 1:]
    return text


def grammar_answer(start: str, text: str) -> Any:
    try:
        return parse_value(start, text)
    except ValueSyntaxError:
        return None


def check_value(fast: Callable[[str], Any], start: str, text: str) -> None:
    """The fast path answers as the grammar does; and it answers whenever the grammar accepts
    a value with no escapes (the shapes it exists for), so the fast path is really used."""
    answer, expected = fast(text), grammar_answer(start, text)
    if answer is not None:
        assert expected == answer, f"the fast path read {text!r} otherwise than the grammar"
    elif expected is not None and "\\" not in text:
        raise AssertionError(f"the fast path declined {text!r}, which the grammar accepts")


@_SETTINGS
@given(attribute_values())
def test_generated_attribute_values_are_read_as_the_grammar_reads_them(text):
    check_value(fastpath.attributes, ATTRIBUTE_HEADER, text)


@_SETTINGS
@given(link_values())
def test_generated_link_values_are_read_as_the_grammar_reads_them(text):
    check_value(fastpath.links, LINK_HEADER, text)


@_SETTINGS
@given(mutated(attribute_values()))
def test_broken_attribute_values_are_declined_or_read_alike(text):
    answer = fastpath.attributes(text)
    assert answer is None or answer == grammar_answer(ATTRIBUTE_HEADER, text)


@_SETTINGS
@given(mutated(link_values()))
def test_broken_link_values_are_declined_or_read_alike(text):
    answer = fastpath.links(text)
    assert answer is None or answer == grammar_answer(LINK_HEADER, text)


# --- whole requests: the same IR, or the same refusal ------------------------------------------------

@contextmanager
def grammar_only() -> Iterator[None]:
    saved = parse_text.fast_attributes, parse_text.fast_links
    parse_text.fast_attributes = parse_text.fast_links = lambda text: None
    try:
        yield
    finally:
        parse_text.fast_attributes, parse_text.fast_links = saved


def outcome(parse: Callable[[Any], Any], argument: Any) -> Any:
    try:
        return parse(argument)
    except OCCIParseError as error:
        return ("refused", str(error))


def check_request(parse: Callable[[Any], Any], argument: Any) -> None:
    fast = outcome(parse, argument)
    with grammar_only():
        assert outcome(parse, argument) == fast


REAL_CLIENTS = [
    # rOCCI-cli: no blanks at all
    f'Category: compute;scheme="{INFRA}";class="kind"\n'
    f'Category: medium;scheme="{CRTP}";class="mixin"\n'
    'X-OCCI-Attribute: occi.core.title="My rOCCI VM"\n'
    'X-OCCI-Attribute: org.openstack.compute.user_data="I2Nsb3VkLWNvbmZpZwo="\n'
    f'Link: </network/1>;rel="{INFRA}network";category="{INFRA}networkinterface"',
    # the Infrastructure Manager: "; " between parameters, then ";" before the device id
    f'Category: compute; scheme="{INFRA}"; class="kind"\n'
    'X-OCCI-Attribute: occi.core.id="0d1c9a52-35a6-4bd6-a8a6-d6e0b9fbd22e"\n'
    'X-OCCI-Attribute: occi.compute.cores=2\n'
    'X-OCCI-Attribute: occi.compute.memory=7.5\n'
    f'Link: </occi1.1/storage/vol-9>; rel="{INFRA}storage"; self="/storagelink/im-5e1c"; '
    f'category="{INFRA}storagelink"; occi.core.target="/occi1.1/storage/vol-9"; '
    'occi.core.source="/occi1.1/compute/im-77aa"; occi.core.id="im-5e1c";'
    'occi.storagelink.deviceid="/dev/vdb"\n'
    f'Link: </occi1.1/network/net-1>; rel="{INFRA}network"; self="/networkinterface/im-6f2d"; '
    f'category="{INFRA}networkinterface"; occi.core.target="/occi1.1/network/net-1"',
    # VMDIRAC: location and title on each category; an action with a method
    f'Category: networkinterface;scheme="{INFRA}";class="kind";location="/link/networkinterface/"\n'
    'X-OCCI-Attribute: occi.core.source="/compute/abc"\n'
    'X-OCCI-Attribute: occi.core.target="https://cloud.example.org:8787/network/PUBLIC"',
    f'Category: stop; scheme="{INFRA}compute/action#"; class="action"\n'
    'X-OCCI-Attribute: method="graceful"',
    # what the renderers write back (escapes, several attributes on one line)
    'X-OCCI-Attribute: occi.core.title="a \\"quoted\\" title, with comma", occi.compute.cores=4\n'
    'X-OCCI-Attribute: occi.core.summary="line one\\nline two\\ttabbed", flag=true, arch=x64\n'
    "X-OCCI-Location: http://example.com/compute/1, /compute/2",
]


def as_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.split("\n"):
        name, _, value = line.partition(":")
        headers[name] = headers[name] + "," + value if name in headers else value
    return headers


@st.composite
def generated_bodies(draw) -> str:
    lines = [draw(st.sampled_from(REAL_CLIENTS))]
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            lines.append("X-OCCI-Attribute:" + draw(attribute_values()))
        else:
            lines.append("Link:" + draw(link_values()))
    return "\n".join(draw(st.permutations(lines)))


requests = st.one_of(st.sampled_from(REAL_CLIENTS), generated_bodies(), mutated(generated_bodies()),
                     mutated(st.sampled_from(REAL_CLIENTS)))


@_SETTINGS
@given(requests)
def test_text_plain_requests_get_the_same_ir_or_refusal_with_and_without_the_fast_path(body):
    check_request(parse_text_plain, body)


@_SETTINGS
@given(requests)
def test_text_occi_requests_get_the_same_ir_or_refusal_with_and_without_the_fast_path(body):
    check_request(parse_text_occi, as_headers(body))


def test_the_real_clients_requests_take_the_fast_path_and_parse():
    for body in REAL_CLIENTS:
        ir = parse_text_plain(body)
        assert ir.categories or ir.attributes
        for line in body.split("\n"):
            name, _, value = line.partition(":")
            if name == "X-OCCI-Attribute" and "\\" not in value:
                assert fastpath.attributes(value) is not None, line
            elif name == "Link":
                assert fastpath.links(value) is not None, line
