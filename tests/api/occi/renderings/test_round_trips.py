"""What a renderer writes, a parser reads back as the same categories, attributes and links."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from occistack.model.occi import Action, Kind, Mixin, standard_registry
from occistack.api.occi.renderings import (
    OCCI_JSON_RENDERER, TEXT_OCCI_RENDERER, TEXT_PLAIN_RENDERER, CategoryIR, LinkIR, LinkOut,
    RenderingIR, ResourceOut, parse_json, parse_text_occi, parse_text_plain)
from occistack.api.occi.renderings.ir import AttributeSpecIR

BASE = "http://cloud.example.org"
_JSON_LINK_MEMBERS = {"occi.core.id", "occi.core.title", "occi.core.source", "occi.core.target",
                      "occi.core.source.kind", "occi.core.target.kind"}


def reference(category: Any) -> CategoryIR:
    return CategoryIR(scheme=category.scheme, term=category.term, cls=category.category_class)


def with_values(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in attributes.items() if value is not None}


def expected_from_text(resource: ResourceOut) -> RenderingIR:
    links = [LinkIR(target=link.target, rel=link.target_kind, self_location=link.location,
                    kind=link.kind.identifier, mixins=tuple(m.identifier for m in link.mixins),
                    attributes=with_values(link.attributes), target_kind=link.target_kind)
             for link in resource.links]
    links += [LinkIR(target=f"{resource.location}?action={action.term}", rel=action.identifier)
              for action in resource.actions]
    return RenderingIR(categories=(reference(resource.kind), *map(reference, resource.mixins)),
                       links=tuple(links), attributes=with_values(resource.attributes))


def expected_from_json(resource: ResourceOut) -> RenderingIR:
    links = []
    for link in resource.links:
        identifier = link.attributes["occi.core.id"]
        attributes = {name: value for name, value in with_values(link.attributes).items()
                      if name not in _JSON_LINK_MEMBERS}
        attributes["occi.core.id"] = identifier
        if link.attributes.get("occi.core.title") is not None:
            attributes["occi.core.title"] = link.attributes["occi.core.title"]
        links.append(LinkIR(target=link.target, rel=link.target_kind, self_location=identifier,
                            kind=link.kind.identifier,
                            mixins=tuple(m.identifier for m in link.mixins), attributes=attributes,
                            source=link.source, target_kind=link.target_kind,
                            source_kind=link.source_kind))
    return RenderingIR(categories=(reference(resource.kind), *map(reference, resource.mixins)),
                       links=tuple(links), attributes=with_values(resource.attributes))


def text_occi_headers(rendered) -> dict[str, str]:
    return dict(rendered.headers)


# --- the sample entities --------------------------------------------------------------------

def test_a_resource_through_every_rendering(compute):
    expected = expected_from_text(compute)
    assert parse_text_plain(TEXT_PLAIN_RENDERER.resource(compute, BASE).body.decode()) == expected
    assert parse_text_occi(text_occi_headers(TEXT_OCCI_RENDERER.resource(compute, BASE))) == expected
    assert parse_json(OCCI_JSON_RENDERER.resource(compute, BASE).body.decode()) == \
        expected_from_json(compute)


def test_text_and_json_agree_on_what_matters(compute):
    from_text = parse_text_plain(TEXT_PLAIN_RENDERER.resource(compute, BASE).body.decode())
    from_json = parse_json(OCCI_JSON_RENDERER.resource(compute, BASE).body.decode())
    assert from_text.categories == from_json.categories
    assert from_text.attributes == from_json.attributes
    resource_links = [link for link in from_text.links if not link.is_action]
    for text_link, json_link in zip(resource_links, from_json.links, strict=True):
        assert (text_link.target, text_link.target_kind, text_link.kind, text_link.mixins) == \
            (json_link.target, json_link.target_kind, json_link.kind, json_link.mixins)
        assert text_link.attributes == json_link.attributes


def test_a_standalone_link_through_every_rendering(network_interface):
    expected_attributes = {
        **network_interface.attributes, "occi.core.source": "/compute/123",
        "occi.core.source.kind": network_interface.source_kind,
        "occi.core.target": "/network/1", "occi.core.target.kind": network_interface.target_kind}
    for ir in (parse_text_plain(TEXT_PLAIN_RENDERER.link(network_interface, BASE).body.decode()),
               parse_text_occi(text_occi_headers(TEXT_OCCI_RENDERER.link(network_interface, BASE))),
               parse_json(OCCI_JSON_RENDERER.link(network_interface, BASE).body.decode())):
        assert ir.categories == (reference(network_interface.kind),
                                 *map(reference, network_interface.mixins))
        assert ir.attributes == expected_attributes


def test_the_query_interface_reads_back():
    registry = standard_registry()
    for ir in (parse_text_plain(TEXT_PLAIN_RENDERER.query_interface(registry).body.decode()),
               parse_text_occi(text_occi_headers(TEXT_OCCI_RENDERER.query_interface(registry)))):
        parsed = {category.identifier: category for category in ir.categories}
        assert list(parsed) == [category.identifier for category in registry]
        for category in registry:
            read = parsed[category.identifier]
            assert read.cls == category.category_class and read.title == category.title
            assert read.attributes == tuple(
                AttributeSpecIR(d.name, immutable=not d.mutable, required=d.required)
                for d in category.attributes)
            assert read.actions == tuple(a.identifier for a in getattr(category, "actions", ()))
            assert read.location == getattr(category, "location", None)


def test_an_action_invocation_reads_back():
    stop = standard_registry().action(
        "http://schemas.ogf.org/occi/infrastructure/compute/action#stop")
    for ir in (parse_text_plain(TEXT_PLAIN_RENDERER.action_invocation(stop, {"method": "acpioff"})
                                .body.decode()),
               parse_text_occi(text_occi_headers(TEXT_OCCI_RENDERER.action_invocation(
                   stop, {"method": "acpioff"}))),
               parse_json(OCCI_JSON_RENDERER.action_invocation(stop, {"method": "acpioff"})
                          .body.decode())):
        assert ir.action == reference(stop) and ir.attributes == {"method": "acpioff"}


# --- generated entities ---------------------------------------------------------------------

terms = st.from_regex(r"[a-z0-9][a-z0-9_.\-]{0,12}", fullmatch=True)
schemes = st.builds("http://{}.example.org/occi/{}#".format,
                    st.sampled_from(["a", "schemas", "cloud-1"]),
                    st.from_regex(r"[a-z_]{1,8}", fullmatch=True))
# Not rel/self/category: in a Link those names are the link's own parameters.
attribute_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}(\.[a-z][a-z0-9_\-]{0,6}){0,3}",
                                fullmatch=True).filter(
    lambda name: name not in ("rel", "self", "category") and not name.startswith("occi.core"))
values = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10 ** 15), max_value=10 ** 15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
paths = st.from_regex(r"/[a-z]{1,8}/[A-Za-z0-9\-]{1,12}", fullmatch=True)
attribute_dicts = st.dictionaries(attribute_names, values, max_size=5)


@st.composite
def links(draw) -> LinkOut:
    attributes = {"occi.core.id": draw(st.text(min_size=1, max_size=12)), **draw(attribute_dicts)}
    return LinkOut(
        location=draw(paths), kind=Kind(draw(schemes), draw(terms)),
        mixins=tuple(Mixin(draw(schemes), draw(terms)) for _ in range(draw(st.integers(0, 2)))),
        attributes=attributes, source=draw(paths), source_kind=draw(schemes) + "src",
        target=draw(paths), target_kind=draw(schemes) + "dst")


@st.composite
def resources(draw) -> ResourceOut:
    attributes = {"occi.core.id": draw(st.text(min_size=1, max_size=12)),
                  "occi.core.title": draw(st.one_of(st.none(), st.text(max_size=30))),
                  **draw(attribute_dicts)}
    return ResourceOut(
        location=draw(paths), kind=Kind(draw(schemes), draw(terms)),
        mixins=tuple(Mixin(draw(schemes), draw(terms)) for _ in range(draw(st.integers(0, 3)))),
        attributes=attributes, links=tuple(draw(st.lists(links(), max_size=3))),
        actions=tuple(Action(draw(schemes), draw(terms)) for _ in range(draw(st.integers(0, 2)))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resources())
def test_generated_resources_round_trip_through_every_rendering(resource):
    text_plain = TEXT_PLAIN_RENDERER.resource(resource, BASE).body.decode("utf-8")
    assert parse_text_plain(text_plain) == expected_from_text(resource)

    text_occi = TEXT_OCCI_RENDERER.resource(resource, BASE)
    for _, value in text_occi.headers:
        value.encode("ascii")
    assert parse_text_occi(text_occi_headers(text_occi)) == expected_from_text(resource)

    json_body = OCCI_JSON_RENDERER.resource(resource, BASE).body.decode("utf-8")
    assert parse_json(json_body) == expected_from_json(resource)
