"""The admin API over HTTP: every resource, the answers 401/403/400/404/405/409 as JSON, and
that only the admin role gets in.

One application per back end for the whole module (the ``world`` of tests/api/conftest.py, with
its administrator ``root``); each test names what it makes uniquely, so tests do not see each
other's rows by name.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
from webtest import TestApp

from occistack.model import Host
from occistack.api.admin.paths import ADMIN_RESOURCES
from occistack.api.orchestration import server_plane
from tests.api.admin_client import error_of
from tests.conftest import basic

_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}-{uuid.uuid4().hex[:6]}"


def post(client, path, body=None, status=201):
    return client.post_json(path, body if body is not None else {}, status=status)


@pytest.fixture
def rack(root):
    """A zone with a pod (and its management range) and a cluster; their JSON documents."""
    zone = post(root, "/admin/zones", {"name": unique("z")}).json
    pod = post(root, "/admin/pods", {"zone": zone["name"], "name": "p1", "cidr": "10.0.1.0/24",
                                     "gateway": "10.0.1.1", "management_first": "10.0.1.10",
                                     "management_last": "10.0.1.50"}).json
    cluster = post(root, "/admin/clusters", {"pod_id": pod["id"], "name": "c1", "hypervisor": "KVM"}).json
    return zone, pod, cluster


# --- who gets in -------------------------------------------------------------------------------------

ADMIN_PATHS = [f"/admin/{resource}" for resource in ADMIN_RESOURCES] + ["/admin/events", "/admin/capacity",
                                                                         "/admin/", "/admin/zones/1"]


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_anonymous_requests_are_asked_to_authenticate(world, path):
    response = TestApp(world.wsgi_app).get(path, status=401)
    assert "authentication required" in error_of(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="occistack"'


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_users_without_the_admin_role_are_forbidden(member, path):
    error_of(member.get(path, status=403), 403)


def test_members_cannot_create_either(member):
    error_of(member.post_json("/admin/zones", {"name": unique("z")}, status=403), 403)


def test_the_index_lists_the_resources(root):
    for path in ("/admin/", "/admin"):
        resources = root.get(path).json["resources"]
        assert set(ADMIN_RESOURCES) <= set(resources) and resources["zones"].endswith("/admin/zones")


def test_errors_are_json_whatever_the_client_accepts(root):
    response = root.get("/admin/zones/999999", headers={"Accept": "text/plain"}, status=404)
    assert error_of(response, 404) == "no zone with id 999999"


# --- bad requests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    (b"{not json", "the body is not JSON"),
    (b"[1, 2]", "the body must be a JSON object of fields; got a JSON list"),
    (b'"zone"', "got a JSON str"),
    (b"\xff\xfe", "the body is not UTF-8"),
    (b'{"title": "no name"}', "missing field 'name': text"),
    (b'{"name": 5}', "field 'name' must be text; got 5"),
    (b'{"name": "z", "colour": "blue"}', "unknown field 'colour'; the accepted fields are: name, title, "
                                         "network_type"),
    (b'{"name": "z", "enabled": "yes"}', "field 'enabled' must be true or false"),
    (b'{"name": "z", "region": true}', "field 'region' must be a name (text) or an id"),
    (b'{"name": "z", "region_id": "europe"}', "field 'region_id' must be an id (a whole number from 1 to"),
    (b'{"name": "z", "region": "a", "region_id": 1}', "give 'region' or 'region_id', not both"),
    (b'{"name": "z", "dns": [1, 2]}', "field 'dns' must be a list of texts, or comma-separated text"),
])
def test_malformed_bodies_are_400_naming_the_field(root, body, message):
    response = root.post("/admin/zones", body, headers={"Content-Type": "application/json"}, status=400)
    assert message in error_of(response, 400)


def test_use_case_refusals_are_400_404_and_409(root, rack):
    zone, _pod, _cluster = rack
    assert "'flat' is not one of the accepted values" in error_of(
        root.post_json("/admin/zones", {"name": unique("z"), "network_type": "flat"}, status=400), 400)
    assert error_of(root.post_json("/admin/pods", {"zone": "nowhere", "name": "p", "cidr": "10.9.0.0/24",
                                                   "gateway": "10.9.0.1"}, status=404), 404).startswith(
        "no zone named 'nowhere'; zones are: ")
    assert error_of(root.post_json("/admin/zones", {"name": zone["name"]}, status=409), 409) == \
        f"a zone named {zone['name']!r} already exists"
    assert "still has 1 pod" in error_of(root.delete(f"/admin/zones/{zone['id']}", status=409), 409)


def test_unknown_paths_ids_and_actions_are_404(root, rack):
    zone, _pod, _cluster = rack
    assert "the admin API's resources are: regions, zones" in error_of(root.get("/admin/nothing", status=404), 404)
    error_of(root.get("/admin/zones/abc", status=404), 404)
    assert error_of(root.get("/admin/hosts/999999", status=404), 404) == "no host with id 999999"
    assert error_of(root.post(f"/admin/zones/{zone['id']}/actions/explode", status=404), 404) == \
        "zones have no action 'explode'; their actions are: enable, disable, public-network"


def test_methods_a_path_does_not_support_are_405_with_allow(root):
    response = root.put_json("/admin/zones", {}, status=405)
    assert error_of(response, 405) == "PUT is not supported on /admin/zones; supported: GET, POST"
    assert response.headers["Allow"] == "GET, POST"
    assert root.post_json("/admin/capacity", {}, status=405).headers["Allow"] == "GET"
    assert root.get("/admin/zones/1/actions/enable", status=405).headers["Allow"] == "POST"


def test_bad_query_filters_are_400(root):
    assert "the zone_id filter must be an id" in error_of(root.get("/admin/pods?zone_id=abc", status=400), 400)
    assert "filter by 'zone' or by 'zone_id'" in error_of(root.get("/admin/pods?zone=a&zone_id=1", status=400), 400)
    assert "is not an ISO 8601 time" in error_of(root.get("/admin/events?since=yesterday", status=400), 400)
    assert "the limit parameter must be a whole number" in error_of(root.get("/admin/events?limit=x", status=400),
                                                                    400)


# --- the resources -----------------------------------------------------------------------------------

def test_regions(root):
    name = unique("r")
    created = post(root, "/admin/regions", {"name": name, "title": "Europe"})
    assert created.headers["Location"].endswith(f"/admin/regions/{created.json['id']}")
    assert name in [region["name"] for region in root.get("/admin/regions").json]
    zone = post(root, "/admin/zones", {"name": unique("z"), "region_id": created.json["id"]}).json
    assert zone["region_id"] == created.json["id"]
    error_of(root.delete(f"/admin/regions/{created.json['id']}", status=409), 409)
    root.delete(f"/admin/zones/{zone['id']}")
    assert root.delete(f"/admin/regions/{created.json['id']}").json == \
        {"removed": {"type": "region", "id": created.json["id"]}}
    error_of(root.get(f"/admin/regions/{created.json['id']}", status=404), 404)


def test_zones_are_created_shown_switched_and_removed(root):
    name = unique("z")
    zone = post(root, "/admin/zones", {"name": name, "title": "Zone", "network_type": "basic",
                                       "guest_cidr": "10.8.0.0/16", "dns": "8.8.8.8,1.1.1.1"}).json
    assert (zone["network_type"], zone["guest_cidr"], zone["dns"], zone["enabled"]) == \
        ("basic", "10.8.0.0/16", "8.8.8.8,1.1.1.1", True)
    assert root.get(f"/admin/zones/{zone['id']}").json == zone
    assert root.post(f"/admin/zones/{zone['id']}/actions/disable").json["enabled"] is False
    assert root.post(f"/admin/zones/{zone['id']}/actions/enable").json["enabled"] is True
    root.delete(f"/admin/zones/{zone['id']}")
    assert name not in [z["name"] for z in root.get("/admin/zones").json]


def test_pods_and_clusters(root, rack):
    zone, pod, cluster = rack
    assert (pod["zone_id"], pod["cidr"], pod["gateway"]) == (zone["id"], "10.0.1.0/24", "10.0.1.1")
    assert [p["id"] for p in root.get(f"/admin/pods?zone_id={zone['id']}").json] == [pod["id"]]
    assert [p["id"] for p in root.get(f"/admin/pods?zone={zone['name']}").json] == [pod["id"]]
    ranges = root.get(f"/admin/ip-ranges?zone_id={zone['id']}&purpose=management").json
    assert [(r["first_address"], r["last_address"], r["size"]) for r in ranges] == [("10.0.1.10", "10.0.1.50", 41)]
    assert (cluster["pod_id"], cluster["hypervisor"]) == (pod["id"], "KVM")
    assert [c["id"] for c in root.get(f"/admin/clusters?zone_id={zone['id']}&pod=p1").json] == [cluster["id"]]
    assert root.post(f"/admin/pods/{pod['id']}/actions/disable").json["enabled"] is False
    assert root.post(f"/admin/clusters/{cluster['id']}/actions/disable").json["enabled"] is False
    assert "a cluster named 'c1' already exists in pod 'p1'" in error_of(
        root.post_json("/admin/clusters", {"zone_id": zone["id"], "pod": "p1", "name": "c1"}, status=409), 409)
    assert error_of(root.post_json(
        "/admin/pods", {"zone_id": zone["id"], "name": "p2", "cidr": "10.0.2.0/25", "gateway": "10.0.3.1"},
        status=400), 400) == "the gateway 10.0.3.1 is outside the subnet 10.0.2.0/25"
    root.delete(f"/admin/clusters/{cluster['id']}")
    root.delete(f"/admin/pods/{pod['id']}")
    assert root.get(f"/admin/ip-ranges?zone_id={zone['id']}").json == []


def test_hosts_with_their_token_and_state_changes(root, rack):
    zone, pod, cluster = rack
    name = unique("h")
    response = post(root, "/admin/hosts", {"cluster_id": cluster["id"], "name": name, "address": "10.0.1.21",
                                           "cpu_cores": 8, "cpu_mhz": 2000, "memory_mib": 16384,
                                           "memory_overcommit": 1.5, "tags": ["ssd"]})
    host = response.json
    assert len(host["agent_token"]) >= 40 and "agent_token_hash" not in host
    assert (host["cluster_id"], host["pod_id"], host["zone_id"], host["tags"]) == (cluster["id"], pod["id"],
                                                                                   zone["id"], "ssd")
    shown = root.get(f"/admin/hosts/{host['id']}").json
    assert "agent_token" not in shown and "agent_token_hash" not in shown
    assert [h["name"] for h in root.get(f"/admin/hosts?cluster_id={cluster['id']}").json] == [name]

    def act(action, status=200):
        return root.post(f"/admin/hosts/{host['id']}/actions/{action}", status=status)

    assert act("disable").json["resource_state"] == "disabled"
    assert act("enable").json["resource_state"] == "enabled"
    assert act("maintenance").json["resource_state"] == "maintenance"
    assert "it cannot be disabled now; possible: cancel-maintenance" in error_of(act("disable", 409), 409)
    assert act("cancel-maintenance").json["resource_state"] == "enabled"
    error_of(root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": name, "address": "10.0.1.22",
                                             "cpu_cores": 1, "cpu_mhz": 1, "memory_mib": 1}, status=409), 409)
    assert "missing field 'cpu_mhz'" in error_of(root.post_json(
        "/admin/hosts", {"cluster_id": cluster["id"], "name": unique("h"), "address": "10.0.1.23", "cpu_cores": 1,
                         "memory_mib": 1}, status=400), 400)
    fractional = root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": unique("h"),
                                                 "address": "10.0.1.23", "cpu_cores": 1.5, "cpu_mhz": 1,
                                                 "memory_mib": 1}, status=400)
    assert "field 'cpu_cores' must be a whole number from -2147483648 to 2147483647; got 1.5" in error_of(
        fractional, 400)
    root.delete(f"/admin/hosts/{host['id']}")
    error_of(root.get(f"/admin/hosts/{host['id']}", status=404), 404)


def test_a_host_s_bmc_is_recorded_sealed_and_never_shown(root, rack, world):
    _zone, _pod, cluster = rack
    host = post(root, "/admin/hosts", {"cluster_id": cluster["id"], "name": unique("h"), "address": "10.0.1.24",
                                       "cpu_cores": 8, "cpu_mhz": 2000, "memory_mib": 16384}).json
    bmc = f"/admin/hosts/{host['id']}/actions/bmc"
    shown = root.post_json(bmc, {"address": "10.0.2.24", "username": "ipmiadmin", "password": "s3cret-bmc"}).json
    assert (shown["bmc_address"], shown["bmc_port"], shown["bmc_username"]) == ("10.0.2.24", 623, "ipmiadmin")
    assert "bmc_password_sealed" not in shown and "s3cret-bmc" not in root.get(f"/admin/hosts/{host['id']}").text
    with world.session_factory() as session:
        sealed = session.get(Host, host["id"]).bmc_password_sealed
    assert "s3cret-bmc" not in sealed  # sealed at rest, and the server can open it again
    assert server_plane(world.wsgi_app.registry).sealer.open(sealed) == "s3cret-bmc"
    assert "missing field 'password'" in error_of(root.post_json(bmc, {"address": "10.0.2.24", "username": "u"},
                                                                 status=400), 400)
    assert "the BMC port must be from 1 to 65535; got 70000" in error_of(root.post_json(
        bmc, {"address": "10.0.2.24", "port": 70000, "username": "u", "password": "p"}, status=400), 400)
    assert "is neither an IP address nor a host name" in error_of(root.post_json(
        bmc, {"address": "not a host!", "username": "u", "password": "p"}, status=400), 400)
    cleared = root.post(f"/admin/hosts/{host['id']}/actions/clear-bmc").json
    assert cleared["bmc_address"] is None and cleared["bmc_username"] is None
    root.delete(f"/admin/hosts/{host['id']}")


def test_primary_and_secondary_storage(root, rack):
    zone, pod, cluster = rack
    pool = post(root, "/admin/storage-pools", {"zone_id": zone["id"], "pod_id": pod["id"], "cluster_id": cluster["id"],
                                               "name": "ps1", "protocol": "nfs", "server": "10.0.1.5",
                                               "path": "/export/primary", "capacity_gib": 1000,
                                               "overprovisioning": 2}).json
    assert (pool["cluster_id"], pool["state"], pool["overprovisioning"]) == (cluster["id"], "up", 2.0)
    for action, state in (("disable", "disabled"), ("enable", "up"), ("maintenance", "maintenance"),
                          ("cancel-maintenance", "up")):
        assert root.post(f"/admin/storage-pools/{pool['id']}/actions/{action}").json["state"] == state
    assert "NFS primary storage needs its server" in error_of(root.post_json(
        "/admin/storage-pools", {"zone_id": zone["id"], "name": "ps2", "protocol": "nfs", "path": "/x",
                                 "capacity_gib": 1}, status=400), 400)
    store = post(root, "/admin/secondary-storage", {"zone_id": zone["id"], "name": "ss1",
                                                    "url": "nfs://10.0.1.5/export/secondary",
                                                    "capacity_gib": 500}).json
    assert root.post(f"/admin/secondary-storage/{store['id']}/actions/disable").json["enabled"] is False
    assert "is not NFS" in error_of(root.post_json(
        "/admin/secondary-storage", {"zone_id": zone["id"], "name": "ss2", "url": "smb://x/y", "capacity_gib": 1},
        status=400), 400)
    assert [s["id"] for s in root.get(f"/admin/secondary-storage?zone_id={zone['id']}").json] == [store["id"]]
    assert [p["id"] for p in root.get(f"/admin/storage-pools?zone_id={zone['id']}").json] == [pool["id"]]
    root.delete(f"/admin/storage-pools/{pool['id']}")
    root.delete(f"/admin/secondary-storage/{store['id']}")


def test_physical_networks_and_their_vlan_ranges(root):
    zone = post(root, "/admin/zones", {"name": unique("z")}).json
    network = post(root, "/admin/physical-networks", {"zone_id": zone["id"], "name": "pn1",
                                                      "traffic_types": ["guest", "public"], "bridge": "cloudbr0",
                                                      "vlan_ranges": ["100-199", [300, 309]]}).json
    assert network["traffic_types"] == ["guest", "public"]
    assert [(r["first_vlan"], r["last_vlan"], r["size"]) for r in network["vlan_ranges"]] == [(100, 199, 100),
                                                                                             (300, 309, 10)]
    ranges_path = f"/admin/physical-networks/{network['id']}/vlan-ranges"
    added = post(root, ranges_path, {"first": 400, "last": 410})
    assert added.headers["Location"].endswith(f"{ranges_path}/{added.json['id']}")
    assert error_of(root.post_json(ranges_path, {"first": 5000, "last": 5100}, status=400), 400) == \
        "VLAN range 5000-5100 is out of range: VLAN ids are 1 to 4094"
    assert "overlaps the range 100-199 of physical network 'pn1'" in error_of(
        root.post_json(ranges_path, {"first": 150, "last": 250}, status=409), 409)
    assert "field 'vlan_ranges' must be a list of ranges" in error_of(root.post_json(
        "/admin/physical-networks", {"zone_id": zone["id"], "name": "pn2", "vlan_ranges": "100-199"}, status=400), 400)
    assert len(root.get(ranges_path).json) == 3
    assert root.get(f"{ranges_path}/{added.json['id']}").json["first_vlan"] == 400
    root.delete(f"{ranges_path}/{added.json['id']}")
    error_of(root.get(f"{ranges_path}/{added.json['id']}", status=404), 404)
    assert len(root.get(f"/admin/physical-networks/{network['id']}").json["vlan_ranges"]) == 2
    root.delete(f"/admin/physical-networks/{network['id']}")
    error_of(root.get(ranges_path, status=404), 404)


def test_public_ip_ranges(root):
    zone = post(root, "/admin/zones", {"name": unique("z")}).json
    public = post(root, "/admin/ip-ranges", {"zone_id": zone["id"], "purpose": "public", "first": "203.0.113.10",
                                             "last": "203.0.113.20", "gateway": "203.0.113.1", "prefix_length": 24,
                                             "vlan": 30}).json
    assert (public["purpose"], public["size"], public["vlan"], public["pod_id"]) == ("public", 11, 30, None)
    assert "overlaps the public range 203.0.113.10-203.0.113.20" in error_of(root.post_json(
        "/admin/ip-ranges", {"zone_id": zone["id"], "purpose": "public", "first": "203.0.113.15",
                             "last": "203.0.113.30", "gateway": "203.0.113.1", "prefix_length": 24}, status=409), 409)
    assert error_of(root.post_json(
        "/admin/ip-ranges", {"zone_id": zone["id"], "purpose": "public", "first": "203.0.113.40",
                             "last": "203.0.113.50", "gateway": "198.51.100.1", "prefix_length": 24}, status=400),
        400) == "IP range 203.0.113.40-203.0.113.50 is not inside the subnet 198.51.100.0/24 of its gateway"
    root.delete(f"/admin/ip-ranges/{public['id']}")


def test_offerings(root, world):
    term = unique("m")
    offering = post(root, "/admin/offerings", {"term": term, "cores": 2, "memory_gib": 4, "disk_gib": 20,
                                               "host_tags": "ssd", "ha_enabled": True}).json
    assert (offering["cores"], offering["memory_gib"], offering["host_tags"], offering["ha_enabled"]) == \
        (2, 4.0, "ssd", True)
    assert "the term 'small' is taken by the CRTP" in error_of(
        root.post_json("/admin/offerings", {"term": "small", "cores": 1, "memory_gib": 1}, status=409), 409)
    assert term in [o["term"] for o in root.get("/admin/offerings").json]
    # Published at once to OCCI users, as a resource template.
    discovery = world.client().get("/-/", headers={"Accept": "application/occi+json"}).json
    assert term in [mixin["term"] for mixin in discovery["mixins"]]
    root.delete(f"/admin/offerings/{offering['id']}")


def test_tenancy_from_domain_to_user(root, world):
    domain = post(root, "/admin/domains", {"name": unique("d")}).json
    child = post(root, "/admin/domains", {"name": "physics", "parent_id": domain["id"]}).json
    assert child["path"] == domain["path"] + "physics/" and child["parent_id"] == domain["id"]
    account = post(root, "/admin/accounts", {"name": "lab", "domain": domain["path"], "kind": "user"}).json
    project = post(root, "/admin/projects", {"name": unique("proj"), "title": "Lab",
                                             "account_id": account["id"]}).json
    assert (project["domain_id"], project["account_id"]) == (domain["id"], account["id"])
    name = unique("u")
    user = post(root, "/admin/users", {"name": name, "password": "long-secret", "project_id": project["id"],
                                       "account": "lab", "role": "member"}).json
    assert "password_hash" not in user and "password" not in user and user["account_id"] == account["id"]
    as_user = TestApp(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, "long-secret")})
    assert as_user.get("/-/").status_int == 200
    error_of(as_user.get("/admin/zones", status=403), 403)
    assert [u["name"] for u in root.get(f"/admin/users?project_id={project['id']}").json] == [name]
    assert [p["id"] for p in root.get(f"/admin/projects?account_id={account['id']}").json] == [project["id"]]
    assert [a["id"] for a in root.get(f"/admin/accounts?domain_id={domain['id']}").json] == [account["id"]]
    assert [d["path"] for d in root.get(f"/admin/domains?under_id={domain['id']}").json] == [domain["path"],
                                                                                              child["path"]]
    assert "role 'owner' is not one of" in error_of(root.post_json(
        "/admin/users", {"name": unique("u"), "password": "x", "project_id": project["id"], "role": "owner"},
        status=400), 400)
    assert "still has 1 user" in error_of(root.delete(f"/admin/projects/{project['id']}", status=409), 409)
    root.delete(f"/admin/users/{user['id']}")
    as_user.get("/-/", status=401)  # not even from the server's memory of the password
    root.delete(f"/admin/projects/{project['id']}")
    root.delete(f"/admin/accounts/{account['id']}")
    root.delete(f"/admin/domains/{child['id']}")
    root.delete(f"/admin/domains/{domain['id']}")


def test_quotas_are_set_replaced_and_cleared(root):
    # A new project has the site's default quotas (tests/api/test_site_limits.py), which
    # do not limit volumes: this test sets, replaces and clears that one.
    project = post(root, "/admin/projects", {"name": unique("proj")}).json

    def volume_limits():
        return [q["limit"] for q in root.get(f"/admin/quotas?project_id={project['id']}").json
                if q["resource"] == "volumes"]

    created = post(root, "/admin/quotas", {"project_id": project["id"], "resource": "volumes", "limit": 5})
    assert created.json == {"id": created.json["id"], "project_id": project["id"], "resource": "volumes",
                            "limit": 5.0, "used": 0.0}
    replaced = post(root, "/admin/quotas", {"project": project["name"], "resource": "volumes", "limit": 7},
                    status=200)
    assert (replaced.json["id"], replaced.json["limit"]) == (created.json["id"], 7.0)
    assert "'gpus' is not a quota resource" in error_of(root.post_json(
        "/admin/quotas", {"project_id": project["id"], "resource": "gpus", "limit": 1}, status=400), 400)
    assert volume_limits() == [7.0]
    root.delete(f"/admin/quotas/{created.json['id']}")
    assert volume_limits() == []
    error_of(root.delete(f"/admin/quotas/{created.json['id']}", status=404), 404)


def test_events_record_who_changed_what(root):
    zone = post(root, "/admin/zones", {"name": unique("z")}).json
    root.post(f"/admin/zones/{zone['id']}/actions/disable")
    events = root.get(f"/admin/events?resource=zone:{zone['id']}").json
    assert [e["action"] for e in events] == ["zone.disable", "zone.create"]
    assert all(e["actor"].startswith("admin:admin") and e["user_id"] for e in events)
    assert [e["action"] for e in root.get(f"/admin/events?resource=zone:{zone['id']}&action=zone.create").json] == \
        ["zone.create"]
    assert len(root.get("/admin/events?limit=1").json) == 1
    assert root.get("/admin/events?since=2999-01-01T00:00:00Z").json == []


def test_capacity(root, rack):
    zone, _pod, cluster = rack
    post(root, "/admin/hosts", {"cluster_id": cluster["id"], "name": unique("h"), "address": "10.0.1.30",
                                "cpu_cores": 4, "cpu_mhz": 1000, "memory_mib": 4096, "cpu_overcommit": 2})
    report = root.get("/admin/capacity").json
    [mine] = [z for z in report["zones"] if z["zone"] == zone["name"]]
    assert mine["cpu_mhz"] == {"used": 0, "total": 8000, "free": 8000, "percent": 0.0}
    assert mine["memory_mib"]["total"] == 4096 and mine["management_ips"]["total"] == 41
    assert mine["hosts"]["total"] == 1 and mine["pods"] == 1 and mine["clusters"] == 1
    assert report["cloud"]["zones"] >= 1
