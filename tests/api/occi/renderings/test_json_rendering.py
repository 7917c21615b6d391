"""application/occi+json out, validated against the GFD.225 schema."""

from __future__ import annotations

import json

import pytest

from occistack.model.occi import standard_registry
from occistack.model.occi.infrastructure import COMPUTE, STOP
from occistack.api.occi.renderings import JSON_RENDERER, OCCI_JSON_RENDERER, NotRenderable

from tests.api.occi.renderings.conftest import INFRA, UBUNTU, validate

BASE = "http://cloud.example.org:8787"


def decoded(rendered) -> dict:
    assert rendered.content_type == "application/occi+json"
    document = json.loads(rendered.body)
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert rendered.body == compact
    return document


def test_the_query_interface_of_the_standard_registry():
    document = decoded(OCCI_JSON_RENDERER.query_interface(standard_registry()))
    validate(document)
    validate(document, "model")
    assert [kind["term"] for kind in document["kinds"]][:3] == ["entity", "resource", "link"]
    compute = next(kind for kind in document["kinds"] if kind["term"] == "compute")
    assert compute["parent"] == "http://schemas.ogf.org/occi/core#resource"
    assert compute["location"] == "/compute/"
    assert len(compute["actions"]) == 5
    assert compute["attributes"]["occi.compute.cores"] == {
        "mutable": True, "required": False, "type": "number",
        "description": "Number of virtual CPU cores",
        "pattern": {"type": "integer", "minimum": 1, "maximum": 1024}}
    assert "occi.core.id" not in compute["attributes"]  # own attributes only
    entity = document["kinds"][0]
    assert "location" not in entity and "parent" not in entity
    stop = next(action for action in document["actions"] if action["term"] == "stop")
    assert stop["attributes"]["method"]["default"] == "graceful"


@pytest.mark.parametrize("category", [COMPUTE, UBUNTU, STOP])
def test_single_categories(category):
    document = decoded(OCCI_JSON_RENDERER.category(category))
    validate(document)
    validate(document, category.category_class)


def test_a_user_mixin_object_validates():
    document = decoded(OCCI_JSON_RENDERER.category(UBUNTU))
    assert document == {
        "term": "ubuntu-22.04", "scheme": "http://occistack.local/occi/infrastructure/os_tpl#",
        "title": "Ubuntu 22.04 LTS",
        "attributes": {"eu.egi.fedcloud.appliance.appdb.id": {
            "mutable": False, "required": False, "type": "string", "default": "1017"}},
        "depends": [INFRA + "os_tpl"], "applies": [INFRA + "compute"],
        "location": "/os_tpl/ubuntu-22.04/"}


def test_a_resource_with_links(compute):
    document = decoded(OCCI_JSON_RENDERER.resource(compute, BASE))
    validate(document, "resource")
    assert document["id"] == "123"
    assert document["title"] == 'My "first" VM, café'
    assert document["summary"] == "line one\nline two\ttabbed"
    assert "occi.core.id" not in document["attributes"]
    assert document["actions"] == ["http://schemas.ogf.org/occi/infrastructure/compute/action#start",
                                   "http://schemas.ogf.org/occi/infrastructure/compute/action#stop"]
    interface = document["links"][0]
    assert interface["source"] == {"location": "/compute/123", "kind": INFRA + "compute"}
    assert interface["target"] == {"location": "/network/1", "kind": INFRA + "network"}
    assert interface["id"] == "456"
    assert "café" in OCCI_JSON_RENDERER.resource(compute, BASE).body.decode("utf-8")


def test_a_link(network_interface):
    document = decoded(OCCI_JSON_RENDERER.link(network_interface, BASE))
    validate(document, "link")
    assert document["kind"] == INFRA + "networkinterface"
    assert set(document["attributes"]) == {"occi.networkinterface.interface",
                                           "occi.networkinterface.mac",
                                           "occi.networkinterface.address",
                                           "occi.networkinterface.state"}


def test_collections(compute, network_interface, storage_link):
    both = decoded(OCCI_JSON_RENDERER.collection([compute], [network_interface, storage_link], BASE))
    validate(both)
    validate(both, "model")
    assert len(both["resources"]) == 1 and len(both["links"]) == 2
    resources = decoded(OCCI_JSON_RENDERER.collection([compute], [], BASE))
    validate(resources, "resource_collection")
    assert set(resources) == {"resources"}
    links = decoded(OCCI_JSON_RENDERER.collection([], [storage_link], BASE))
    validate(links, "link_collection")
    assert decoded(OCCI_JSON_RENDERER.collection([], [], BASE)) == {"resources": []}


def test_created_answers_carry_the_entities(compute, network_interface):
    single = decoded(OCCI_JSON_RENDERER.created(["/compute/123"], BASE, [compute]))
    validate(single, "resource")
    several = decoded(OCCI_JSON_RENDERER.created(["/compute/123", "/networkinterface/456"], BASE,
                                                 [compute, network_interface]))
    validate(several, "model")
    assert set(several) == {"resources", "links"}


def test_action_invocation_error_and_ok():
    document = decoded(OCCI_JSON_RENDERER.action_invocation(STOP, {"method": "graceful"}))
    validate(document, "action_invocation")
    assert document == {"action": STOP.identifier, "attributes": {"method": "graceful"}}
    assert decoded(OCCI_JSON_RENDERER.error(404, "Not Found", "no compute 9")) == {
        "error": {"code": 404, "title": "Not Found", "message": "no compute 9"}}
    assert OCCI_JSON_RENDERER.ok().body == b"{}"


def test_application_json_echoes_its_media_type(compute):
    rendered = JSON_RENDERER.resource(compute, BASE)
    assert rendered.content_type == "application/json"
    assert rendered.body == OCCI_JSON_RENDERER.resource(compute, BASE).body


def test_locations_alone_are_not_json():
    with pytest.raises(NotRenderable):
        OCCI_JSON_RENDERER.locations(["/compute/1"], BASE)


def test_awkward_values_still_make_valid_json(compute):
    from dataclasses import replace
    awkward = replace(compute, attributes={"occi.core.id": "9", "lone": "\ud800",
                                           "inf": float("inf"), "none": None, "list": [1, "a"]})
    body = OCCI_JSON_RENDERER.resource(awkward, BASE).body
    document = json.loads(body)
    validate(document, "resource")
    assert document["attributes"] == {"lone": "\ud800", "inf": "inf", "list": [1, "a"]}
