"""text/plain and text/occi in: the specification's examples and what real clients send."""

from __future__ import annotations

import pytest

from occistack.api.occi.renderings import CategoryIR, LinkIR, parse_text_occi, parse_text_plain
from occistack.api.occi.renderings.ir import AttributeSpecIR

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
CORE = "http://schemas.ogf.org/occi/core#"
COMPUTE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
OPENSTACK_USER_DATA = "http://schemas.openstack.org/compute/instance#"
OPENSTACK_CREDENTIALS = "http://schemas.openstack.org/instance/credentials#"


def compute_kind() -> CategoryIR:
    return CategoryIR(scheme=INFRA, term="compute", cls="kind")


# --- GFD.229 / GFD.185 examples (SPEC-NOTES §1.2), in our own words -------------------------

def test_query_interface_categories_with_every_parameter():
    body = (
        f'Category: compute; scheme="{INFRA}"; class="kind"; title="Compute Resource type"; '
        f'rel="{CORE}resource"; attributes="occi.compute.cores occi.compute.state{{immutable}} '
        f'occi.compute.hostname{{required immutable}}"; actions="{COMPUTE_ACTIONS}stop '
        f'{COMPUTE_ACTIONS}start"; location="http://example.com/compute/"\n'
        f'Category: start; scheme="{COMPUTE_ACTIONS}"; class="action"; '
        f'title="Start Compute Resource"; attributes="method"'
    )
    compute, start = parse_text_plain(body).categories
    assert compute == CategoryIR(
        scheme=INFRA, term="compute", cls="kind", title="Compute Resource type",
        depends=(CORE + "resource",), location="http://example.com/compute/",
        attributes=(AttributeSpecIR("occi.compute.cores"),
                    AttributeSpecIR("occi.compute.state", immutable=True),
                    AttributeSpecIR("occi.compute.hostname", immutable=True, required=True)),
        actions=(COMPUTE_ACTIONS + "stop", COMPUTE_ACTIONS + "start"),
    )
    assert start == CategoryIR(scheme=COMPUTE_ACTIONS, term="start", cls="action",
                               title="Start Compute Resource",
                               attributes=(AttributeSpecIR("method"),))


CREATE_WITH_INLINE_LINK = (
    f'Category: compute; scheme="{INFRA}"; class="kind"\n'
    f'Link: </network/123>; rel="{INFRA}network"; category="{INFRA}networkinterface"; '
    'occi.networkinterface.interface="eth0"; occi.networkinterface.mac="00:11:22:33:44:55"\n'
    "X-OCCI-Attribute: occi.compute.cores=2\n"
    'X-OCCI-Attribute: occi.compute.hostname="foobar"'
)


def test_create_with_an_inline_link():
    ir = parse_text_plain(CREATE_WITH_INLINE_LINK)
    assert ir.kind == compute_kind()
    assert ir.mixins == ()
    assert ir.attributes == {"occi.compute.cores": 2, "occi.compute.hostname": "foobar"}
    assert ir.links == (LinkIR(
        target="/network/123", rel=INFRA + "network", kind=INFRA + "networkinterface",
        attributes={"occi.networkinterface.interface": "eth0",
                    "occi.networkinterface.mac": "00:11:22:33:44:55"},
        target_kind=INFRA + "network"),)


def test_the_same_create_as_text_occi_headers():
    headers = {}
    for line in CREATE_WITH_INLINE_LINK.split("\n"):
        name, _, value = line.partition(": ")
        headers[name] = headers[name] + ", " + value if name in headers else value
    assert parse_text_occi(headers) == parse_text_plain(CREATE_WITH_INLINE_LINK)


def test_an_instance_rendering_with_trailing_semicolon_action_link_and_self():
    body = (
        f'Category: compute; scheme="{INFRA}"; class="kind";\n'
        f'Link: </users/foo/compute/b9ff?action=start>; rel="{COMPUTE_ACTIONS}start"\n'
        f'Link: </network/123>; rel="{INFRA}network"; self="/link/networkinterface/456"; '
        f'category="{INFRA}networkinterface"; occi.networkinterface.interface="eth0"; '
        'occi.networkinterface.mac="00:11:22:33:44:55"; occi.networkinterface.state="active"\n'
        'X-OCCI-Attribute: occi.core.id="urn:uuid:b9ff813e-fee5-4a9d-b839-673f39746096"\n'
        'X-OCCI-Attribute: occi.compute.state="inactive"\n'
        "X-OCCI-Attribute: occi.compute.memory=2.0"
    )
    ir = parse_text_plain(body)
    action_link, interface = ir.links
    assert action_link.is_action and action_link.kind is None
    assert action_link.rel == COMPUTE_ACTIONS + "start" and action_link.target_kind is None
    assert interface.self_location == "/link/networkinterface/456"
    assert interface.attributes["occi.networkinterface.state"] == "active"
    assert ir.attributes["occi.compute.memory"] == 2.0
    assert isinstance(ir.attributes["occi.compute.memory"], float)


def test_an_action_invocation():
    ir = parse_text_plain(f'Category: stop; scheme="{COMPUTE_ACTIONS}"; class="action"\n'
                          'X-OCCI-Attribute: method="poweroff"')
    assert ir.action == CategoryIR(scheme=COMPUTE_ACTIONS, term="stop", cls="action")
    assert ir.kind is None
    assert ir.attributes == {"method": "poweroff"}


def test_a_standalone_link():
    ir = parse_text_plain(f'Category: networkinterface; scheme="{INFRA}"; class="kind"\n'
                          'X-OCCI-Attribute: occi.core.source="http://example.com/vms/foo/vm1"\n'
                          'X-OCCI-Attribute: occi.core.target="http://example.com/network/123"')
    assert ir.kind.term == "networkinterface"
    assert ir.attributes == {"occi.core.source": "http://example.com/vms/foo/vm1",
                             "occi.core.target": "http://example.com/network/123"}


def test_locations_one_per_line_and_comma_joined():
    expected = ("http://example.com/compute/123", "/compute/456")
    assert parse_text_plain("X-OCCI-Location: http://example.com/compute/123\n"
                            "X-OCCI-Location: /compute/456").locations == expected
    assert parse_text_occi({"X-OCCI-Location": "http://example.com/compute/123, /compute/456"}
                           ).locations == expected


# --- what the real clients send (SPEC-NOTES §6) -------------------------------------------------

def test_rocci_cli_create_without_blanks():
    body = (
        f'Category: compute;scheme="{INFRA}";class="kind"\n'
        'Category: uuid_egi_centos_7_fedcloud_warg_149;'
        'scheme="http://fedcloud.egi.eu/occi/compute/flavour/1.0#";class="mixin"\n'
        'Category: medium;scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#";'
        'class="mixin"\n'
        f'Category: user_data;scheme="{OPENSTACK_USER_DATA}";class="mixin"\n'
        f'Category: public_key;scheme="{OPENSTACK_CREDENTIALS}";class="mixin"\n'
        'X-OCCI-Attribute: occi.core.title="My rOCCI VM"\n'
        'X-OCCI-Attribute: occi.compute.hostname="My rOCCI VM"\n'
        'X-OCCI-Attribute: org.openstack.compute.user_data="I2Nsb3VkLWNvbmZpZwo="\n'
        'X-OCCI-Attribute: org.openstack.credentials.publickey.data="ssh-rsa AAAAB3Nza me@host"\n'
        f'Link: </network/1>;rel="{INFRA}network";category="{INFRA}networkinterface"'
    )
    ir = parse_text_plain(body)
    assert ir.kind == compute_kind()
    assert [m.term for m in ir.mixins] == ["uuid_egi_centos_7_fedcloud_warg_149", "medium",
                                          "user_data", "public_key"]
    assert ir.attributes["org.openstack.compute.user_data"] == "I2Nsb3VkLWNvbmZpZwo="
    assert ir.attributes["org.openstack.credentials.publickey.data"] == "ssh-rsa AAAAB3Nza me@host"
    (link,) = ir.links
    assert (link.target, link.kind, link.attributes) == ("/network/1", INFRA + "networkinterface", {})


def test_vmdirac_create_with_location_and_title_on_each_category():
    body = (
        f'Category: compute; scheme="{INFRA}"; class="kind"; location="/compute/"; '
        'title="Compute Resource"\n'
        f'Category: user_data; scheme="{OPENSTACK_USER_DATA}"; class="mixin"; '
        'location="/mixin/user_data/"; title="Contextualization extension - user_data"\n'
        'Category: 7c1f9c8a-e6a1-4c57-b0f3-39bd1f2c0e51; '
        'scheme="http://schemas.openstack.org/template/os#"; class="mixin"; '
        'location="/os_tpl/7c1f9c8a-e6a1-4c57-b0f3-39bd1f2c0e51"; title="CentOS 7"\n'
        'Category: m1.small; scheme="http://schemas.openstack.org/template/resource#"; '
        'class="mixin"; location="/resource_tpl/m1.small"; title="Flavor: m1.small"\n'
        'X-OCCI-Attribute: occi.core.id="0d1c9a52-35a6-4bd6-a8a6-d6e0b9fbd22e"\n'
        'X-OCCI-Attribute: occi.core.title="a1b2c3d4"\n'
        'X-OCCI-Attribute: occi.compute.hostname="a1b2c3d4"\n'
        'X-OCCI-Attribute: org.openstack.compute.user_data="IyEvYmluL2Jhc2gKZWNobyBoaQo="'
    )
    ir = parse_text_plain(body)
    assert [c.term for c in ir.categories] == ["compute", "user_data",
                                              "7c1f9c8a-e6a1-4c57-b0f3-39bd1f2c0e51", "m1.small"]
    assert ir.categories[3].location == "/resource_tpl/m1.small"
    assert ir.categories[3].title == "Flavor: m1.small"
    assert ir.attributes["occi.core.title"] == "a1b2c3d4"


def test_vmdirac_public_ip_link_without_blanks():
    ir = parse_text_plain(
        f'Category: networkinterface;scheme="{INFRA}";class="kind";'
        'location="/link/networkinterface/";title="networkinterface link"\n'
        'X-OCCI-Attribute: occi.core.source="/compute/abc"\n'
        'X-OCCI-Attribute: occi.core.target="https://cloud.example.org:8787/network/PUBLIC"\n'
        'X-OCCI-Attribute: occi.core.id="1f2e3d4c"')
    assert ir.kind.location == "/link/networkinterface/"
    assert ir.attributes["occi.core.id"] == "1f2e3d4c"


def test_im_inline_storage_link_with_self_and_mixed_spacing():
    body = (
        f'Category: compute; scheme="{INFRA}"; class="kind"\n'
        f'Link: </occi1.1/storage/vol-9>; rel="{INFRA}storage"; self="/storagelink/im-5e1c"; '
        f'category="{INFRA}storagelink"; occi.core.target="/occi1.1/storage/vol-9"; '
        'occi.core.source="/occi1.1/compute/im-77aa"; occi.core.id="im-5e1c";'
        'occi.storagelink.deviceid="/dev/vdb"\n'
        f'Link: </occi1.1/network/net-1>; rel="{INFRA}network"; self="/networkinterface/im-6f2d"; '
        f'category="{INFRA}networkinterface"; occi.core.target="/occi1.1/network/net-1"; '
        'occi.core.source="/occi1.1/compute/im-77aa"; occi.core.id="im-6f2d"'
    )
    storage, network = parse_text_plain(body).links
    assert storage == LinkIR(
        target="/occi1.1/storage/vol-9", rel=INFRA + "storage", self_location="/storagelink/im-5e1c",
        kind=INFRA + "storagelink",
        attributes={"occi.core.target": "/occi1.1/storage/vol-9",
                    "occi.core.source": "/occi1.1/compute/im-77aa", "occi.core.id": "im-5e1c",
                    "occi.storagelink.deviceid": "/dev/vdb"},
        target_kind=INFRA + "storage")
    assert network.self_location == "/networkinterface/im-6f2d"
    assert network.kind == INFRA + "networkinterface"


# --- the tolerance the grammar promises -------------------------------------------------------

@pytest.mark.parametrize("value", [
    f'compute; scheme="{INFRA}"; class="kind"',
    f'compute;scheme="{INFRA}";class="kind"',
    f'compute ; scheme = "{INFRA}" ; class = kind',
    f'compute; class="kind"; scheme="{INFRA}"',
    f'compute; scheme="{INFRA}"; class="kind"; foo="bar"; x=1;',
])
def test_category_spacing_quoting_order_and_unknown_parameters(value):
    (category,) = parse_text_occi({"Category": value}).categories
    assert category == compute_kind()


def test_terms_with_dots_dashes_and_underscores():
    (category,) = parse_text_plain('Category: egi.ubuntu-22.04_x64; scheme="http://a/os#"; '
                                   'class="mixin"').categories
    assert category.term == "egi.ubuntu-22.04_x64"


@pytest.mark.parametrize("text, value", [
    ('"a string"', "a string"),
    ('"true"', "true"),
    ("true", True),
    ("false", False),
    ("42", 42),
    ("-7", -7),
    ("2.5", 2.5),
    ("1e3", 1000.0),
    ("-1.5E-2", -0.015),
    ("x64", "x64"),
    ("/network/1", "/network/1"),
    ("2x", "2x"),
    (r'"quote \" backslash \\ newline \n tab \t cr \r"',
     'quote " backslash \\ newline \n tab \t cr \r'),
    (r'"\u00e9\u2028 \ud83d\ude00"', "é\u2028 😀"),
    ('"comma, inside"', "comma, inside"),
])
def test_attribute_values(text, value):
    (parsed,) = parse_text_plain(f"X-OCCI-Attribute: a.b={text}").attributes.values()
    assert parsed == value and type(parsed) is type(value)


def test_commas_inside_quotes_do_not_separate_values():
    ir = parse_text_occi({"x-occi-attribute": 'a="x, y", b="z", c=1'})
    assert ir.attributes == {"a": "x, y", "b": "z", "c": 1}


def test_header_names_are_case_insensitive_and_other_headers_ignored():
    ir = parse_text_occi({"CATEGORY": f'compute; scheme="{INFRA}"; class="kind"',
                          "Content-Type": "text/occi", "Accept": "*/*", "link": "", })
    assert ir.kind == compute_kind() and ir.links == ()
    body = f'category: compute; scheme="{INFRA}"; class="kind"\r\n\r\nx-occi-attribute: a=1\r\n'
    assert parse_text_plain(body).attributes == {"a": 1}


def test_webob_request_headers_work_as_the_mapping():
    webob = pytest.importorskip("webob")
    request = webob.Request.blank("/compute/", headers={
        "Category": f'compute; scheme="{INFRA}"; class="kind"',
        "X-OCCI-Attribute": 'occi.core.title="t"'})
    ir = parse_text_occi(request.headers)
    assert ir.kind == compute_kind() and ir.attributes == {"occi.core.title": "t"}


def test_an_empty_body_is_an_empty_rendering():
    assert parse_text_plain("").is_empty
    assert parse_text_plain("\n  \n").is_empty
    assert parse_text_occi({}).is_empty


def test_category_values_are_cached_within_a_bound_and_nothing_else_is():
    from occistack.api.occi.renderings import parse_text

    body = f'Category: compute; scheme="{INFRA}"; class="kind"\nX-OCCI-Attribute: a=1'
    parse_text_plain(body)
    hits = parse_text._categories.cache_info().hits
    first, second = parse_text_plain(body), parse_text_plain(body)
    assert parse_text._categories.cache_info().hits == hits + 2
    assert parse_text._categories.cache_info().maxsize == parse_text.CATEGORY_CACHE_SIZE
    assert first.attributes == second.attributes and first.attributes is not second.attributes
