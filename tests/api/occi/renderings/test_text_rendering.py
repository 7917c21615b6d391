"""text/plain, text/occi and text/uri-list out."""

from __future__ import annotations

import pytest

from occistack.model.occi import standard_registry
from occistack.model.occi.infrastructure import COMPUTE, STOP
from occistack.api.occi.renderings import (
    SUPPORTED_MEDIA_TYPES, TEXT_OCCI_RENDERER, TEXT_PLAIN_RENDERER, URI_LIST_RENDERER,
    NotRenderable, parse_text_plain, renderer_for)

from tests.api.occi.renderings.conftest import INFRA, UBUNTU

BASE = "http://cloud.example.org:8787"
ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"


def lines(body: bytes) -> list[str]:
    return body.decode("utf-8").split("\n")


def test_a_resource_in_text_plain(compute):
    rendered = TEXT_PLAIN_RENDERER.resource(compute, BASE)
    assert rendered.content_type == "text/plain" and rendered.headers == ()
    assert not rendered.body.endswith(b"\n")
    assert lines(rendered.body) == [
        f'Category: compute; scheme="{INFRA}"; class="kind"',
        'Category: ubuntu-22.04; scheme="http://occistack.local/occi/infrastructure/os_tpl#"; '
        'class="mixin"',
        'Category: medium; scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#";'
        ' class="mixin"',
        f'Link: </network/1>; rel="{INFRA}network"; self="/networkinterface/456"; '
        f'category="{INFRA}networkinterface '
        'http://schemas.ogf.org/occi/infrastructure/networkinterface#ipnetworkinterface"; '
        'occi.core.id="456"; occi.networkinterface.interface="eth0"; '
        'occi.networkinterface.mac="00:11:22:33:44:55"; occi.networkinterface.address="10.0.0.5"; '
        'occi.networkinterface.state="active"',
        f'Link: </storage/9>; rel="{INFRA}storage"; self="/storagelink/789"; '
        f'category="{INFRA}storagelink"; occi.core.id="789"; occi.storagelink.deviceid="/dev/vdb"; '
        'occi.storagelink.state="active"',
        f'Link: </compute/123?action=start>; rel="{ACTIONS}start"',
        f'Link: </compute/123?action=stop>; rel="{ACTIONS}stop"',
        'X-OCCI-Attribute: occi.core.id="123"',
        'X-OCCI-Attribute: occi.core.title="My \\"first\\" VM, café"',
        'X-OCCI-Attribute: occi.core.summary="line one\\nline two\\ttabbed"',
        "X-OCCI-Attribute: occi.compute.cores=2",
        "X-OCCI-Attribute: occi.compute.memory=2.0",
        'X-OCCI-Attribute: occi.compute.state="active"',
        'X-OCCI-Attribute: occi.compute.hostname="vm1"',
    ]


def test_every_line_has_a_second_word_for_vmdirac(compute, network_interface):
    for body in (TEXT_PLAIN_RENDERER.resource(compute, BASE).body,
                 TEXT_PLAIN_RENDERER.locations(["/network/1", "/network/2"], BASE).body,
                 TEXT_PLAIN_RENDERER.query_interface(standard_registry()).body):
        assert all(len(line.split()) >= 2 for line in lines(body))


def test_text_occi_plain_is_text_plain_with_its_own_content_type(compute):
    rendered = renderer_for("text/occi+plain").resource(compute, BASE)
    assert rendered.content_type == "text/occi+plain"
    assert rendered.body == TEXT_PLAIN_RENDERER.resource(compute, BASE).body
    assert renderer_for("Text/Plain; charset=utf-8") is TEXT_PLAIN_RENDERER
    assert set(SUPPORTED_MEDIA_TYPES) == {"text/plain", "text/occi+plain", "text/occi",
                                          "text/uri-list", "application/occi+json",
                                          "application/json"}
    with pytest.raises(ValueError):
        renderer_for("application/xml")


def test_a_resource_in_text_occi_headers(compute):
    rendered = TEXT_OCCI_RENDERER.resource(compute, BASE)
    assert rendered.body == b"OK" and rendered.content_type == "text/occi"
    headers = dict(rendered.headers)
    assert [name for name, _ in rendered.headers] == ["Category", "Link", "X-OCCI-Attribute"]
    assert headers["Category"].count(", ") == 2
    assert headers["X-OCCI-Attribute"].startswith(
        'occi.core.id="123", occi.core.title="My \\"first\\" VM, caf\\u00e9", ')
    for value in headers.values():  # what WSGI servers accept in a header
        value.encode("latin-1")
        assert "\n" not in value and "\r" not in value


def test_the_query_interface_in_text(compute):
    body = TEXT_PLAIN_RENDERER.query_interface(standard_registry()).body.decode()
    first, *rest = body.split("\n")
    assert first.startswith(
        'Category: entity; scheme="http://schemas.ogf.org/occi/core#"; class="kind"')
    compute_line = next(line for line in rest if line.startswith("Category: compute;"))
    assert compute_line == (
        f'Category: compute; scheme="{INFRA}"; class="kind"; title="Compute Resource"; '
        'rel="http://schemas.ogf.org/occi/core#resource"; location="/compute/"; '
        'attributes="occi.compute.architecture occi.compute.cores occi.compute.hostname '
        'occi.compute.share occi.compute.memory occi.compute.speed '
        'occi.compute.state{required immutable} occi.compute.state.message{immutable}"; '
        f'actions="{ACTIONS}start {ACTIONS}stop {ACTIONS}restart {ACTIONS}suspend {ACTIONS}save"')
    stop_line = next(line for line in rest if line.startswith("Category: stop;"))
    assert stop_line == (f'Category: stop; scheme="{ACTIONS}"; class="action"; '
                         'title="Stop the compute"; attributes="method"')
    headers = dict(TEXT_OCCI_RENDERER.query_interface(standard_registry()).headers)
    assert headers["Category"].startswith(first.split(": ", 1)[1] + ", resource; ")


def test_a_mixin_names_its_first_dependency_as_rel():
    (line,) = lines(TEXT_PLAIN_RENDERER.category(UBUNTU).body)
    assert line == ('Category: ubuntu-22.04; '
                    'scheme="http://occistack.local/occi/infrastructure/os_tpl#"; class="mixin"; '
                    'title="Ubuntu 22.04 LTS"; '
                    'rel="http://schemas.ogf.org/occi/infrastructure#os_tpl"; '
                    'location="/os_tpl/ubuntu-22.04/"; '
                    'attributes="eu.egi.fedcloud.appliance.appdb.id{immutable}"')


def test_a_standalone_link_carries_source_and_target(network_interface):
    assert lines(TEXT_PLAIN_RENDERER.link(network_interface, BASE).body)[2:7] == [
        'X-OCCI-Attribute: occi.core.id="456"',
        'X-OCCI-Attribute: occi.core.source="/compute/123"',
        f'X-OCCI-Attribute: occi.core.source.kind="{INFRA}compute"',
        'X-OCCI-Attribute: occi.core.target="/network/1"',
        f'X-OCCI-Attribute: occi.core.target.kind="{INFRA}network"',
    ]


def test_collections_and_created_answers(compute, network_interface):
    assert TEXT_PLAIN_RENDERER.collection([compute], [network_interface], BASE).body == (
        f"X-OCCI-Location: {BASE}/compute/123\nX-OCCI-Location: {BASE}/networkinterface/456".encode())
    assert TEXT_PLAIN_RENDERER.collection([], [], BASE).body == b""
    assert TEXT_PLAIN_RENDERER.created(["/compute/123"], BASE).body == (
        f"X-OCCI-Location: {BASE}/compute/123".encode())
    occi = TEXT_OCCI_RENDERER.locations(["/compute/1", "/compute/2"], BASE)
    assert occi.headers == (("X-OCCI-Location", f"{BASE}/compute/1, {BASE}/compute/2"),)
    assert occi.body == b"OK"
    assert TEXT_OCCI_RENDERER.locations([], BASE).headers == ()
    created = TEXT_OCCI_RENDERER.created(["/compute/1"], BASE)
    assert created.headers == (("X-OCCI-Location", f"{BASE}/compute/1"),) and created.body == b"OK"


def test_uri_list_renders_listings_only(compute):
    rendered = URI_LIST_RENDERER.collection([compute], [], BASE)
    assert (rendered.body, rendered.content_type) == (f"{BASE}/compute/123".encode(), "text/uri-list")
    assert URI_LIST_RENDERER.locations(["/a", "/b"], BASE).body == f"{BASE}/a\n{BASE}/b".encode()
    assert URI_LIST_RENDERER.created(["/a"], BASE).body == f"{BASE}/a".encode()
    for refused in (lambda: URI_LIST_RENDERER.resource(compute, BASE),
                    lambda: URI_LIST_RENDERER.query_interface(standard_registry()),
                    lambda: URI_LIST_RENDERER.category(COMPUTE),
                    lambda: URI_LIST_RENDERER.action_invocation(STOP, {})):
        with pytest.raises(NotRenderable, match="text/uri-list can only render collections"):
            refused()


def test_action_invocation_errors_and_ok():
    body = TEXT_PLAIN_RENDERER.action_invocation(STOP, {"method": "poweroff", "skipped": None}).body
    assert lines(body) == [f'Category: stop; scheme="{ACTIONS}"; class="action"',
                           'X-OCCI-Attribute: method="poweroff"']
    assert parse_text_plain(body.decode()).action.term == "stop"
    assert TEXT_PLAIN_RENDERER.error(404, "Not Found", "no such compute").body == b"no such compute"
    occi_error = TEXT_OCCI_RENDERER.error(400, "Bad Request", "bad")
    assert (occi_error.body, occi_error.headers) == (b"bad", ())
    assert URI_LIST_RENDERER.error(404, "Not Found", "gone").content_type == "text/plain"
    assert TEXT_PLAIN_RENDERER.ok().body == b"" and TEXT_OCCI_RENDERER.ok().body == b"OK"
