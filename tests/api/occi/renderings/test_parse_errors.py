"""Parse errors say where (line, column, source) and what was expected, in a client's words."""

from __future__ import annotations

import pytest

from occistack.api.occi.renderings import OCCIParseError, parse_text_occi, parse_text_plain

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
KIND_LINE = f'Category: compute; scheme="{INFRA}"; class="kind"'


def plain_error(body: str) -> OCCIParseError:
    with pytest.raises(OCCIParseError) as caught:
        parse_text_plain(body)
    return caught.value


def header_error(headers: dict[str, str]) -> OCCIParseError:
    with pytest.raises(OCCIParseError) as caught:
        parse_text_occi(headers)
    return caught.value


def test_a_missing_equals_sign_on_line_three():
    body = (f'{KIND_LINE}\nX-OCCI-Attribute: occi.core.title="a"\n'
            "X-OCCI-Attribute: occi.compute.cores 2")
    error = plain_error(body)
    assert (error.line, error.column, error.source) == (3, 38, "body")
    assert error.message == "expected '=' after the attribute name"
    assert error.context.endswith("occi.compute.cores 2")
    assert str(error) == (f"line 3, column 38: expected '=' after the attribute name "
                          f"(near {error.context!r})")


def test_columns_count_from_the_start_of_the_line_with_crlf():
    error = plain_error(f"{KIND_LINE}\r\nX-OCCI-Attribute: a=\r\n")
    assert (error.line, error.column) == (2, 21)
    assert error.message == ("expected a value (a quoted string, a number, true or false) "
                             "after '=', but the value ended")


def test_an_unknown_line_says_what_is_accepted():
    error = plain_error(f"{KIND_LINE}\n\nContent-Type: text/plain")
    assert (error.line, error.column) == (3, 1)
    assert "'Category:', 'Link:', 'X-OCCI-Attribute:' or 'X-OCCI-Location:'" in error.message
    assert plain_error("just some words").line == 1


def test_an_unclosed_quote():
    error = plain_error('X-OCCI-Attribute: occi.core.title="never closed')
    assert error.column == 35
    assert "not closed" in error.message


@pytest.mark.parametrize("value, at, words", [
    ('compute; class="kind"', "compute", "has no scheme"),
    (f'compute; scheme="{INFRA}"', "compute", "has no class"),
    (f'compute; scheme="{INFRA}"; class="kin"', "kin", "expected kind, mixin or action"),
    (f'compute; scheme="{INFRA}" class="kind"', "class", "expected ';', ',' or the end of the value"),
    (f'compute; scheme="{INFRA}"; class=kind; attributes="a{{bogus}}"', "bogus",
     "expected immutable or required"),
    ('compute;; scheme="x"', '; scheme', "expected a parameter (scheme, class"),
])
def test_category_errors(value, at, words):
    column = value.index(at) + 1
    error = header_error({"Category": value})
    assert error.source == "header Category" and error.line is None
    assert error.column == column
    assert words in error.message
    assert str(error).startswith(f"header Category, column {column}: ")


@pytest.mark.parametrize("value, column, words", [
    ('/network/1; rel="x"', 1, "expected a link target in angle brackets"),
    ("</network/1>; rel=x", 19, "expected a quoted string"),
    ('</network/1>; category=""', 25, "expected a category identifier"),
    ("</network/1>; occi.networkinterface.interface", 46, "expected '=' after the name"),
])
def test_link_errors(value, column, words):
    error = header_error({"Link": value})
    assert (error.source, error.column) == ("header Link", column)
    assert words in error.message


def test_an_empty_category_line():
    error = plain_error("Category:")
    assert (error.line, error.column) == (1, 10)
    assert error.message == "expected a category term, such as compute, but the value ended"


def test_a_missing_comma_between_attributes():
    error = header_error({"X-OCCI-Attribute": 'a="x" b="y"'})
    assert error.column == 7
    assert error.message == "expected ',' or the end of the value"


def test_an_integer_too_long_to_convert():
    error = plain_error("X-OCCI-Attribute: a=" + "9" * 5000)
    assert (error.line, error.column) == (1, 21)
    assert "too many digits" in error.message


def test_errors_are_value_errors_with_their_parts():
    error = header_error({"X-OCCI-Location": "a b"})
    assert isinstance(error, ValueError)
    assert (error.message, error.line, error.column, error.source) == (
        "expected ',' or the end of the value", None, 3, "header X-OCCI-Location")
