"""Issue 12, points 2 and 4: the defaults real clients rely on.

Point 2: a compute created without a network link -- as rOCCI-cli, VMDIRAC and the
Infrastructure Manager create them -- joins its project's default network in its zone: the one
the project chose (a user through OCCI's network#default mixin, or the administrator), else the
zone's shared public network, else the project's only network there; only when none of these
exists is it refused, with a 409 that says how to fix it. The clients' requests are replayed
(tests/api/test_clients.py) after the user has made networks of their own.

Point 4: with ``occistack.default_os_tpl`` set, a compute created with the kind alone boots that
template; without it the answer stays a 400 naming the templates.
"""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import select
from webtest import TestApp

from occistack.model import Project, User
from tests.conftest import basic, running_app
from tests.api.occi_face import OCCIClient, categories, header_lines, link_values, locations, path_of
from tests.api.test_clients import InfrastructureManager, RocciCli, VmDirac
from tests.api.three_zones import seed_three_zones
from tests.occi import INFRA, TEXT, ZONE, compute_body, kind, mixin, network_body

#: This module's world: the demo's zone1, zone2 and zone3.
WORLD_SEED = seed_three_zones

DEFAULT_NETWORK = "http://occistack.local/occi/infrastructure/network#"
ZONE1_PUBLIC = ipaddress.ip_network("192.0.2.0/24")


def project_name(world, client) -> str:
    with world.session_factory() as session:
        return session.scalar(select(Project.name).join(User, User.project_id == Project.id)
                              .where(User.name == client.user_name))


def create_network(client, address: str, *extra: str) -> str:
    answer = client.post("/network/", network_body(*extra, address=address), headers=TEXT, status=201)
    return path_of(answer.headers["Location"])


def networks_of(client, compute: str) -> list[tuple[str, str | None]]:
    """(network location, address) of each of the compute's network interfaces."""
    links = [link_values(value) for value in header_lines(client.get(path_of(compute), headers=TEXT), "Link")]
    return [(path_of(link["target"]), link.get("occi.networkinterface.address")) for link in links
            if link.get("rel") == INFRA + "network"]


def link_less(client, *extra: str, status: int = 201):
    return client.post("/compute/", compute_body(*extra, template="cirros-0.6"), headers=TEXT, status=status)


def associate(client, mixin_location: str, *entities: str, status: int = 200):
    body = "\n".join(f"X-OCCI-Location: {entity}" for entity in entities)
    return client.post(mixin_location, body, headers=TEXT, status=status)


# --- the three clients, after the user made a network of their own ----------------------------------

def test_rocci_creates_without_a_link_after_a_private_network(client):
    create_network(client, "10.40.0.0/24")
    location = RocciCli(client).create_compute("cirros-0.6", "tiny", None)
    [(network, address)] = networks_of(client, location)
    assert network == "/network/public" and ipaddress.ip_address(address) in ZONE1_PUBLIC


def test_vmdirac_creates_without_a_link_after_two_private_networks(client):
    create_network(client, "10.41.0.0/24")
    create_network(client, "10.42.0.0/24")
    endpoint = VmDirac(client)
    endpoint.get_schema_definitions()
    status, node_id = endpoint.create_instance("cirros-0.6", "tiny", "d1e2f3a4")
    assert status == 201
    assert [network for network, _ in networks_of(client, f"/compute/{node_id.rsplit('/', 1)[-1]}")] == \
        ["/network/public"]


def test_im_creates_without_a_link_after_a_private_network(client):
    create_network(client, "10.43.0.0/24")
    statuses, vm_id = InfrastructureManager(client).launch("cirros-0.6", "small", [])
    assert statuses == [201]
    assert [network for network, _ in networks_of(client, f"/compute/{vm_id}")] == ["/network/public"]


# --- the user's choice, through OCCI ------------------------------------------------------------------

def test_the_default_network_mixin_is_published(client):
    published = [c for c in categories(client.get("/-/", headers=TEXT)) if c.get("scheme") == DEFAULT_NETWORK]
    assert [(c["term"], c["class"], c.get("location")) for c in published] == \
        [("default", "mixin", "/default_network/")]


def test_a_user_chooses_the_default_network_and_link_less_computes_follow(client):
    private = create_network(client, "10.44.0.0/24")
    associate(client, "/default_network/", private)
    assert "Category: default;" in client.get(private, headers=TEXT).text
    assert [path_of(found) for found in locations(client.get("/default_network/", headers=TEXT))] == [private]
    # rOCCI-cli's link-less create lands there, not on the public network.
    [(network, address)] = networks_of(client, RocciCli(client).create_compute("cirros-0.6", "tiny", None))
    assert network == private and ipaddress.ip_address(address) in ipaddress.ip_network("10.44.0.0/24")
    # One default per zone: a network created with the mixin takes the place.
    second = create_network(client, "10.45.0.0/24", mixin("default", DEFAULT_NETWORK))
    assert [path_of(found) for found in locations(client.get("/default_network/", headers=TEXT))] == [second]
    assert "Category: default;" not in client.get(private, headers=TEXT).text
    [(network, _)] = networks_of(client, path_of(link_less(client).headers["Location"]))
    assert network == second
    # Removing the mixin gives the zone's public network back its place.
    client.delete("/default_network/", status=200)
    assert locations(client.get("/default_network/", headers=TEXT)) == []
    [(network, _)] = networks_of(client, path_of(link_less(client).headers["Location"]))
    assert network == "/network/public"


def test_a_user_may_choose_the_shared_public_network_and_others_do_not_see_it(world, client):
    associate(client, "/default_network/", "/network/public")
    assert "Category: default;" in client.get("/network/public", headers=TEXT).text
    other = world.client("neighbour")
    assert "Category: default;" not in other.get("/network/public", headers=TEXT).text
    assert locations(other.get("/default_network/", headers=TEXT)) == []


# --- the fallbacks and the refusals, in a zone without a public network --------------------------------

def test_a_zone_without_public_network_uses_the_projects_only_network_or_says_how_to_choose(world, root, client):
    zone3 = mixin("zone3", ZONE)
    answer = link_less(client, zone3, status=409)
    assert "no network in zone zone3" in answer.text and "public IP range" in answer.text
    first = create_network(client, "10.46.0.0/24", zone3)
    [(network, _)] = networks_of(client, path_of(link_less(client, zone3).headers["Location"]))
    assert network == first
    second = create_network(client, "10.47.0.0/24", zone3)
    answer = link_less(client, zone3, status=409)
    assert "several networks in zone zone3" in answer.text and "network#default" in answer.text
    # The plane names the networks by id (issue 13: the plane returns ids, never URLs).
    assert first.rsplit("/", 1)[1] in answer.text and second.rsplit("/", 1)[1] in answer.text
    # The administrator chooses for the project.
    project = root.get("/admin/projects").json
    project_id = next(row["id"] for row in project if row["name"] == project_name(world, client))
    chosen = root.post_json(f"/admin/projects/{project_id}/actions/default-network", {"network": second},
                            status=200).json
    assert chosen["default_networks"] == {"zone3": second}
    [(network, _)] = networks_of(client, path_of(link_less(client, zone3).headers["Location"]))
    assert network == second
    # The zone's choice does not reach zone1, where the public network still serves.
    [(network, _)] = networks_of(client, path_of(link_less(client).headers["Location"]))
    assert network == "/network/public"
    # A network of another zone than the one named, or of another project, is refused.
    answer = root.post_json(f"/admin/projects/{project_id}/actions/default-network",
                            {"network": "/network/public-zone2", "zone": "zone3"}, status=409)
    assert "zone zone2" in answer.json["error"]["message"]
    foreign = create_network(world.client("stranger"), "10.48.0.0/24", zone3)
    root.post_json(f"/admin/projects/{project_id}/actions/default-network", {"network": foreign}, status=404)
    # Cleared, the project must choose again.
    cleared = root.post_json(f"/admin/projects/{project_id}/actions/default-network", {"zone": "zone3"},
                             status=200).json
    assert cleared["default_networks"] == {}
    link_less(client, zone3, status=409)


# --- point 4: the site's default OS template ----------------------------------------------------------

KIND_ALONE = "\n".join([kind("compute"), 'X-OCCI-Attribute: occi.core.title="minimal"'])


def test_a_kind_alone_is_refused_without_a_site_default(client):
    answer = client.post("/compute/", KIND_ALONE, headers=TEXT, status=400)
    assert "needs an os_tpl mixin" in answer.text and "GET /os_tpl/" in answer.text


@pytest.fixture
def site_with_default_os_tpl(world):
    """A second server process of the same cloud whose ini sets occistack.default_os_tpl (its
    agents are the first process's)."""
    with running_app(world.url, **{"occistack.default_os_tpl": "cirros-0.6",
                                   "occistack.agents.inprocess": ""}) as application:
        yield application


def test_a_kind_alone_boots_the_site_default_os_tpl(world, site_with_default_os_tpl):
    user, password = world.new_project_user("minimal")
    minimal = OCCIClient(site_with_default_os_tpl, extra_environ={"HTTP_AUTHORIZATION": basic(user, password)})
    answer = minimal.post("/compute/", KIND_ALONE, headers=TEXT, status=201)
    rendered = minimal.get(path_of(answer.headers["Location"]), headers=TEXT)
    assert any(c["term"] == "cirros-0.6" and c["scheme"].endswith("os_tpl#") for c in categories(rendered))
    # An os_tpl mixin still chooses for itself.
    answer = minimal.post("/compute/", compute_body(template="debian-12"), headers=TEXT, status=201)
    rendered = minimal.get(path_of(answer.headers["Location"]), headers=TEXT)
    assert any(c["term"] == "debian-12" for c in categories(rendered))


def test_a_site_default_that_is_not_a_template_is_a_clear_conflict(world):
    with running_app(world.url, **{"occistack.default_os_tpl": "no-such-image",
                                   "occistack.agents.inprocess": ""}) as application:
        user, password = world.new_project_user("misconfigured")
        client = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic(user, password)})
        answer = client.post("/compute/", KIND_ALONE, headers=TEXT, status=409)
        assert "'no-such-image' (occistack.default_os_tpl) is not available" in answer.text


def test_put_on_the_mixin_collection_replaces_the_choice_and_json_shows_it(client):
    first, second = create_network(client, "10.49.0.0/24"), create_network(client, "10.49.1.0/24")
    associate(client, "/default_network/", first)
    client.put("/default_network/", f"X-OCCI-Location: {second}", headers=TEXT, status=200)
    assert [path_of(found) for found in locations(client.get("/default_network/", headers=TEXT))] == [second]
    rendered = client.get(second, headers={"Accept": "application/occi+json"}).json
    assert DEFAULT_NETWORK + "default" in rendered["mixins"]
    assert DEFAULT_NETWORK + "default" not in client.get(first, headers={"Accept": "application/occi+json"}).json.get(
        "mixins", [])
