"""application/occi+json in (GFD.225 shapes, SPEC-NOTES §1.5), and the shapes it refuses."""

from __future__ import annotations

import json

import pytest

from occistack.api.occi.renderings import CategoryIR, LinkIR, OCCIParseError, parse_json
from occistack.api.occi.renderings.ir import AttributeSpecIR

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
IPNETWORKINTERFACE = "http://schemas.ogf.org/occi/infrastructure/networkinterface#ipnetworkinterface"
COMPUTE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"


def test_a_resource_with_a_link():
    document = {
        "kind": INFRA + "compute",
        "mixins": ["http://example.com/occi/os_tpl#debian-12"],
        "attributes": {"occi.compute.cores": 2, "occi.compute.memory": 4.0,
                       "occi.compute.hostname": "debian"},
        "actions": [COMPUTE_ACTIONS + "start"],
        "id": "4b2c-compute",
        "title": "Debian VM",
        "summary": "for the demo",
        "links": [{
            "kind": INFRA + "networkinterface",
            "mixins": [IPNETWORKINTERFACE],
            "attributes": {"occi.networkinterface.interface": "eth0",
                           "occi.networkinterface.address": "10.0.0.2"},
            "id": "4b2c-nic",
            "source": {"location": "/compute/4b2c-compute", "kind": INFRA + "compute"},
            "target": {"location": "/network/public", "kind": INFRA + "network"},
        }],
    }
    ir = parse_json(json.dumps(document))
    assert ir.kind == CategoryIR(scheme=INFRA, term="compute", cls="kind")
    assert ir.mixins == (CategoryIR(scheme="http://example.com/occi/os_tpl#", term="debian-12",
                                    cls="mixin"),)
    assert ir.attributes == {"occi.compute.cores": 2, "occi.compute.memory": 4.0,
                             "occi.compute.hostname": "debian", "occi.core.id": "4b2c-compute",
                             "occi.core.title": "Debian VM", "occi.core.summary": "for the demo"}
    assert ir.links == (LinkIR(
        target="/network/public", rel=INFRA + "network", self_location="4b2c-nic",
        kind=INFRA + "networkinterface",
        mixins=(IPNETWORKINTERFACE,),
        attributes={"occi.networkinterface.interface": "eth0",
                    "occi.networkinterface.address": "10.0.0.2", "occi.core.id": "4b2c-nic"},
        source="/compute/4b2c-compute", target_kind=INFRA + "network",
        source_kind=INFRA + "compute"),)


def test_a_standalone_link_becomes_core_attributes():
    ir = parse_json(json.dumps({
        "kind": INFRA + "storagelink", "id": "sl-1",
        "attributes": {"occi.storagelink.deviceid": "/dev/vdc"},
        "source": {"location": "/compute/1", "kind": INFRA + "compute"},
        "target": {"location": "/storage/2"},
    }))
    assert ir.kind.term == "storagelink"
    assert ir.links == ()
    assert ir.attributes == {"occi.storagelink.deviceid": "/dev/vdc", "occi.core.id": "sl-1",
                             "occi.core.source": "/compute/1",
                             "occi.core.source.kind": INFRA + "compute",
                             "occi.core.target": "/storage/2"}


def test_an_action_invocation():
    ir = parse_json('{"action": "%sstop", "attributes": {"method": "graceful"}}' % COMPUTE_ACTIONS)
    assert ir.action == CategoryIR(scheme=COMPUTE_ACTIONS, term="stop", cls="action")
    assert ir.attributes == {"method": "graceful"}


def test_user_mixin_definitions_for_the_query_interface():
    mixin = {"term": "my_stuff", "scheme": "http://example.com/occi/tags#", "title": "My stuff",
             "location": "/my_stuff/", "depends": [], "applies": [INFRA + "compute"],
             "attributes": {"org.example.colour": {"mutable": True, "required": False,
                                                   "type": "string"}}}
    expected = CategoryIR(scheme="http://example.com/occi/tags#", term="my_stuff", cls="mixin",
                          title="My stuff", applies=(INFRA + "compute",), location="/my_stuff/",
                          attributes=(AttributeSpecIR("org.example.colour"),))
    assert parse_json(json.dumps(mixin)).categories == (expected,)
    assert parse_json(json.dumps({"mixins": [mixin, mixin]})).categories == (expected, expected)


def test_collections_become_members():
    resource = {"kind": INFRA + "storage", "id": "s1", "attributes": {"occi.storage.size": 10}}
    link = {"kind": INFRA + "storagelink", "id": "l1", "source": {"location": "/compute/1"},
            "target": {"location": "/storage/s1"}}
    both = parse_json(json.dumps({"resources": [resource, resource], "links": [link]}))
    assert [member.kind.term for member in both.entities()] == ["storage", "storage", "storagelink"]
    assert both.kind is None
    single = parse_json(json.dumps({"resources": [resource]}))
    assert single.kind.term == "storage" and single.entities() == (single,)
    assert parse_json('{"resources": []}').is_empty


def test_mixin_references_without_a_kind():
    ir = parse_json('{"mixins": ["http://example.com/occi/tags#blue"]}')
    assert ir.categories == (CategoryIR(scheme="http://example.com/occi/tags#", term="blue",
                                        cls="mixin"),)


def test_kind_filters_are_tolerated():
    ir = parse_json(json.dumps({"kinds": [{"term": "compute", "scheme": INFRA,
                                           "parent": "http://schemas.ogf.org/occi/core#resource"}]}))
    assert ir.categories == (CategoryIR(scheme=INFRA, term="compute", cls="kind",
                                        depends=("http://schemas.ogf.org/occi/core#resource",)),)


def test_an_empty_object_is_an_empty_rendering():
    assert parse_json("{}").is_empty
    assert parse_json('{"attributes": {"a": 1}}').attributes == {"a": 1}


@pytest.mark.parametrize("body, words", [
    ('{"kind": 3}', '"kind" of the resource must be a string'),
    ('{"kind": "%scompute", "attributes": []}' % INFRA,
     '"attributes" of the resource must be an object'),
    ('{"kind": "%scompute", "mixins": ["no-hash"]}' % INFRA, "is not a category identifier"),
    ('{"kind": "http://x#"}', "is not a category identifier"),
    ('{"kind": "%scompute", "links": [{"kind": "%snetworkinterface"}]}' % (INFRA, INFRA),
     'has no "target"'),
    ('{"kind": "%scompute", "links": [{"target": {"kind": 1}}]}' % INFRA, '"target" of link 1'),
    ('{"kind": "%scompute", "id": 5}' % INFRA, '"id" of the resource must be a string'),
    ('{"action": ["x"]}', '"action" must be a string'),
    ('{"resources": {}}', '"resources" must be an array'),
    ('{"mixins": [{"term": "a"}]}', 'needs a "scheme" string'),
    ('{"hello": "world"}', "expected a resource or link"),
    ("[1, 2]", "expected a JSON object"),
    ('{"a": NaN}', "NaN is not a JSON number"),
])
def test_wrong_shapes_are_refused_in_words(body, words):
    with pytest.raises(OCCIParseError) as caught:
        parse_json(body)
    assert words in caught.value.message


def test_invalid_json_reports_line_and_column():
    with pytest.raises(OCCIParseError) as caught:
        parse_json('{\n  "kind": "a#b",\n  "attributes": {"x": }\n}')
    error = caught.value
    assert (error.line, error.column) == (3, 23)
    assert error.message.startswith("this is not valid JSON: Expecting value")
    assert str(error).startswith("line 3, column 23: this is not valid JSON")


def test_pathological_documents_are_parse_errors():
    for body in ("[" * 100_000, '{"a": ' + "9" * 10_000 + "}", "", "\ud800", b"\xff\xfe"):
        with pytest.raises(OCCIParseError):
            parse_json(body)  # type: ignore[arg-type]
