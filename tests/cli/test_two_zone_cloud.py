"""The proof of the admin tools (issue 4): the command line builds a two-zone cloud from nothing,
in CloudStack's order, and the OCCI query interface then offers its zones as availability_zone
mixins and its offerings as resource_tpl mixins whose attribute defaults are their sizes, to the
users the command line made."""

from __future__ import annotations

import pytest
from webtest import TestApp

from tests.conftest import basic, close_app, make_app

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
SITE = "http://occistack.local/occi/infrastructure/"
ZONES = {
    # zone: (third octet of its pod subnet, VLAN range, public range, offering: (cores, memory GiB, disk GiB))
    "geneva": (1, "100-199", "203.0.113.10-203.0.113.100", ("hpc.large", 16, 64, 200)),
    "bologna": (2, "200-299", "198.51.100.10-198.51.100.100", ("web.small", 1, 2, 20)),
}


def build_zone(occistack, zone: str) -> None:
    octet, vlans, public, (term, cores, memory, disk) = ZONES[zone]
    subnet = f"10.0.{octet}"
    gateway = public.split("-")[0].rsplit(".", 1)[0] + ".1"
    occistack("zone", "create", zone, "--title", f"Zone {zone.title()}", "--network-type", "advanced",
              "--guest-cidr", "10.1.0.0/16", "--dns", "8.8.8.8")
    occistack("physical-network", "create", "--zone", zone, "physnet", "--traffic-type", "guest,public,management",
              "--bridge", "cloudbr0", "--vlan", vlans)
    occistack("pod", "create", "--zone", zone, "rack1", "--cidr", f"{subnet}.0/24", "--gateway", f"{subnet}.1",
              "--management-range", f"{subnet}.10-{subnet}.50")
    occistack("cluster", "create", "--zone", zone, "--pod", "rack1", "kvm", "--hypervisor", "KVM")
    added = occistack("host", "add", "--zone", zone, "--pod", "rack1", "--cluster", "kvm", f"{zone}-host1",
                      "--address", f"{subnet}.101", "--cpu-sockets", "2", "--cpu-cores", "32", "--cpu-mhz", "2600",
                      "--memory-mib", "262144", "--memory-overcommit", "1.5")
    assert "agent token (shown only now" in added.stdout
    occistack("storage", "add", "--zone", zone, "--pod", "rack1", "--cluster", "kvm", "primary", "--protocol", "nfs",
              "--server", f"{subnet}.5", "--path", "/export/primary", "--capacity-gib", "4000",
              "--overprovisioning", "2")
    occistack("secondary-storage", "add", "--zone", zone, "secondary", "--url", f"nfs://{subnet}.5/export/secondary",
              "--capacity-gib", "2000")
    occistack("ip-range", "add", "--zone", zone, "--purpose", "public", public, "--gateway", gateway,
              "--prefix-length", "24")
    occistack("offering", "create", term, "--title", f"{term} in {zone}", "--cores", str(cores),
              "--memory-gib", str(memory), "--disk-gib", str(disk))
    occistack("domain", "create", zone)
    occistack("account", "create", f"{zone}-lab", "--domain", f"/{zone}/")
    occistack("project", "create", f"{zone}-project", "--domain", f"/{zone}/", "--account", f"{zone}-lab")
    occistack("user", "add", f"{zone}-user", "--project", f"{zone}-project", "--account", f"{zone}-lab",
              "--password", f"{zone}-secret")
    occistack("quota", "set", "--project", f"{zone}-project", "vms", "20")
    occistack("quota", "set", "--project", f"{zone}-project", "memory_gib", "512")


@pytest.fixture
def cloud(occistack, db_url):
    occistack("db", "upgrade")
    for zone in ZONES:
        build_zone(occistack, zone)
    application = make_app(db_url)
    yield occistack, application
    close_app(application)


def query_interface(application, zone: str) -> dict:
    client = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic(f"{zone}-user", f"{zone}-secret")})
    return client.get("/-/", headers={"Accept": "application/occi+json"}).json


def test_the_cli_builds_two_zones_and_occi_offers_them(cloud):
    occistack, application = cloud
    for user_zone in ZONES:
        offered = query_interface(application, user_zone)["mixins"]
        mixins = {(mixin["scheme"], mixin["term"]): mixin for mixin in offered}
        for zone, (_octet, _vlans, _public, (term, cores, memory, disk)) in ZONES.items():
            availability_zone = mixins[(SITE + "availability_zone#", zone)]
            assert availability_zone["title"] == f"Zone {zone.title()}"
            assert availability_zone["depends"] == [INFRA + "availability_zone"]
            assert availability_zone["location"] == f"/availability_zone/{zone}/"
            template = mixins[(SITE + "resource_tpl#", term)]
            assert template["depends"] == [INFRA + "resource_tpl"] and template["title"] == f"{term} in {zone}"
            attributes = template["attributes"]
            assert attributes["occi.compute.cores"]["default"] == cores
            assert attributes["occi.compute.memory"]["default"] == memory
            assert attributes["occi.compute.ephemeral_storage.size"]["default"] == disk
            assert all(not attributes[name]["mutable"] for name in attributes)


def test_the_cloud_is_what_the_cli_says_it_is(cloud):
    occistack, _application = cloud
    capacity = occistack.json("capacity")
    zones = {zone["zone"]: zone for zone in capacity["zones"]}
    assert set(zones) == set(ZONES)
    for zone in zones.values():
        assert zone["memory_mib"]["total"] == 262144 * 1.5 and zone["cpu_mhz"]["total"] == 32 * 2600
        assert zone["primary_storage_gib"]["total"] == 8000 and zone["secondary_storage_gib"]["total"] == 2000
        assert zone["public_ips"]["total"] == 91 and zone["management_ips"]["total"] == 41
        assert zone["vlans"]["total"] == 100 and zone["hosts"]["total"] == 1
        assert (zone["pods"], zone["clusters"], zone["primary_pools"], zone["secondary_stores"]) == (1, 1, 1, 1)
    # Their status is their agents' business (the server runs in-process agents in tests).
    assert capacity["cloud"]["zones"] == 2 and capacity["cloud"]["hosts"]["total"] == 2
    quotas = occistack.json("quota", "list", "--project", "geneva-project")
    # The site's default quotas of a new project, memory raised by the administrator.
    assert {(q["resource"], q["limit"]) for q in quotas} == {("vms", 20.0), ("memory_gib", 512.0), ("cores", 40.0),
                                                            ("storage_gib", 500.0), ("networks", 5.0),
                                                            ("public_ips", 10.0)}
    creations = occistack.json("events", "--action", "zone.create")
    assert [e["description"] for e in creations] == ["advanced zone 'bologna'", "advanced zone 'geneva'"]
    assert all(e["actor"].startswith("cli:") and e["state"] == "completed" for e in creations)


def test_a_disabled_zone_is_no_longer_offered(cloud):
    occistack, application = cloud
    occistack("zone", "disable", "bologna")
    terms = {mixin["term"] for mixin in query_interface(application, "geneva")["mixins"]}
    assert "geneva" in terms and "bologna" not in terms


def test_each_zone_gets_its_public_network_and_a_project_its_default(cloud):
    """Issue 12: each zone's first public range gave it its shared public network (the cloud's
    first is /network/public), which OCCI lists; the administrator chooses a project's default
    network from the command line, only in the network's own zone."""
    occistack, application = cloud
    assert occistack.refused("zone", "public-network", "bologna") == \
        "zone 'bologna' already has its public network public-bologna"
    client = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("bologna-user", "bologna-secret")})
    text = {"Content-Type": "text/plain", "Accept": "text/plain"}
    listed = client.get("/network/", headers=text).text
    assert "/network/public\n" in listed + "\n" and "/network/public-bologna" in listed
    # A private network of the project, made its default by the administrator.
    network = client.post("/network/", "\n".join([f'Category: network; scheme="{INFRA}"; class="kind"',
                                                  f'Category: bologna; scheme="{SITE}availability_zone#"; '
                                                  'class="mixin"']), headers=text, status=201)
    network_path = "/" + network.headers["Location"].split("/", 3)[3]
    said = occistack("project", "default-network", "bologna-project", network_path).stdout
    assert said.strip() == f"default networks of project bologna-project: bologna: {network_path}"
    assert "Category: default;" in client.get(network_path, headers=text).text
    assert occistack.refused("project", "default-network", "bologna-project", "/network/public", "--zone",
                             "bologna") == "network public is in zone geneva, not in zone bologna"
    said = occistack("project", "default-network", "bologna-project", "--zone", "bologna").stdout
    assert said.strip() == "default networks of project bologna-project: none chosen"
