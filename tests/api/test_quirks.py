"""The compatibility checklists of SPEC-NOTES §7 and §8, item by item: the details that old
clients and compliance tools depend on and that are easy to get wrong."""

from __future__ import annotations

import itertools
import json
import re

import pytest
import transaction

from occistack.model import OsTemplate
from occistack.model.session import get_tm_session
from tests.conftest import basic, running_app
from tests.factories import OsTemplateFactory, ProjectFactory, UserFactory
from tests.api.occi_face import (
    HOST,
    INFRA,
    OCCIClient,
    RENDERINGS,
    SERVER,
    assert_schema,
    attributes,
    categories,
    entity_id,
    header_lines,
    links,
    locations,
    occi_header_values,
    path_of,
)

CORE = "http://schemas.ogf.org/occi/core#"
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
CRTP = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"
COMPUTE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}
JSON_TYPE = {"Content-Type": "application/occi+json", "Accept": "application/occi+json"}
# A VLAN id serves one network in the whole cloud and the module's database outlives each test,
# so every test that names a VLAN takes the next one from here.
_vlans = itertools.count(100)
KIND = f'Category: compute; scheme="{INFRA}"; class="kind"'
CIRROS = f'Category: cirros-0.6; scheme="{OS_TPL}"; class="mixin"'


def new_compute(client, *extra: str) -> str:
    body = "\n".join([KIND, CIRROS, 'X-OCCI-Attribute: occi.core.title="vm"', *extra])
    return path_of(client.post("/compute/", body, headers=TEXT, status=201).headers["Location"])


def query_interface(client) -> dict[str, dict[str, str]]:
    return {c["scheme"] + c["term"]: c for c in categories(client.get("/-/", headers=TEXT))}


# =============================================================================================
# §7 Compatibility checklist
# =============================================================================================

# 7.1 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/-/", "/.well-known/org/ogf/occi/-/"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_7_1_query_interfaces_answer_get_and_head_with_server_and_accept(client, path, method):
    response = client.request(path, method=method, status=200)
    assert response.headers["Server"] == SERVER
    assert response.headers["Server"].split()[1:] == ["OCCI/1.2", "OCCI/1.1", "OCCI-CRTP/1.1"]
    assert set(RENDERINGS) <= {media.strip() for media in response.headers["Accept"].split(",")}
    assert (response.body == b"") == (method == "HEAD")


# 7.2 -----------------------------------------------------------------------------------------

def test_7_2_only_versions_above_1_2_get_501(client):
    for agent, status in (("x OCCI/1.1", 200), ("x OCCI/1.2", 200), ("x OCCI/1.3", 501), ("x OCCI/2.1", 501)):
        client.get("/-/", headers={"User-Agent": agent}, status=status)


# 7.3 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain,text/occi", "text/plain, text/occi", "text/occi+plain",
                                          "application/x-www-form-urlencoded", "text/plain; charset=utf-8"])
def test_7_3_content_type_variants_of_a_text_body(client, content_type):
    body = "\n".join([KIND, CIRROS, 'X-OCCI-Attribute: occi.core.title="typed"'])
    response = client.post("/compute/", body, headers={"Content-Type": content_type, "Accept": "text/plain"},
                           status=201)
    assert attributes(client.get(path_of(response.headers["Location"])).text)["occi.core.title"] == "typed"


@pytest.mark.parametrize("content_type", ["text/plain,text/occi", "text/plain", "text/occi"])
def test_7_3_an_empty_body_means_the_rendering_is_in_the_headers(client, content_type):
    headers = {"Content-Type": content_type, "Accept": "text/plain", "Category": f"{KIND[10:]}, {CIRROS[10:]}",
               "X-OCCI-Attribute": 'occi.core.title="in headers", occi.compute.cores=2'}
    location = client.post("/compute/", "", headers=headers, status=201).headers["Location"]
    rendered = attributes(client.get(path_of(location)).text)
    assert (rendered["occi.core.title"], rendered["occi.compute.cores"]) == ("in headers", "2")


@pytest.mark.parametrize("style", [
    # GFD.229's own spacing
    f'Category: compute; scheme="{INFRA}"; class="kind"\nCategory: cirros-0.6; scheme="{OS_TPL}"; class="mixin"',
    # rOCCI-core 4.x: no blanks
    f'Category: compute;scheme="{INFRA}";class="kind"\nCategory: cirros-0.6;scheme="{OS_TPL}";class="mixin"',
    # unquoted class, as the ABNF allows
    f'Category: compute; scheme="{INFRA}"; class=kind\nCategory: cirros-0.6; scheme="{OS_TPL}"; class=mixin',
    # both categories comma-joined on one line
    f'Category: compute; scheme="{INFRA}"; class="kind", cirros-0.6; scheme="{OS_TPL}"; class="mixin"',
], ids=["spaced", "unspaced", "unquoted-class", "comma-joined"])
def test_7_3_category_spacing_quoting_and_joining(client, style):
    client.post("/compute/", style + '\nX-OCCI-Attribute: occi.core.title="styled"', headers=TEXT, status=201)


def test_7_3_repeated_occi_headers(client):
    # Repeated header fields reach the application joined by ", " (RFC 9110 §5.3, and WSGI does
    # so): the comma form, with a comma inside a quoted value too.
    environ = {"HTTP_CATEGORY": f"{KIND[10:]}, {CIRROS[10:]}",
               "HTTP_X_OCCI_ATTRIBUTE": 'occi.core.title="a, b", occi.compute.hostname="joined"'}
    response = client.post("/compute/", "", headers={"Content-Type": "text/occi"}, extra_environ=environ,
                           status=201)
    rendered = attributes(client.get(path_of(response.headers["Location"])).text)
    assert (rendered["occi.core.title"], rendered["occi.compute.hostname"]) == ("a, b", "joined")


@pytest.mark.parametrize("accept", [None, "*/*", "", "text/*", "*/*;q=0.8"])
def test_7_3_no_accept_or_anything_means_text_plain(client, accept):
    new_compute(client)
    headers = {} if accept is None else {"Accept": accept}
    response = client.get("/compute/", headers=headers, status=200)
    assert response.headers["Content-Type"] == "text/plain"
    assert response.text.startswith("X-OCCI-Location: ")


# 7.4 -----------------------------------------------------------------------------------------

def test_7_4_unauthenticated_requests_are_challenged(anonymous_client):
    response = anonymous_client.head("/-/", status=401)
    assert response.headers["WWW-Authenticate"]


def test_7_4_the_challenge_names_keystone(world):
    """A site with a Keystone (here the built-in token service; an external one alike) answers
    with that one challenge, written so that each client reads the URL out of it its own way."""
    with running_app(world.url, world.drivers, **{"occistack.keystone.builtin": "true"}) as application:
        response = OCCIClient(application).head("/-/", status=401)
    keystone = "http://localhost/keystone"
    assert response.headers.getall("WWW-Authenticate") == [f"Keystone uri='{keystone}'"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge[14:-1] == keystone  # VMDIRAC
    assert re.match(r"^(Keystone|snf-auth) uri=(\"|')(.+)(\"|')$", challenge)[3] == keystone  # rOCCI
    assert challenge.split("=")[1].replace("'", "") == keystone  # IM


# 7.5 -----------------------------------------------------------------------------------------

def test_7_5_create_action_delete_and_empty_collection(client):
    response = client.post("/compute/", "\n".join([KIND, CIRROS]), headers=TEXT, status=201)
    location = response.headers["Location"]
    assert location.startswith(HOST + "/compute/")
    assert response.text == f"X-OCCI-Location: {location}"
    client.post(path_of(location) + "?action=stop",
                f'Category: stop; scheme="{COMPUTE_ACTIONS}"; class="action"', headers=TEXT, status=200)
    assert client.delete(path_of(location), status=200).status_int == 200  # not 204
    empty = client.get("/compute/", headers={"Accept": "text/plain"}, status=200)  # not 204 (1.1)
    assert empty.body == b""


# 7.6 -----------------------------------------------------------------------------------------

def test_7_6_text_collections_have_one_location_per_line_and_no_trailing_blank_line(client):
    made = sorted(HOST + new_compute(client) for _ in range(3))
    body = client.get("/compute/", headers={"Accept": "text/plain"}).text
    assert not body.endswith("\n")
    assert sorted(line.split()[1] for line in body.split("\n")) == made  # VMDIRAC's reading
    uri_list = client.get("/compute/", headers={"Accept": "text/uri-list"}).text
    assert sorted(uri_list.split("\n")) == made


def test_7_6_json_collections_are_resources_objects(client):
    vm = new_compute(client)
    document = client.get("/compute/", headers={"Accept": "application/occi+json"}).json
    assert list(document) == ["resources"]
    assert_schema(document, "resource_collection")
    assert [resource["id"] for resource in document["resources"]] == [entity_id(vm)]


# 7.7 -----------------------------------------------------------------------------------------

def test_7_7_link_kind_locations_and_their_aliases(client):
    model = query_interface(client)
    assert model[INFRA + "networkinterface"]["location"] == "/networkinterface/"
    assert model[INFRA + "storagelink"]["location"] == "/storagelink/"
    vm = new_compute(client)
    nic = next(link["self"] for link in links(client.get(vm, headers=TEXT)) if "self" in link)
    for path in (nic, "/link" + nic):
        assert attributes(client.get(path, headers=TEXT, status=200).text)["occi.core.source"] == vm
    assert locations(client.get("/networkinterface/", headers=TEXT)) == \
        locations(client.get("/link/networkinterface/", headers=TEXT))


def test_7_7_inline_links_may_name_themselves(client):
    volume = path_of(client.post("/storage/", f'Category: storage; scheme="{INFRA}"; class="kind"\n'
                                              "X-OCCI-Attribute: occi.storage.size=1", headers=TEXT,
                                 status=201).headers["Location"])
    link = (f'Link: <{volume}>; rel="{INFRA}storage"; self="/storagelink/my-own-link-id"; '
            f'category="{INFRA}storagelink"; occi.storagelink.deviceid="/dev/vdb"')
    vm = new_compute(client, link)
    client.get("/storagelink/my-own-link-id", status=200)
    assert {"target": volume, "self": "/storagelink/my-own-link-id"}.items() <= \
        next(found for found in links(client.get(vm, headers=TEXT)) if found["target"] == volume).items()


# 7.8 -----------------------------------------------------------------------------------------

def test_7_8_the_model_has_every_kind_and_mixin_clients_look_for(client):
    model = query_interface(client)
    expected = [CORE + term for term in ("entity", "resource", "link")] + \
        [INFRA + term for term in ("compute", "storage", "network", "networkinterface", "storagelink", "os_tpl",
                                   "resource_tpl")] + \
        ["http://schemas.ogf.org/occi/infrastructure/network#ipnetwork",
         "http://schemas.ogf.org/occi/infrastructure/networkinterface#ipnetworkinterface",
         CRTP + "small", CRTP + "medium", CRTP + "large",
         "http://schemas.openstack.org/compute/instance#user_data",
         "http://schemas.openstack.org/instance/credentials#public_key",
         "http://schemas.ogf.org/occi/infrastructure/compute#user_data",
         "http://schemas.ogf.org/occi/infrastructure/credentials#ssh_key"]
    assert [identifier for identifier in expected if identifier not in model] == []


def test_7_8_the_entity_kind_comes_first(client):
    first = client.get("/-/", headers=TEXT).text.split("\n")[0]
    assert first.startswith("Category: entity;") and f'scheme="{CORE}"' in first
    assert client.get("/-/", headers={"Accept": "application/occi+json"}).json["kinds"][0]["term"] == "entity"


@pytest.mark.parametrize("user_data, public_key", [
    ("org.openstack.compute.user_data", "org.openstack.credentials.publickey.data"),
    ("occi.compute.userdata", "occi.credentials.ssh.publickey"),
], ids=["openstack", "occi-1.2"])
@pytest.mark.parametrize("with_mixins", [True, False], ids=["with-mixins", "attributes-only"])
def test_7_8_both_context_schemes_are_accepted(client, user_data, public_key, with_mixins):
    mixins = {"org.openstack.compute.user_data": 'user_data; scheme="http://schemas.openstack.org/compute/instance#"',
              "org.openstack.credentials.publickey.data":
                  'public_key; scheme="http://schemas.openstack.org/instance/credentials#"',
              "occi.compute.userdata": 'user_data; scheme="http://schemas.ogf.org/occi/infrastructure/compute#"',
              "occi.credentials.ssh.publickey":
                  'ssh_key; scheme="http://schemas.ogf.org/occi/infrastructure/credentials#"'}
    lines = [f'Category: {mixins[name]}; class="mixin"' for name in (user_data, public_key)] if with_mixins else []
    vm = new_compute(client, *lines, f'X-OCCI-Attribute: {user_data}="I2Nsb3VkLWNvbmZpZw=="',
                     f'X-OCCI-Attribute: {public_key}="ssh-ed25519 AAAAC3Nz me@home"')
    rendered = attributes(client.get(vm, headers=TEXT).text)
    assert (rendered[user_data], rendered[public_key]) == ("I2Nsb3VkLWNvbmZpZw==", "ssh-ed25519 AAAAC3Nz me@home")


# 7.9 -----------------------------------------------------------------------------------------

def test_7_9_os_templates_carry_their_appdb_attributes(world):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(world.session_factory, manager)
        project = ProjectFactory(session=session, name="appdb-site")
        UserFactory(session=session, name="appdb-user", password="appdb-user", project_id=project.id)
        OsTemplateFactory(session=session, term="egi.ubuntu.22.04", title="EGI Ubuntu 22.04", project_id=project.id,
                          extra_attributes={"eu.egi.fedcloud.appliance.appdb.id": "1017",
                                            "eu.egi.fedcloud.appliance.appdb.mpuri":
                                                "https://appdb.egi.eu/store/vo/image/0ab1:1017/"})
    client = OCCIClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic("appdb-user", "appdb-user")})
    line = next(value for value in header_lines(client.get("/-/", headers=TEXT), "Category")
                if value.startswith("egi.ubuntu.22.04;"))
    assert "eu.egi.fedcloud.appliance.appdb.id" in line and "eu.egi.fedcloud.appliance.appdb.mpuri" in line
    mixin = next(m for m in client.get("/-/", headers={"Accept": "application/occi+json"}).json["mixins"]
                 if m["term"] == "egi.ubuntu.22.04")
    assert mixin["attributes"]["eu.egi.fedcloud.appliance.appdb.id"]["default"] == "1017"


# 7.10 ----------------------------------------------------------------------------------------

def test_7_10_zones_are_availability_zone_mixins_and_vlans_are_attributes(client):
    zone = query_interface(client)["http://occistack.local/occi/infrastructure/availability_zone#zone1"]
    assert zone["rel"] == INFRA + "availability_zone"
    zone_line = f'Category: zone1; scheme="{zone["scheme"]}"; class="mixin"'
    vm = new_compute(client, zone_line)
    assert "zone1" in {c["term"] for c in categories(client.get(vm, headers=TEXT))}
    vlan = next(_vlans)
    network = client.post("/network/", "\n".join([f'Category: network; scheme="{INFRA}"; class="kind"', zone_line,
                                                  f"X-OCCI-Attribute: occi.network.vlan={vlan}"]), headers=TEXT,
                          status=201).headers["Location"]
    assert attributes(client.get(path_of(network), headers=TEXT).text)["occi.network.vlan"] == str(vlan)


# 7.11 ----------------------------------------------------------------------------------------

def test_7_11_speed_share_state_message_and_save(client, world):
    vm = new_compute(client, "X-OCCI-Attribute: occi.compute.speed=2.4", "X-OCCI-Attribute: occi.compute.share=3")
    rendered = attributes(client.get(vm, headers=TEXT).text)
    assert (rendered["occi.compute.speed"], rendered["occi.compute.share"]) == ("2.4", "3")
    client.post(vm, "X-OCCI-Attribute: occi.compute.speed=3.0", headers=TEXT, status=200)
    assert attributes(client.get(vm, headers=TEXT).text)["occi.compute.speed"] == "3.0"
    # A backend failure lands in the state message, never as silence.
    world.drivers.compute.failures.fail_next("stop", "the hypervisor is on fire")
    client.post(vm + "?action=stop", f'Category: stop; scheme="{COMPUTE_ACTIONS}"; class="action"', headers=TEXT,
                status=200)
    rendered = attributes(client.get(vm, headers=TEXT).text)
    assert rendered["occi.compute.state"] == "error"
    assert "the hypervisor is on fire" in rendered["occi.compute.state.message"]
    # save answers with the new os_tpl mixin
    saved = new_compute(client)
    response = client.post(saved + "?action=save", "\n".join([
        f'Category: save; scheme="{COMPUTE_ACTIONS}"; class="action"',
        'X-OCCI-Attribute: name="my-saved-image"']), headers=TEXT, status=200)
    category = categories(response)[0]
    assert (category["term"], category["class"], category["rel"]) == ("my-saved-image", "mixin", INFRA + "os_tpl")
    # ...and the host really saved it: the template is ready (an agent that refused the command
    # would leave it in error, saying why).
    with world.session_factory() as session:
        template = session.query(OsTemplate).filter_by(term="my-saved-image").one()
        assert template.state == "ready", template.description


# =============================================================================================
# §8 Details that compliance tools and old clients check
# =============================================================================================

def test_8_query_interface_locations_are_relative_and_entity_locations_absolute(client):
    for category in categories(client.get("/-/", headers=TEXT)):
        if "location" in category:
            assert category["location"].startswith("/") and category["location"].endswith("/"), category
    response = client.post("/compute/", "\n".join([KIND, CIRROS]), headers=TEXT, status=201)
    assert response.headers["Location"].startswith(HOST + "/")
    assert all(url.startswith(HOST + "/") for url in locations(client.get("/compute/", headers=TEXT)))
    occi = client.get("/compute/", headers={"Accept": "text/occi"})
    assert all(url.startswith(HOST + "/") for url in occi_header_values(occi, "X-OCCI-Location"))


@pytest.mark.parametrize("accept", ["text/plain", "text/occi", "text/occi+plain", "application/occi+json",
                                    "application/json", "text/uri-list"])
def test_8_content_type_is_the_requested_type_exactly(client, accept):
    new_compute(client)
    assert client.get("/compute/", headers={"Accept": accept}).headers["Content-Type"] == accept
    if accept != "text/uri-list":
        assert client.get("/-/", headers={"Accept": accept}).headers["Content-Type"] == accept


def test_8_rocci_style_accept_gets_text_plain(client):
    response = client.get("/-/", headers={"Accept": "text/plain,text/occi;q=0.2"})
    assert response.headers["Content-Type"] == "text/plain"


def test_8_kinds_advertise_their_actions(client):
    model = query_interface(client)
    expected = {"compute": {"start", "stop", "restart", "suspend", "save"}, "storage": {"online", "offline", "snapshot", "backup", "resize"},
                "network": {"up", "down"}}
    for kind, actions in expected.items():
        advertised = model[INFRA + kind]["actions"].split()
        scheme = f"http://schemas.ogf.org/occi/infrastructure/{kind}/action#"
        assert set(advertised) == {scheme + action for action in actions}
        assert all(action in model for action in advertised)



def _samples(client) -> dict[str, str]:
    """One entity of every kind, linked the way clients link them."""
    volume = path_of(client.post("/storage/", f'Category: storage; scheme="{INFRA}"; class="kind"\n'
                                              'X-OCCI-Attribute: occi.storage.size=1.5\n'
                                              'X-OCCI-Attribute: occi.core.title="caf\u00e9 \\"disk\\""',
                                 headers=TEXT, status=201).headers["Location"])
    network = path_of(client.post("/network/", "\n".join([
        f'Category: network; scheme="{INFRA}"; class="kind"',
        'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; class="mixin"',
        'X-OCCI-Attribute: occi.network.address="10.3.0.0/24"',
        f"X-OCCI-Attribute: occi.network.vlan={next(_vlans)}"]),
        headers=TEXT, status=201).headers["Location"])
    vm = new_compute(client, f'Category: small; scheme="{CRTP}"; class="mixin"',
                     f'Link: <{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"',
                     f'Link: <{volume}>; rel="{INFRA}storage"; category="{INFRA}storagelink"',
                     'X-OCCI-Attribute: org.openstack.compute.user_data="I2Nsb3VkLWNvbmZpZw=="')
    rendered = links(client.get(vm, headers=TEXT))
    nic = next(link["self"] for link in rendered if link.get("target") == network)
    storagelink = next(link["self"] for link in rendered if link.get("target") == volume)
    return {"compute": vm, "storage": volume, "network": network, "networkinterface": nic,
            "storagelink": storagelink}


KINDS = ["compute", "storage", "network", "networkinterface", "storagelink"]


@pytest.mark.parametrize("kind", KINDS)
def test_8_put_accepts_the_servers_own_text_plain_rendering(client, kind):
    path = _samples(client)[kind]
    before = client.get(path, headers=TEXT).text
    response = client.put(path, before, headers=TEXT, status=200)
    assert response.text == before
    assert client.get(path, headers=TEXT).text == before


@pytest.mark.parametrize("kind", KINDS)
def test_8_put_accepts_the_servers_own_json_rendering(client, kind):
    path = _samples(client)[kind]
    before = client.get(path, headers=JSON_TYPE).body
    response = client.put(path, before, headers=JSON_TYPE, status=200)
    assert response.json == json.loads(before)


@pytest.mark.parametrize("kind", KINDS)
def test_8_put_accepts_the_servers_own_text_occi_rendering(client, kind):
    path = _samples(client)[kind]
    before = client.get(path, headers={"Accept": "text/occi"})
    occi = {name: before.headers[name] for name in ("Category", "Link", "X-OCCI-Attribute") if name in before.headers}
    response = client.put(path, "", headers={"Content-Type": "text/occi", "Accept": "text/occi", **occi}, status=200)
    assert {name: response.headers.get(name) for name in occi} == occi


def test_8_a_resource_links_to_the_target_and_names_the_link_with_self(client):
    samples = _samples(client)
    rendered = [link for link in links(client.get(samples["compute"], headers=TEXT)) if "self" in link]
    assert {(link["target"], link["self"]) for link in rendered} >= {
        (samples["network"], samples["networkinterface"]), (samples["storage"], samples["storagelink"])}
    for link in rendered:
        kind = link["category"].split()[0]
        assert link["rel"] == INFRA + ("network" if kind == INFRA + "networkinterface" else "storage")


def test_8_action_links_point_at_the_entity(client):
    vm = new_compute(client)
    actions = {link["rel"]: link["target"] for link in links(client.get(vm, headers=TEXT)) if "self" not in link}
    assert actions == {COMPUTE_ACTIONS + term: f"{vm}?action={term}" for term in ("stop", "restart", "suspend", "save")}


@pytest.mark.parametrize("where", ["header", "body"])
def test_8_query_interface_filter(client, where):
    category = f'resource_tpl; scheme="{INFRA}"; class="mixin"'
    if where == "header":
        response = client.get("/-/", headers={"Accept": "text/plain", "Category": category})
    else:
        response = client.request("/-/", method="GET", body=f"Category: {category}".encode(), headers=TEXT)
    found = {c["scheme"] + c["term"] for c in categories(response)}
    assert INFRA + "resource_tpl" in found and CRTP + "small" in found and len(found) > 2
    assert all(identifier == INFRA + "resource_tpl" or "resource_tpl" in c.get("rel", "")
               for identifier, c in ((c["scheme"] + c["term"], c) for c in categories(response)))


def test_8_collection_filter(client):
    wanted = new_compute(client, 'X-OCCI-Attribute: occi.compute.hostname="wanted"')
    new_compute(client, 'X-OCCI-Attribute: occi.compute.hostname="other"')
    filtered = client.get("/compute/", headers={"Accept": "text/plain",
                                                "X-OCCI-Attribute": 'occi.compute.hostname="wanted"'})
    assert [path_of(url) for url in locations(filtered)] == [wanted]


def test_8_a_fresh_server_offers_templates_to_create_with(client):
    # A fresh project on the embedded default: no entity yet, and yet a compute can be made.
    model = query_interface(client)
    os_templates = [c for c in model.values() if c.get("rel") == INFRA + "os_tpl"]
    resource_templates = [c for c in model.values() if c.get("rel") == INFRA + "resource_tpl"]
    assert os_templates and resource_templates
    body = "\n".join([KIND, f'Category: {os_templates[0]["term"]}; scheme="{os_templates[0]["scheme"]}"; '
                            'class="mixin"',
                      f'Category: {resource_templates[-1]["term"]}; scheme="{resource_templates[-1]["scheme"]}"; '
                      'class="mixin"'])
    assert client.post("/compute/", body, headers=TEXT).status_int == 201


def test_8_text_occi_answers_carry_the_headers_and_ok(client):
    vm = new_compute(client)
    response = client.get(vm, headers={"Accept": "text/occi"})
    assert response.body == b"OK"
    assert occi_header_values(response, "Category")[0] == f'compute; scheme="{INFRA}"; class="kind"'
    assert f'occi.core.id="{entity_id(vm)}"' in occi_header_values(response, "X-OCCI-Attribute")
    assert any(value.startswith(f"<{vm}?action=stop>") for value in occi_header_values(response, "Link"))
    query = client.get("/-/", headers={"Accept": "text/occi"})
    assert query.body == b"OK" and len(occi_header_values(query, "Category")) == \
        len(categories(client.get("/-/", headers=TEXT)))
