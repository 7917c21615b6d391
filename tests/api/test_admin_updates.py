"""Updates of the admin API's resources (issue 14, point 1): PATCH /admin/<resource>/{id} with
the fields to change. Only the fields given change; null clears a field that may be empty; a
field that may not change, an unknown one, a body that changes nothing and a value its create
would refuse are 400 saying what is accepted; an update that changes something leaves one event
naming what changed."""

from __future__ import annotations

import itertools

import pytest
from webtest import TestApp

from tests.api.admin_client import error_of
from tests.conftest import basic

_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}u"


@pytest.fixture
def zone(root):
    return root.post_json("/admin/zones", {"name": unique("z"), "title": "first", "dns": "10.0.0.2"},
                          status=201).json


def change(root, path: str, body, status: int = 200):
    return root.patch_json(path, body, status=status)


def events_of(root, resource_id: int, action: str) -> list[dict]:
    return [event for event in root.get("/admin/events", {"limit": 500}).json
            if event["action"] == action and str(event["resource_id"]) == str(resource_id)]


# --- the inventory beside zones: regions, pods, clusters, hosts, storage, IP ranges, physical networks

@pytest.fixture
def pod(root, zone):
    return root.post_json("/admin/pods", {"zone_id": zone["id"], "name": unique("p"), "cidr": "10.20.0.0/24",
                                          "gateway": "10.20.0.1"}, status=201).json


@pytest.fixture
def cluster(root, pod):
    return root.post_json("/admin/clusters", {"pod_id": pod["id"], "name": unique("c")}, status=201).json


_host_numbers = itertools.count(10)


def new_host(root, cluster, **extra):
    """The host as GET shows it (the agent token is shown only once, by the POST)."""
    added = root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": unique("h"),
                                           "address": f"10.77.0.{next(_host_numbers)}", "cpu_cores": 8,
                                           "cpu_mhz": 2000, "memory_mib": 16384, **extra}, status=201).json
    return {name: value for name, value in added.items() if name != "agent_token"}


def test_a_region_changes_its_title_only(root):
    region = root.post_json("/admin/regions", {"name": unique("r"), "title": "old"}, status=201).json
    assert change(root, f"/admin/regions/{region['id']}", {"title": "new"}).json["title"] == "new"
    assert change(root, f"/admin/regions/{region['id']}", {"title": None}).json["title"] is None
    assert [event["description"] for event in events_of(root, region["id"], "region.update")] == [
        f"region {region['name']!r}: title"] * 2
    assert error_of(change(root, f"/admin/regions/{region['id']}", {"name": "x"}, status=400), 400) == (
        "field 'name' cannot be changed (or is unknown); the fields that may change are: title")
    assert error_of(change(root, "/admin/regions/999999", {"title": "x"}, status=404), 404) == \
        "no region with id 999999"


def test_a_pod_is_renamed_and_readdressed_while_nothing_uses_its_subnet(root, pod):
    renamed = change(root, f"/admin/pods/{pod['id']}", {"name": pod["name"] + "x"}).json
    assert (renamed["name"], renamed["cidr"]) == (pod["name"] + "x", "10.20.0.0/24")
    moved = change(root, f"/admin/pods/{pod['id']}", {"cidr": "10.21.0.0/24", "gateway": "10.21.0.1"}).json
    assert (moved["cidr"], moved["gateway"], moved["name"]) == ("10.21.0.0/24", "10.21.0.1", pod["name"] + "x")
    # The event names the row by its name after the change (its resource id stays).
    assert [event["description"] for event in events_of(root, pod["id"], "pod.update")] == [
        f"pod {pod['name'] + 'x'!r}: cidr, gateway", f"pod {pod['name'] + 'x'!r}: name"]


@pytest.mark.parametrize("body, status, message", [
    ({"cidr": "10.20.0.0/24"}, 200, None),
    ({"gateway": "10.99.0.1"}, 400, "the gateway 10.99.0.1 is outside the subnet 10.20.0.0/24"),
    ({"cidr": "10.21.0.0/24"}, 400, "the gateway 10.20.0.1 is outside the subnet 10.21.0.0/24"),
    ({"cidr": "10.20.0.5/24"}, 400, "has host bits set"),
    ({"name": "not a name"}, 400, "the pod name 'not a name' is not usable"),
    ({"cidr": None}, 400, "field 'cidr' cannot be cleared"),
    ({"zone_id": 1}, 400, "field 'zone_id' cannot be changed (or is unknown); the fields that may change are: "
                          "name, cidr, gateway"),
])
def test_refused_pod_changes_change_nothing(root, pod, body, status, message):
    response = change(root, f"/admin/pods/{pod['id']}", body, status=status)
    if message is not None:
        assert message in error_of(response, status)
    assert root.get(f"/admin/pods/{pod['id']}").json == pod


def test_a_pod_keeps_its_subnet_once_addresses_are_taken_from_it(root, zone):
    pod = root.post_json("/admin/pods", {"zone_id": zone["id"], "name": unique("p"), "cidr": "10.22.0.0/24",
                                         "gateway": "10.22.0.1", "management_first": "10.22.0.10",
                                         "management_last": "10.22.0.20"}, status=201).json
    assert error_of(change(root, f"/admin/pods/{pod['id']}", {"gateway": "10.22.0.2"}, status=409), 409) == (
        f"pod {pod['name']!r} keeps its subnet 10.22.0.0/24 and gateway 10.22.0.1: 1 management IP range took "
        "addresses from them")
    other = root.post_json("/admin/pods", {"zone_id": zone["id"], "name": unique("p"), "cidr": "10.23.0.0/24",
                                           "gateway": "10.23.0.1"}, status=201).json
    assert "overlaps 10.22.0.0/24" in error_of(change(root, f"/admin/pods/{other['id']}", {
        "cidr": "10.22.0.0/16", "gateway": "10.22.0.1"}, status=409), 409)


def test_a_cluster_is_renamed_and_changes_hypervisor_only_without_hosts(root, cluster):
    renamed = change(root, f"/admin/clusters/{cluster['id']}", {"name": cluster["name"] + "x",
                                                                "hypervisor": "BareMetal"}).json
    assert (renamed["name"], renamed["hypervisor"]) == (cluster["name"] + "x", "BareMetal")
    [event] = events_of(root, cluster["id"], "cluster.update")
    assert event["description"] == f"cluster {cluster['name'] + 'x'!r}: hypervisor, name"
    change(root, f"/admin/clusters/{cluster['id']}", {"hypervisor": "KVM"})
    new_host(root, cluster)
    assert error_of(change(root, f"/admin/clusters/{cluster['id']}", {"hypervisor": "BareMetal"}, status=409),
                    409) == f"cluster {cluster['name'] + 'x'!r} keeps its hypervisor KVM: its 1 host runs it"
    assert "hypervisor" in error_of(change(root, f"/admin/clusters/{cluster['id']}", {"hypervisor": "Xen"},
                                           status=400), 400)
    assert "field 'pod_id' cannot be changed" in error_of(
        change(root, f"/admin/clusters/{cluster['id']}", {"pod_id": 1}, status=400), 400)
    error_of(change(root, "/admin/clusters/999999", {"name": "x"}, status=404), 404)
    error_of(change(root, "/admin/pods/999999", {"name": "x"}, status=404), 404)


def test_a_host_changes_its_tags_and_overcommit_only(root, cluster):
    host = new_host(root, cluster, tags="ssd")
    changed = change(root, f"/admin/hosts/{host['id']}", {"tags": ["gpu", "ssd"], "cpu_overcommit": 2}).json
    assert (changed["tags"], changed["cpu_overcommit"], changed["memory_overcommit"]) == ("gpu,ssd", 2.0, 1.0)
    assert change(root, f"/admin/hosts/{host['id']}", {"tags": None}).json["tags"] == ""
    assert [event["description"] for event in events_of(root, host["id"], "host.update")] == [
        f"host {host['name']!r}: tags", f"host {host['name']!r}: cpu_overcommit, tags"]


@pytest.mark.parametrize("body, message", [
    ({"name": "renamed"}, "field 'name' cannot be changed (or is unknown); the fields that may change are: tags, "
                          "cpu_overcommit, memory_overcommit"),
    ({"address": "10.77.1.1"}, "field 'address' cannot be changed"),
    ({"cluster_id": 1}, "field 'cluster_id' cannot be changed"),
    ({"cpu_cores": 64}, "field 'cpu_cores' cannot be changed"),
    ({"memory_overcommit": 0.5}, "the memory overcommit factor must be at least 1; got 0.5"),
    ({"cpu_overcommit": None}, "field 'cpu_overcommit' cannot be cleared"),
])
def test_refused_host_changes_change_nothing(root, cluster, body, message):
    host = new_host(root, cluster)
    assert message in error_of(change(root, f"/admin/hosts/{host['id']}", body, status=400), 400)
    assert root.get(f"/admin/hosts/{host['id']}").json == host
    error_of(change(root, "/admin/hosts/999999", {"tags": "x"}, status=404), 404)


def test_a_bare_metal_node_keeps_overcommit_1(root, pod):
    cluster = root.post_json("/admin/clusters", {"pod_id": pod["id"], "name": unique("bm"),
                                                 "hypervisor": "BareMetal"}, status=201).json
    node = new_host(root, cluster)
    assert "its nodes are each given whole to one compute" in error_of(
        change(root, f"/admin/hosts/{node['id']}", {"cpu_overcommit": 2}, status=400), 400)
    assert change(root, f"/admin/hosts/{node['id']}", {"tags": "metal"}).json["tags"] == "metal"


def test_a_storage_pool_changes_name_tags_and_capacity_but_stays_where_it_is(root, zone, cluster):
    pool = root.post_json("/admin/storage-pools", {"zone_id": zone["id"], "name": unique("ps"), "protocol": "nfs",
                                                   "server": "10.0.1.5", "path": "/export/primary",
                                                   "capacity_gib": 100, "tags": "ssd"}, status=201).json
    changed = change(root, f"/admin/storage-pools/{pool['id']}", {
        "name": pool["name"] + "x", "tags": "ssd,fast", "capacity_gib": 200, "overprovisioning": 1.5}).json
    assert (changed["name"], changed["tags"], changed["capacity_gib"], changed["overprovisioning"],
            changed["path"]) == (pool["name"] + "x", "ssd,fast", 200.0, 1.5, "/export/primary")
    assert change(root, f"/admin/storage-pools/{pool['id']}", {"tags": None}).json["tags"] == ""
    [_, event] = events_of(root, pool["id"], "storage_pool.update")
    assert event["description"] == f"storage pool {pool['name'] + 'x'!r}: capacity_gib, name, overprovisioning, tags"
    for body, message in (
            ({"path": "/elsewhere"}, "field 'path' cannot be changed (or is unknown); the fields that may change "
                                     "are: name, tags, capacity_gib, overprovisioning"),
            ({"cluster_id": cluster["id"]}, "field 'cluster_id' cannot be changed"),
            ({"capacity_gib": 0}, "the capacity in GiB must be greater than 0"),
            ({"overprovisioning": 0.5}, "the overprovisioning factor must be at least 1")):
        assert message in error_of(change(root, f"/admin/storage-pools/{pool['id']}", body, status=400), 400)
    error_of(change(root, "/admin/storage-pools/999999", {"name": "x"}, status=404), 404)


def test_a_secondary_storage_changes_name_capacity_and_url(root, zone):
    store = root.post_json("/admin/secondary-storage", {"zone_id": zone["id"], "name": unique("ss"),
                                                        "url": "nfs://10.0.1.5/export/secondary",
                                                        "capacity_gib": 500}, status=201).json
    changed = change(root, f"/admin/secondary-storage/{store['id']}", {
        "name": store["name"] + "x", "capacity_gib": 800, "url": "nfs://10.0.1.6/export/secondary"}).json
    assert (changed["name"], changed["capacity_gib"], changed["url"]) == (
        store["name"] + "x", 800.0, "nfs://10.0.1.6/export/secondary")
    [event] = events_of(root, store["id"], "secondary_storage.update")
    assert event["description"] == f"secondary storage {store['name'] + 'x'!r}: capacity_gib, name, url"
    assert "is not NFS" in error_of(change(root, f"/admin/secondary-storage/{store['id']}",
                                           {"url": "smb://x/y"}, status=400), 400)
    assert "field 'zone_id' cannot be changed" in error_of(
        change(root, f"/admin/secondary-storage/{store['id']}", {"zone_id": 1}, status=400), 400)
    error_of(change(root, "/admin/secondary-storage/999999", {"name": "x"}, status=404), 404)


def test_an_ip_range_changes_its_bounds_and_vlan(root, zone):
    ip_range = root.post_json("/admin/ip-ranges", {"zone_id": zone["id"], "purpose": "public",
                                                   "first": "198.51.100.10", "last": "198.51.100.20",
                                                   "gateway": "198.51.100.1", "prefix_length": 24, "vlan": 30},
                              status=201).json
    changed = change(root, f"/admin/ip-ranges/{ip_range['id']}", {"last": "198.51.100.40", "vlan": None}).json
    assert (changed["first_address"], changed["last_address"], changed["size"], changed["vlan"]) == (
        "198.51.100.10", "198.51.100.40", 31, None)
    [event] = events_of(root, ip_range["id"], "ip_range.update")
    assert event["description"] == "ip range 198.51.100.10-198.51.100.20: last_address, last_number, vlan"
    for body, message in (
            ({"gateway": "198.51.100.2"}, "field 'gateway' cannot be changed (or is unknown); the fields that may "
                                          "change are: first, last, vlan"),
            ({"prefix_length": 25}, "field 'prefix_length' cannot be changed"),
            ({"purpose": "management"}, "field 'purpose' cannot be changed"),
            ({"last": "198.51.101.10"}, "is not inside the subnet 198.51.100.0/24 of its gateway"),
            ({"vlan": 5000}, "the VLAN of an IP range must be from 1 to 4094"),
            ({"first": None}, "field 'first' cannot be cleared")):
        assert message in error_of(change(root, f"/admin/ip-ranges/{ip_range['id']}", body, status=400), 400)
    error_of(change(root, "/admin/ip-ranges/999999", {"vlan": 3}, status=404), 404)


def test_a_physical_network_changes_name_traffic_and_bridge(root, zone):
    network = root.post_json("/admin/physical-networks", {"zone_id": zone["id"], "name": unique("pn"),
                                                          "bridge": "cloudbr0"}, status=201).json
    changed = change(root, f"/admin/physical-networks/{network['id']}", {
        "name": network["name"] + "x", "traffic_types": ["guest", "storage"], "bridge": None}).json
    assert (changed["name"], changed["traffic_types"], changed["bridge"]) == (
        network["name"] + "x", ["guest", "storage"], None)
    [event] = events_of(root, network["id"], "physical_network.update")
    assert event["description"] == f"physical network {network['name'] + 'x'!r}: bridge, name, traffic_types"
    for body, message in (
            ({"isolation": "none"}, "field 'isolation' cannot be changed (or is unknown); the fields that may "
                                    "change are: name, traffic_types, bridge"),
            ({"vlan_ranges": "300-399"}, "field 'vlan_ranges' cannot be changed"),
            ({"traffic_types": ["cable"]}, "traffic type 'cable' is not one of the accepted values"),
            ({"name": None}, "field 'name' cannot be cleared")):
        assert message in error_of(change(root, f"/admin/physical-networks/{network['id']}", body, status=400), 400)
    error_of(change(root, "/admin/physical-networks/999999", {"name": "x"}, status=404), 404)


# --- zones ---------------------------------------------------------------------------------------------

def test_a_zone_changes_only_what_is_given(root, zone):
    region = root.post_json("/admin/regions", {"name": unique("r")}, status=201).json
    changed = change(root, f"/admin/zones/{zone['id']}", {"dns": ["10.0.0.3", "2001:db8::53"],
                                                          "region": region["name"]}).json
    assert (changed["dns"], changed["region_id"], changed["title"]) == ("10.0.0.3,2001:db8::53", region["id"], "first")
    assert changed == root.get(f"/admin/zones/{zone['id']}").json
    [event] = events_of(root, zone["id"], "zone.update")
    assert event["description"] == f"zone {zone['name']!r}: dns, region_id"


def test_null_clears_what_may_be_empty(root, zone):
    region = root.post_json("/admin/regions", {"name": unique("r")}, status=201).json
    change(root, f"/admin/zones/{zone['id']}", {"region_id": region["id"]})
    cleared = change(root, f"/admin/zones/{zone['id']}", {"title": None, "dns": None, "region": None}).json
    assert (cleared["title"], cleared["dns"], cleared["region_id"]) == (None, None, None)
    # The default guest CIDR cleared is the default again, not nothing.
    assert change(root, f"/admin/zones/{zone['id']}", {"guest_cidr": None}).json["guest_cidr"] == "10.1.1.0/24"


def test_an_update_that_changes_nothing_records_nothing(root, zone):
    change(root, f"/admin/zones/{zone['id']}", {"title": "first"})
    assert events_of(root, zone["id"], "zone.update") == []


@pytest.mark.parametrize("body, message", [
    ({}, "send a JSON object of the fields to change; the fields that may change are: title, guest_cidr, dns, "
         "region"),
    ({"name": "other"}, "field 'name' cannot be changed (or is unknown); the fields that may change are: title, "
                        "guest_cidr, dns, region"),
    ({"network_type": "basic"}, "field 'network_type' cannot be changed"),
    ({"dns": "not-an-address"}, "DNS server 'not-an-address' is not an IP address"),
    ({"guest_cidr": "10.0.0.0/33"}, "the guest CIDR"),
    ({"title": 7}, "field 'title' must be text"),
    ({"region": "nowhere"}, "no region named 'nowhere'"),
])
def test_refused_changes_say_what_is_accepted(root, zone, body, message):
    status = 404 if "no region" in message else 400
    response = change(root, f"/admin/zones/{zone['id']}", body, status=status)
    assert message in error_of(response, status)
    assert root.get(f"/admin/zones/{zone['id']}").json == zone


def test_an_unknown_zone_is_404_and_members_may_not_change_zones(root, member, zone):
    assert error_of(change(root, "/admin/zones/999999", {"title": "x"}, status=404), 404) == "no zone with id 999999"
    member.patch_json(f"/admin/zones/{zone['id']}", {"title": "x"}, status=403)


def test_patch_is_among_the_methods_of_an_updatable_resource(root, zone):
    assert root.put_json(f"/admin/zones/{zone['id']}", {}, status=405).headers["Allow"] == "GET, PATCH, DELETE"


# --- offerings --------------------------------------------------------------------------------------

@pytest.fixture
def offering(root):
    return root.post_json("/admin/offerings", {"term": unique("m"), "title": "Medium", "cores": 2, "memory_gib": 4,
                                               "host_tags": "ssd"}, status=201).json


def mixin_titles(world) -> dict[str, str]:
    discovery = world.client().get("/-/", headers={"Accept": "application/occi+json"}).json
    return {mixin["term"]: mixin.get("title") for mixin in discovery["mixins"]}


def test_an_offering_changes_only_what_is_given_and_the_catalog_shows_it(root, world, offering):
    assert mixin_titles(world)[offering["term"]] == "Medium"
    changed = change(root, f"/admin/offerings/{offering['id']}", {"title": "Medium, SSD", "storage_tags": ["fast"],
                                                                  "ha_enabled": True}).json
    assert (changed["title"], changed["host_tags"], changed["storage_tags"], changed["ha_enabled"],
            changed["cores"]) == ("Medium, SSD", "ssd", "fast", True, 2)
    assert mixin_titles(world)[offering["term"]] == "Medium, SSD"
    [event] = events_of(root, offering["id"], "offering.update")
    assert event["description"] == f"offering {offering['term']!r}: ha_enabled, storage_tags, title"
    cleared = change(root, f"/admin/offerings/{offering['id']}", {"title": None, "host_tags": None}).json
    assert (cleared["title"], cleared["host_tags"]) == (None, "")


@pytest.mark.parametrize("body, message", [
    ({"term": "other"}, "field 'term' cannot be changed (or is unknown); the fields that may change are: title, "
                        "host_tags, storage_tags, ha_enabled"),
    ({"cores": 4}, "field 'cores' cannot be changed"),
    ({"host_tags": "no tag!"}, "the tag 'no tag!' of the host tags is not usable"),
    ({"ha_enabled": None}, "field 'ha_enabled' cannot be cleared"),
])
def test_refused_offering_changes_say_what_is_accepted(root, offering, body, message):
    assert message in error_of(change(root, f"/admin/offerings/{offering['id']}", body, status=400), 400)
    assert root.get(f"/admin/offerings/{offering['id']}").json == offering


def test_a_bare_metal_offering_takes_no_storage_tags_and_an_unknown_offering_is_404(root):
    node = root.post_json("/admin/offerings", {"term": unique("bm"), "cores": 8, "memory_gib": 32,
                                               "hypervisor": "BareMetal"}, status=201).json
    assert "takes no storage tags" in error_of(change(root, f"/admin/offerings/{node['id']}",
                                                      {"storage_tags": "fast"}, status=400), 400)
    assert error_of(change(root, "/admin/offerings/999999", {"title": "x"}, status=404), 404) == \
        "no service offering with id 999999"


# --- templates --------------------------------------------------------------------------------------

@pytest.fixture
def template(root):
    """A ready public template of the demo catalog, as it was again after the test."""
    found = next(t for t in root.get("/admin/templates", {"format": "template"}).json
                 if t["state"] == "ready" and t["project_id"] is None)
    yield found
    change(root, f"/admin/templates/{found['id']}", {
        name: found[name] for name in ("title", "os_family", "os_name", "os_version", "min_cores", "min_memory_gib",
                                       "extra_attributes")})


def test_a_template_changes_only_what_is_given_and_the_catalog_shows_it(root, world, template):
    changed = change(root, f"/admin/templates/{template['id']}", {
        "title": "Renamed for people", "os_version": "13", "min_cores": 2,
        "extra_attributes": {"eu.egi.fedcloud.appliance.appdb.id": 42}}).json
    assert (changed["title"], changed["os_version"], changed["min_cores"], changed["extra_attributes"],
            changed["os_name"], changed["checksum"]) == ("Renamed for people", "13", 2,
                                                         {"eu.egi.fedcloud.appliance.appdb.id": 42},
                                                         template["os_name"], template["checksum"])
    assert mixin_titles(world)[template["term"]] == "Renamed for people"
    [event] = events_of(root, template["id"], "template.update")
    assert event["description"] == f"template {template['term']!r}: extra_attributes, min_cores, os_version, title"
    cleared = change(root, f"/admin/templates/{template['id']}", {"os_version": None, "extra_attributes": None}).json
    assert (cleared["os_version"], cleared["extra_attributes"]) == (None, {})


@pytest.mark.parametrize("body, message", [
    ({"term": "other"}, "field 'term' cannot be changed (or is unknown); the fields that may change are: title, "
                        "os_family, os_name, os_version, min_cores, min_memory_gib, extra_attributes"),
    ({"url": "https://example.org/other.qcow2"}, "field 'url' cannot be changed"),
    ({"checksum": "md5:" + "0" * 32}, "field 'checksum' cannot be changed"),
    ({"min_cores": 0}, "the minimum number of cores"),
    ({"min_memory_gib": None}, "field 'min_memory_gib' cannot be cleared"),
    ({"extra_attributes": {"occi.core.title": "x"}}, "is in the occi. namespace"),
])
def test_refused_template_changes_say_what_is_accepted(root, template, body, message):
    assert message in error_of(change(root, f"/admin/templates/{template['id']}", body, status=400), 400)
    assert root.get(f"/admin/templates/{template['id']}").json == template


def test_an_unknown_template_is_404(root):
    assert error_of(change(root, "/admin/templates/999999", {"title": "x"}, status=404), 404) == \
        "no template or ISO with id 999999"


# --- domains, accounts and projects -----------------------------------------------------------------

def test_a_renamed_domain_takes_its_subdomains_paths_along(root):
    domain = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    child = root.post_json("/admin/domains", {"name": "physics", "parent_id": domain["id"]}, status=201).json
    new_name = unique("d")
    renamed = change(root, f"/admin/domains/{domain['id']}", {"name": new_name}).json
    assert (renamed["name"], renamed["path"]) == (new_name, f"/{new_name}/")
    assert root.get(f"/admin/domains/{child['id']}").json["path"] == f"/{new_name}/physics/"
    [event] = events_of(root, domain["id"], "domain.update")
    assert event["description"] == f"domain {domain['path']}: name, path"


@pytest.mark.parametrize("body, status, message", [
    ({"parent": "/"}, 400, "field 'parent' cannot be changed (or is unknown); the fields that may change are: name"),
    ({"name": None}, 400, "field 'name' cannot be cleared"),
    ({"name": "no/slash"}, 400, "the domain name 'no/slash' is not usable"),
])
def test_refused_domain_changes_say_why(root, body, status, message):
    domain = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    assert message in error_of(change(root, f"/admin/domains/{domain['id']}", body, status=status), status)
    assert root.get(f"/admin/domains/{domain['id']}").json == domain


def test_the_root_domain_keeps_its_name_and_a_taken_path_is_refused(root):
    root_domain = next(d for d in root.get("/admin/domains").json if d["path"] == "/")
    assert "it has no name to change" in error_of(
        change(root, f"/admin/domains/{root_domain['id']}", {"name": "top"}, status=409), 409)
    first, second = (root.post_json("/admin/domains", {"name": unique("d")}, status=201).json for _ in range(2))
    assert "with the path" in error_of(change(root, f"/admin/domains/{second['id']}", {"name": first["name"]},
                                              status=409), 409)
    assert error_of(change(root, "/admin/domains/999999", {"name": "x"}, status=404), 404) == \
        "no domain with id 999999"


def test_an_account_is_renamed_in_its_domain(root):
    domain = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    lab, other = (root.post_json("/admin/accounts", {"name": name, "domain_id": domain["id"]}, status=201).json
                  for name in ("lab", "other"))
    assert change(root, f"/admin/accounts/{lab['id']}", {"name": "laboratory"}).json["name"] == "laboratory"
    [event] = events_of(root, lab["id"], "account.update")
    assert event["description"] == "account 'lab': name"
    assert "named 'other'" in error_of(change(root, f"/admin/accounts/{lab['id']}", {"name": "other"}, status=409),
                                       409)
    assert "field 'kind' cannot be changed" in error_of(
        change(root, f"/admin/accounts/{other['id']}", {"kind": "admin"}, status=400), 400)
    assert error_of(change(root, "/admin/accounts/999999", {"name": "x"}, status=404), 404) == \
        "no account with id 999999"


def test_a_project_changes_its_title_and_owner(root):
    domain = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    first, second = (root.post_json("/admin/accounts", {"name": name, "domain_id": domain["id"]}, status=201).json
                     for name in ("first", "second"))
    project = root.post_json("/admin/projects", {"name": unique("p"), "title": "Lab", "account_id": first["id"]},
                             status=201).json
    changed = change(root, f"/admin/projects/{project['id']}", {"account": "second"}).json
    assert (changed["account_id"], changed["title"], changed["domain_id"]) == (second["id"], "Lab", domain["id"])
    cleared = change(root, f"/admin/projects/{project['id']}", {"title": None, "account": None}).json
    assert (cleared["title"], cleared["account_id"]) == (None, None)
    assert [e["description"] for e in events_of(root, project["id"], "project.update")] == [
        f"project {project['name']!r}: account_id, title", f"project {project['name']!r}: account_id"]


@pytest.mark.parametrize("body, status, message", [
    ({"name": "other"}, 400, "field 'name' cannot be changed (or is unknown); the fields that may change are: "
                             "title, account"),
    ({"domain": "/"}, 400, "field 'domain' cannot be changed"),
    ({"account": "nobody"}, 404, "no account named 'nobody'"),
    ({"title": "x" * 300}, 400, "title"),
])
def test_refused_project_changes_say_why(root, body, status, message):
    project = root.post_json("/admin/projects", {"name": unique("p")}, status=201).json
    assert message in error_of(change(root, f"/admin/projects/{project['id']}", body, status=status), status)
    assert root.get(f"/admin/projects/{project['id']}").json == project


# --- users and quotas -------------------------------------------------------------------------------

def test_a_user_changes_role_and_account_and_the_new_role_counts_at_once(root, world):
    domain = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    lab = root.post_json("/admin/accounts", {"name": "lab", "domain_id": domain["id"]}, status=201).json
    project = root.post_json("/admin/projects", {"name": unique("p"), "domain_id": domain["id"]}, status=201).json
    name = unique("u")
    user = root.post_json("/admin/users", {"name": name, "password": "long-secret", "project_id": project["id"]},
                          status=201).json
    as_user = TestApp(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, "long-secret")})
    as_user.get("/admin/zones", status=403)
    changed = change(root, f"/admin/users/{user['id']}", {"role": "admin", "account": "lab"}).json
    assert (changed["role"], changed["account_id"], changed["name"]) == ("admin", lab["id"], name)
    as_user.get("/admin/zones", status=200)  # not from the server's memory of the member it was
    [event] = events_of(root, user["id"], "user.update")
    assert event["description"] == f"user {name!r}: account_id, role"
    assert change(root, f"/admin/users/{user['id']}", {"account": None, "role": "member"}).json["account_id"] is None


@pytest.mark.parametrize("body, status, message", [
    ({"name": "other"}, 400, "field 'name' cannot be changed (or is unknown); the fields that may change are: "
                             "role, account"),
    ({"password": "another-secret"}, 400, "field 'password' cannot be changed"),
    ({"project": "p"}, 400, "field 'project' cannot be changed"),
    ({"role": "owner"}, 400, "role"),
    ({"role": None}, 400, "field 'role' cannot be cleared"),
    ({"account": "nobody"}, 404, "no account named 'nobody'"),
])
def test_refused_user_changes_say_why(root, world, body, status, message):
    name, _password = world.new_project_user("patched")
    [user] = [u for u in root.get("/admin/users").json if u["name"] == name]
    assert message in error_of(change(root, f"/admin/users/{user['id']}", body, status=status), status)
    assert root.get(f"/admin/users/{user['id']}").json == user
    assert error_of(change(root, "/admin/users/999999", {"role": "reader"}, status=404), 404) == \
        "no user with id 999999"


def test_a_quota_changes_its_limit(root):
    project = root.post_json("/admin/projects", {"name": unique("p")}, status=201).json
    # The project may have the site's default on cores already (200) or not (201).
    quota = root.post_json("/admin/quotas", {"project_id": project["id"], "resource": "cores", "limit": 4},
                           status="*").json
    changed = change(root, f"/admin/quotas/{quota['id']}", {"limit": 8}).json
    assert (changed["limit"], changed["resource"], changed["project_id"]) == (8, "cores", project["id"])
    [event] = events_of(root, quota["id"], "quota.update")
    assert event["description"] == f"quota cores of project {project['name']!r}: limit"
    assert "must be a whole number" in error_of(change(root, f"/admin/quotas/{quota['id']}", {"limit": 2.5},
                                                       status=400), 400)
    assert "field 'resource' cannot be changed (or is unknown); the fields that may change are: limit" in error_of(
        change(root, f"/admin/quotas/{quota['id']}", {"resource": "memory"}, status=400), 400)
    assert "field 'limit' cannot be cleared" in error_of(
        change(root, f"/admin/quotas/{quota['id']}", {"limit": None}, status=400), 400)
    assert error_of(change(root, "/admin/quotas/999999", {"limit": 1}, status=404), 404) == "no quota with id 999999"


# --- affinity groups --------------------------------------------------------------------------------

def test_an_affinity_group_changes_its_description_only(root):
    project = root.post_json("/admin/projects", {"name": unique("p")}, status=201).json
    group = root.post_json("/admin/affinity-groups", {"project_id": project["id"], "name": "web",
                                                      "kind": "anti-affinity", "description": "front ends"},
                           status=201).json
    changed = change(root, f"/admin/affinity-groups/{group['id']}", {"description": "web servers"}).json
    assert (changed["description"], changed["name"], changed["kind"]) == ("web servers", "web", "host anti-affinity")
    [event] = events_of(root, group["id"], "affinity_group.update")
    assert event["description"] == "affinity group 'web': description"
    # In the project's own log, as the group's create is.
    assert [e["action"] for e in root.get("/admin/events", {"project_id": project["id"]}).json
            if e["resource_id"] == str(group["id"]) or e["resource_id"] == group["id"]] == [
        "affinity_group.update", "affinity_group.create"]
    assert change(root, f"/admin/affinity-groups/{group['id']}", {"description": None}).json["description"] is None
    for body, message in (({"name": "db"}, "field 'name' cannot be changed (or is unknown); the fields that may "
                                           "change are: description"),
                          ({"kind": "affinity"}, "field 'kind' cannot be changed"),
                          ({"description": "x" * 256}, "the description must be text of at most 255 characters")):
        assert message in error_of(change(root, f"/admin/affinity-groups/{group['id']}", body, status=400), 400)
    assert error_of(change(root, "/admin/affinity-groups/999999", {"description": "x"}, status=404), 404) == \
        "no affinity group with id 999999"


# --- accounts disabled as a whole -------------------------------------------------------------------

def test_an_account_disabled_as_a_whole_refuses_its_users_at_once(world, root):
    """Issue 14: every user of a disabled account is refused from the next request on (their
    verified password was remembered), and accepted again once it is enabled; the users' own
    enabled flags are untouched."""
    account = root.post_json("/admin/accounts", {"name": unique("acct")}, status=201).json
    name = unique("alice")
    root.post_json("/admin/users", {"name": name, "password": "a-long-password", "project": unique("p"),
                                    "create_project": True, "account": account["id"]}, status=201)
    alice = TestApp(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, "a-long-password")})
    alice.get("/-/", status=200)
    disabled = root.post(f"/admin/accounts/{account['id']}/actions/disable", status=200).json
    assert disabled["enabled"] is False
    assert "disabled" in alice.get("/-/", status=401).text
    assert root.post(f"/admin/accounts/{account['id']}/actions/enable", status=200).json["enabled"] is True
    alice.get("/-/", status=200)
    assert [user["enabled"] for user in root.get("/admin/users", {"account_id": account["id"]}).json] == [True]


# --- domains disabled as a whole --------------------------------------------------------------------

def test_a_domain_disabled_as_a_whole_refuses_the_users_of_it_and_its_subdomains(world, root):
    """Issue 14: disabling a domain refuses, from the next request on, the users of its accounts,
    of its projects without an account, and of its subdomains'; the users of other domains go on;
    enabling it accepts them again with their own and their accounts' flags untouched. The root
    cannot be disabled."""
    top = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    sub = root.post_json("/admin/domains", {"name": "sub", "parent": top["path"]}, status=201).json
    beside = root.post_json("/admin/domains", {"name": unique("d")}, status=201).json
    account = root.post_json("/admin/accounts", {"name": "lab", "domain_id": sub["id"]}, status=201).json
    other = root.post_json("/admin/accounts", {"name": "lab", "domain_id": beside["id"]}, status=201).json
    clients = {}
    for who, body in (("in sub", {"account": account["id"]}), ("beside", {"account": other["id"]}),
                      ("in top, no account", {"domain": top["id"]})):
        name = unique("u")
        root.post_json("/admin/users", {"name": name, "password": "a-long-password", "project": unique("p"),
                                        "create_project": True, **body}, status=201)
        clients[who] = TestApp(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, "a-long-password")})
        clients[who].get("/-/", status=200)  # verified, and remembered
    disabled = root.post(f"/admin/domains/{top['id']}/actions/disable", status=200).json
    assert (disabled["enabled"], disabled["path"]) == (False, top["path"])
    assert "disabled" in clients["in sub"].get("/-/", status=401).text
    clients["in top, no account"].get("/-/", status=401)
    clients["beside"].get("/-/", status=200)
    assert [event["description"] for event in events_of(root, top["id"], "domain.disable")] == [
        f"domain {top['name']!r}"]
    assert root.get(f"/admin/domains/{sub['id']}").json["enabled"] is True  # only the top's flag changed
    assert root.post(f"/admin/domains/{top['id']}/actions/enable", status=200).json["enabled"] is True
    for client in clients.values():
        client.get("/-/", status=200)
    assert root.get(f"/admin/accounts/{account['id']}").json["enabled"] is True
    refused = error_of(root.post("/admin/domains/1/actions/disable", status=409), 409)
    assert refused.startswith("the root domain / cannot be disabled")
    assert error_of(root.post(f"/admin/domains/{top['id']}/actions/pause", status=404), 404)
