"""GFD.223 Table 1, cell by cell (SPEC-NOTES §1.1): every method on every kind of path —
entity, kind collection, mixin collection, query interface — for every infrastructure kind and
the /link/… aliases; then pagination and filtering.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from tests.api.occi_face import (
    HOST,
    INFRA,
    assert_schema,
    attributes,
    categories,
    entity_id,
    header_lines,
    links,
    locations,
    path_of,
)

TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}
JSON = {"Content-Type": "application/occi+json", "Accept": "application/occi+json"}
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
CRTP = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"
ACTIONS = {kind: f"http://schemas.ogf.org/occi/infrastructure/{kind}/action#"
           for kind in ("compute", "storage", "network")}
TAGS = "http://example.org/occi/my_tags#"


def kind_line(term: str) -> str:
    return f'Category: {term}; scheme="{INFRA}"; class="kind"'


def compute_body(title: str = "vm", template: str = "cirros-0.6", *extra: str) -> str:
    return "\n".join([kind_line("compute"), f'Category: {template}; scheme="{OS_TPL}"; class="mixin"',
                      f'Category: small; scheme="{CRTP}"; class="mixin"',
                      f'X-OCCI-Attribute: occi.core.title="{title}"', *extra])


def storage_body(title: str = "disk", size: float = 1.0) -> str:
    return "\n".join([kind_line("storage"), f'X-OCCI-Attribute: occi.core.title="{title}"',
                      f"X-OCCI-Attribute: occi.storage.size={size}"])


def network_body(title: str = "net", address: str = "10.9.0.0/24") -> str:
    return "\n".join([kind_line("network"),
                      'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; '
                      'class="mixin"',
                      f'X-OCCI-Attribute: occi.core.title="{title}"',
                      f'X-OCCI-Attribute: occi.network.address="{address}"'])


def link_body(link_kind: str, source: str, target: str, title: str = "link") -> str:
    return "\n".join([kind_line(link_kind), f'X-OCCI-Attribute: occi.core.title="{title}"',
                      f'X-OCCI-Attribute: occi.core.source="{source}"',
                      f'X-OCCI-Attribute: occi.core.target="{target}"'])


def create(client, collection: str, body: str) -> str:
    """POST a text/plain rendering to a collection; the new entity's path."""
    response = client.post(collection, body, headers=TEXT, status=201)
    return path_of(response.headers["Location"])


def action_body(kind: str, term: str) -> str:
    return f'Category: {term}; scheme="{ACTIONS[kind]}"; class="action"'


def listed(client, path: str, **headers) -> list[str]:
    return [path_of(url) for url in locations(client.get(path, headers={"Accept": "text/plain", **headers}))]


# --- samples of every kind ----------------------------------------------------------------------

@dataclass
class Sample:
    """One entity of a kind, made through the API, and what the table's cells need to know."""

    kind: str
    collection: str  # the path it is addressed under (the kind's location or an alias)
    path: str
    state_attribute: str
    #: an action available on the fresh entity and the state it leads to (None: the kind has none)
    action: tuple[str, str] | None
    #: a rendering that PUT can create a second entity of the kind with
    put_body: str


def make_sample(client, kind: str, collection: str) -> Sample:
    if kind == "compute":
        return Sample(kind, collection, create(client, collection, compute_body()), "occi.compute.state",
                      ("stop", "inactive"), compute_body("put"))
    if kind == "storage":
        return Sample(kind, collection, create(client, collection, storage_body()), "occi.storage.state",
                      ("offline", "offline"), storage_body("put"))
    if kind == "network":
        return Sample(kind, collection, create(client, collection, network_body()), "occi.network.state",
                      ("down", "inactive"), network_body("put", "10.8.0.0/24"))
    vm = create(client, "/compute/", compute_body("source"))
    if kind == "networkinterface":
        network = create(client, "/network/", network_body())
        second_vm = create(client, "/compute/", compute_body("second source", "cirros-0.6",
                                                             _nic_line(network)))
        return Sample(kind, collection, create(client, collection, link_body(kind, vm, network)),
                      "occi.networkinterface.state", None, link_body(kind, second_vm, network, "put"))
    volume, second_volume = create(client, "/storage/", storage_body()), create(client, "/storage/", storage_body())
    return Sample(kind, collection, create(client, collection, link_body(kind, vm, volume)),
                  "occi.storagelink.state", None, link_body(kind, vm, second_volume, "put"))


def _nic_line(network: str) -> str:
    return (f'Link: <{network}>; rel="{INFRA}network"; category="{INFRA}networkinterface"')


KIND_PATHS = [
    ("compute", "/compute/"), ("storage", "/storage/"), ("network", "/network/"),
    ("networkinterface", "/networkinterface/"), ("storagelink", "/storagelink/"),
    ("networkinterface", "/link/networkinterface/"), ("storagelink", "/link/storagelink/"),
]
KIND_IDS = [path.strip("/").replace("/", "-") for _, path in KIND_PATHS]


@pytest.fixture(params=KIND_PATHS, ids=KIND_IDS)
def sample(request, client) -> Sample:
    kind, collection = request.param
    return make_sample(client, kind, collection)


def url_of(sample: Sample) -> str:
    """The entity's URL under the collection path the test addresses (alias or not)."""
    return sample.collection + entity_id(sample.path)


# --- entity instances: /compute/<id> and the like ---------------------------------------------

def test_entity_get_renders_it(client, sample):
    response = client.get(url_of(sample), headers={"Accept": "text/plain"}, status=200)
    assert categories(response)[0] == {"term": sample.kind, "scheme": INFRA, "class": "kind"}
    assert attributes(response.text)["occi.core.id"] == entity_id(sample.path)
    assert sample.state_attribute in attributes(response.text)


def test_entity_post_updates_only_what_it_names(client, sample):
    before = attributes(client.get(url_of(sample), headers=TEXT).text)
    response = client.post(url_of(sample), 'X-OCCI-Attribute: occi.core.title="renamed"', headers=TEXT, status=200)
    after = attributes(response.text)
    assert after["occi.core.title"] == "renamed"
    assert {k: v for k, v in after.items() if k != "occi.core.title"} == \
           {k: v for k, v in before.items() if k != "occi.core.title"}
    assert attributes(client.get(url_of(sample), headers=TEXT).text)["occi.core.title"] == "renamed"


def test_entity_post_action_triggers_it(client, sample):
    if sample.action is None:
        # Links have no actions: an action they do not define is unknown (GFD.185 §3.6.8: 404).
        client.post(url_of(sample) + "?action=start", action_body("compute", "start"), headers=TEXT, status=404)
        return
    term, state = sample.action
    client.post(url_of(sample) + f"?action={term}", action_body(sample.kind, term), headers=TEXT, status=200)
    assert attributes(client.get(url_of(sample), headers=TEXT).text)[sample.state_attribute] == state


def test_entity_put_creates_it_at_the_given_url(client, sample):
    chosen = f"chosen-{uuid.uuid4()}"  # ids are unique in the whole cloud
    url = sample.collection + chosen
    response = client.put(url, sample.put_body, headers=TEXT, status=201)
    assert response.headers["Location"] == HOST + f"/{sample.kind}/{chosen}"
    rendered = client.get(url, headers=TEXT, status=200)
    assert attributes(rendered.text)["occi.core.id"] == chosen
    assert attributes(rendered.text)["occi.core.title"] == "put"


def test_entity_put_replaces_it(client, sample):
    rendering = client.get(url_of(sample), headers=TEXT).text
    replaced = rendering.replace('occi.core.title="', 'occi.core.title="replaced ', 1)
    response = client.put(url_of(sample), replaced, headers=TEXT, status=200)
    assert attributes(response.text)["occi.core.title"].startswith("replaced ")
    assert attributes(response.text)["occi.core.id"] == entity_id(sample.path)


def test_entity_delete_removes_it(client, sample):
    assert client.delete(url_of(sample), status=200).status_int == 200
    client.get(url_of(sample), status=404)
    assert sample.path not in listed(client, sample.collection)


def test_put_replacing_a_compute_keeps_its_links(client):
    network = create(client, "/network/", network_body())
    volume = create(client, "/storage/", storage_body())
    vm = create(client, "/compute/", compute_body("linked", "cirros-0.6", _nic_line(network),
                                                  f'Link: <{volume}>; rel="{INFRA}storage"; '
                                                  f'category="{INFRA}storagelink"'))
    before = links(client.get(vm, headers=TEXT))
    kept = sorted((link["target"], link["self"]) for link in before if "self" in link)
    assert len(kept) == 2
    # A full rendering without any Link line: the replace must not drop the links.
    client.put(vm, compute_body("replaced"), headers=TEXT, status=200)
    after = links(client.get(vm, headers=TEXT))
    assert sorted((link["target"], link["self"]) for link in after if "self" in link) == kept


def test_post_cannot_change_the_kind_of_an_entity(client):
    volume = create(client, "/storage/", storage_body())
    response = client.post(volume, kind_line("network"), headers=TEXT, status=400)
    assert "kind" in response.text


def test_another_projects_entity_is_not_there(client, other_client):
    vm = create(client, "/compute/", compute_body())
    other_client.get(vm, status=404)
    other_client.post(vm, 'X-OCCI-Attribute: occi.core.title="mine"', headers=TEXT, status=404)
    other_client.delete(vm, status=404)
    assert attributes(client.get(vm, headers=TEXT).text)["occi.core.title"] == "vm"


# --- kind collections: /compute/ and the like ------------------------------------------------

def test_collection_get_lists_absolute_locations(client, sample):
    listing = client.get(sample.collection, headers={"Accept": "text/plain"}, status=200)
    assert HOST + sample.path in locations(listing)
    assert all(line.startswith("X-OCCI-Location: http://localhost/") for line in listing.text.split("\n"))


def test_collection_get_in_json_is_a_resource_or_link_collection(client, sample):
    document = client.get(sample.collection, headers={"Accept": "application/occi+json"}, status=200).json
    member = "resources" if sample.kind in ("compute", "storage", "network") else "links"
    assert_schema(document, f"{member[:-1]}_collection")
    assert entity_id(sample.path) in [entity["id"] for entity in document[member]]


def test_collection_post_creates_and_the_member_joins_the_collection(client, sample):
    # The sample itself was made by POST to the collection: 201 with an absolute Location.
    assert sample.path.startswith(f"/{sample.kind}/")
    assert sample.path in listed(client, f"/{sample.kind}/")


def test_collection_post_action_acts_on_every_member(client):
    first, second = create(client, "/compute/", compute_body("a")), create(client, "/compute/", compute_body("b"))
    response = client.post("/compute/?action=stop", action_body("compute", "stop"), headers=TEXT, status=200)
    assert sorted(path_of(url) for url in locations(response)) == sorted([first, second])
    for vm in (first, second):
        assert attributes(client.get(vm, headers=TEXT).text)["occi.compute.state"] == "inactive"


@pytest.mark.parametrize("path", [path for _, path in KIND_PATHS], ids=KIND_IDS)
def test_collection_put_is_not_allowed(client, path):
    response = client.put(path, kind_line("compute"), headers=TEXT, status=405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST", "DELETE"} <= allowed and "PUT" not in allowed


def test_collection_delete_deletes_every_member(client, sample):
    client.delete(sample.collection, status=200)
    remaining = listed(client, sample.collection)
    # The shared public network is the cloud's, not the caller's to delete.
    assert remaining == (["/network/public"] if sample.kind == "network" else [])
    client.get(sample.path, status=404)


def test_collection_delete_leaves_other_projects_alone(client, other_client):
    theirs = create(other_client, "/storage/", storage_body())
    create(client, "/storage/", storage_body())
    client.delete("/storage/", status=200)
    assert listed(other_client, "/storage/") == [theirs]


# --- mixin collections: a user's /my_stuff/ ---------------------------------------------------

def define_mixin(client, term: str = "my_stuff", location: str = "/my_stuff/") -> str:
    client.post("/-/", f'Category: {term}; scheme="{TAGS}"; class="mixin"; location="{location}"',
                headers=TEXT, status=200)
    return location


def test_mixin_collection_get_lists_its_members(client):
    stuff = define_mixin(client)
    assert client.get(stuff, headers=TEXT, status=200).text == ""
    tagged = create(client, "/compute/", compute_body("tagged", "cirros-0.6",
                                                      f'Category: my_stuff; scheme="{TAGS}"; class="mixin"'))
    create(client, "/compute/", compute_body("untagged"))
    assert listed(client, stuff) == [tagged]


def test_mixin_collection_post_associates_and_answers_the_collection(client):
    stuff = define_mixin(client)
    vm, volume = create(client, "/compute/", compute_body()), create(client, "/storage/", storage_body())
    response = client.post(stuff, f"X-OCCI-Location: {HOST}{vm}\nX-OCCI-Location: {volume}", headers=TEXT,
                           status=200)
    assert sorted(path_of(url) for url in locations(response)) == sorted([vm, volume])
    assert f"{TAGS}my_stuff" in {c["scheme"] + c["term"] for c in categories(client.get(vm, headers=TEXT))}


def test_mixin_collection_post_action_acts_on_its_members_only(client):
    stuff = define_mixin(client)
    member, outsider = create(client, "/compute/", compute_body("in")), create(client, "/compute/", compute_body())
    client.post(stuff, f"X-OCCI-Location: {member}", headers=TEXT, status=200)
    response = client.post(stuff + "?action=stop", action_body("compute", "stop"), headers=TEXT, status=200)
    assert [path_of(url) for url in locations(response)] == [member]
    assert attributes(client.get(member, headers=TEXT).text)["occi.compute.state"] == "inactive"
    assert attributes(client.get(outsider, headers=TEXT).text)["occi.compute.state"] == "active"


def test_mixin_collection_put_replaces_the_membership(client):
    stuff = define_mixin(client)
    first, second = create(client, "/compute/", compute_body("1")), create(client, "/compute/", compute_body("2"))
    client.post(stuff, f"X-OCCI-Location: {first}", headers=TEXT, status=200)
    response = client.put(stuff, f"X-OCCI-Location: {second}", headers=TEXT, status=200)
    assert [path_of(url) for url in locations(response)] == [second]
    assert listed(client, stuff) == [second]
    assert f"{TAGS}my_stuff" not in {c["scheme"] + c["term"] for c in categories(client.get(first, headers=TEXT))}


def test_mixin_collection_delete_disassociates_the_listed_entities(client):
    stuff = define_mixin(client)
    first, second = create(client, "/compute/", compute_body("1")), create(client, "/compute/", compute_body("2"))
    client.post(stuff, f"X-OCCI-Location: {first}\nX-OCCI-Location: {second}", headers=TEXT, status=200)
    client.delete(stuff, f"X-OCCI-Location: {first}", headers=TEXT, status=200)
    assert listed(client, stuff) == [second]
    client.get(first, status=200)  # disassociated, not deleted


def test_provider_mixin_collection_lists_the_entities_made_with_it(client):
    debian = create(client, "/compute/", compute_body("debian", "debian-12"))
    create(client, "/compute/", compute_body("cirros", "cirros-0.6"))
    assert listed(client, "/os_tpl/debian-12/") == [debian]


# --- the query interface ------------------------------------------------------------------------

QUERY_PATHS = ["/-/", "/.well-known/org/ogf/occi/-/"]


@pytest.mark.parametrize("path", QUERY_PATHS)
def test_query_interface_get_lists_every_category(client, path):
    response = client.get(path, headers={"Accept": "text/plain"}, status=200)
    identifiers = {c["scheme"] + c["term"] for c in categories(response)}
    assert {INFRA + kind for kind in ("compute", "storage", "network", "networkinterface", "storagelink")} \
        <= identifiers
    assert ACTIONS["compute"] + "start" in identifiers


def test_well_known_query_interface_mirrors_the_query_interface(client):
    for accept in ("text/plain", "application/occi+json"):
        assert client.get("/-/", headers={"Accept": accept}).body == \
               client.get("/.well-known/org/ogf/occi/-/", headers={"Accept": accept}).body


@pytest.mark.parametrize("path", QUERY_PATHS)
def test_query_interface_head_answers_without_a_body(client, path):
    response = client.head(path, status=200)
    assert response.body == b""


@pytest.mark.parametrize("path", QUERY_PATHS)
def test_query_interface_post_defines_and_delete_removes_a_user_mixin(client, path):
    rendering = f'Category: mine; scheme="{TAGS}"; class="mixin"; location="/mine/"'
    client.post(path, rendering, headers=TEXT, status=200)
    assert TAGS + "mine" in {c["scheme"] + c["term"] for c in categories(client.get("/-/", headers=TEXT))}
    client.get("/mine/", status=200)
    client.delete(path, f'Category: mine; scheme="{TAGS}"; class="mixin"', headers=TEXT, status=200)
    assert TAGS + "mine" not in {c["scheme"] + c["term"] for c in categories(client.get("/-/", headers=TEXT))}
    client.get("/mine/", status=404)


def test_user_mixins_are_their_owners_only(client, other_client):
    define_mixin(client)
    assert TAGS + "my_stuff" not in {c["scheme"] + c["term"]
                                     for c in categories(other_client.get("/-/", headers=TEXT))}
    other_client.get("/my_stuff/", status=404)


@pytest.mark.parametrize("path", QUERY_PATHS)
def test_query_interface_put_is_not_allowed(client, path):
    response = client.put(path, f'Category: mine; scheme="{TAGS}"; class="mixin"', headers=TEXT, status=405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST", "DELETE"} <= allowed and "PUT" not in allowed


@pytest.mark.parametrize("path", QUERY_PATHS)
def test_query_interface_refuses_actions(client, path):
    # "POST ?action=" is not defined on the query interface (Table 1: n/d); it must not define
    # a mixin from an action rendering either.
    client.post(path + "?action=start", action_body("compute", "start"), headers=TEXT, status=400)


# --- pagination (GFD.223 §3.4, new in 1.2) ---------------------------------------------------

@pytest.fixture
def five_volumes(client) -> list[str]:
    made = [create(client, "/storage/", storage_body(f"v{number}")) for number in range(5)]
    assert sorted(listed(client, "/storage/")) == sorted(made)
    return listed(client, "/storage/")


@pytest.mark.parametrize("separator", ["&", ";"])
def test_pages_cover_the_collection_in_order(client, five_volumes, separator):
    pages = [listed(client, f"/storage/?page={page}{separator}number=2") for page in (1, 2, 3)]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sum(pages, []) == five_volumes


def test_a_page_past_the_end_is_empty(client, five_volumes):
    response = client.get("/storage/?page=4&number=2", headers={"Accept": "text/plain"}, status=200)
    assert response.body == b""
    assert client.get("/storage/?page=9&number=2", headers={"Accept": "application/occi+json"},
                      status=200).json == {"resources": []}


def test_a_page_too_large_is_refused(client):
    response = client.get("/storage/?page=1&number=100000", headers={"Accept": "text/plain"}, status=413)
    assert "number" in response.text


def test_pages_of_a_mixin_collection(client):
    stuff = define_mixin(client)
    made = [create(client, "/storage/", storage_body(f"v{n}")) for n in range(3)]
    client.post(stuff, "\n".join(f"X-OCCI-Location: {path}" for path in made), headers=TEXT, status=200)
    assert listed(client, stuff + "?page=2&number=2") == listed(client, stuff)[2:]


def test_pages_of_json_collections(client, five_volumes):
    document = client.get("/storage/?page=2&number=3", headers={"Accept": "application/occi+json"}).json
    assert_schema(document, "resource_collection")
    assert ["/storage/" + resource["id"] for resource in document["resources"]] == five_volumes[3:]


# --- filtering (GFD.223 §3.5) ---------------------------------------------------------------------

def test_collection_filter_by_attribute_header(client):
    wanted = create(client, "/storage/", storage_body("wanted", 2.0))
    create(client, "/storage/", storage_body("other", 2.0))
    create(client, "/storage/", storage_body("wanted", 3.0))
    assert listed(client, "/storage/", **{"X-OCCI-Attribute": 'occi.core.title="wanted", occi.storage.size=2.0'}) \
        == [wanted]


def test_collection_filter_by_category_header(client):
    debian = create(client, "/compute/", compute_body("d", "debian-12"))
    create(client, "/compute/", compute_body("c", "cirros-0.6"))
    header = {"Category": f'debian-12; scheme="{OS_TPL}"; class="mixin"'}
    assert listed(client, "/compute/", **header) == [debian]
    document = client.get("/compute/", headers={"Accept": "application/occi+json", **header}).json
    assert [resource["id"] for resource in document["resources"]] == [entity_id(debian)]


def test_collection_filter_that_matches_nothing_is_an_empty_collection(client):
    create(client, "/storage/", storage_body("one"))
    response = client.get("/storage/", headers={"Accept": "text/plain",
                                                "X-OCCI-Attribute": 'occi.core.title="none"'}, status=200)
    assert response.body == b""


@pytest.mark.parametrize("where", ["header", "text/plain body"])
def test_query_interface_filter_returns_the_category_and_related_ones(client, where):
    compute = f'compute; scheme="{INFRA}"; class="kind"'
    if where == "header":
        response = client.get("/-/", headers={"Accept": "text/plain", "Category": compute}, status=200)
    else:
        response = client.request("/-/", method="GET", body=("Category: " + compute).encode(),
                                  headers={"Accept": "text/plain", "Content-Type": "text/plain"}, status=200)
    found = {c["scheme"] + c["term"] for c in categories(response)}
    assert found == {INFRA + "compute"} | {ACTIONS["compute"] + action
                                           for action in ("start", "stop", "restart", "suspend", "save")}


def test_query_interface_filter_on_os_tpl_lists_the_templates(client):
    response = client.get("/-/", headers={"Accept": "text/plain",
                                          "Category": f'os_tpl; scheme="{INFRA}"; class="mixin"'})
    found = {c["scheme"] + c["term"] for c in categories(response)}
    assert found == {INFRA + "os_tpl"} | {OS_TPL + term for term in ("debian-12", "ubuntu-24.04", "cirros-0.6")}


def test_query_interface_filter_on_an_unknown_category_is_404(client):
    client.get("/-/", headers={"Accept": "text/plain",
                               "Category": 'nothing; scheme="http://example.org/none#"; class="mixin"'}, status=404)


def test_query_interface_json_validates(client):
    document = client.get("/-/", headers={"Accept": "application/occi+json"}).json
    assert_schema(document, "model")
    for kind in document["kinds"]:
        assert_schema(kind, "kind")
    for mixin in document["mixins"]:
        assert_schema(mixin, "mixin")
    for action in document["actions"]:
        assert_schema(action, "action")


def test_entity_renderings_in_json_validate(client, sample):
    document = client.get(url_of(sample), headers={"Accept": "application/occi+json"}).json
    assert_schema(document, "resource" if sample.kind in ("compute", "storage", "network") else "link")
    assert document["kind"] == INFRA + sample.kind
    assert document["id"] == entity_id(sample.path)


def test_json_requests_work_on_every_cell_of_the_entity_row(client):
    created = client.post("/storage/", json.dumps({"kind": INFRA + "storage", "title": "json",
                                                   "attributes": {"occi.storage.size": 2.0}}),
                          headers=JSON, status=201)
    assert_schema(created.json, "resource")
    path = path_of(created.headers["Location"])
    updated = client.post(path, json.dumps({"kind": INFRA + "storage", "attributes": {"occi.core.title": "j2"}}),
                          headers=JSON, status=200).json
    assert updated["title"] == "j2"
    client.post(path + "?action=offline", json.dumps({"action": ACTIONS["storage"] + "offline"}), headers=JSON,
                status=200)
    assert client.get(path, headers=JSON).json["attributes"]["occi.storage.state"] == "offline"
    replaced = client.put(path, json.dumps({"kind": INFRA + "storage", "id": entity_id(path), "title": "j3",
                                            "attributes": {"occi.storage.size": 2.0}}), headers=JSON, status=200)
    assert replaced.json["title"] == "j3"
    client.delete(path, headers=JSON, status=200)
    client.get(path, headers=JSON, status=404)


def test_listing_header_lines_are_the_only_lines(client):
    create(client, "/storage/", storage_body())
    response = client.get("/storage/", headers={"Accept": "text/plain"})
    assert len(header_lines(response, "X-OCCI-Location")) == len(response.text.split("\n")) == 1
