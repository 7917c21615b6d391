"""Issue 12, point 1: zones are kept apart. In a cloud of several zones every zone-scoped thing
belongs to one zone -- shared public networks (one per zone with a public range), the
addresses handed out of its ranges, guest networks, volumes, affinity groups' members -- and a
compute, whose zone is decided once (its availability-zone mixin, else its links, else
placement), links, attaches and joins only what is in its zone. Each cross-zone combination is
refused with 409 naming both zones; each same-zone one works. Through OCCI, and through the
admin API for what the administrator does (public networks, ranges, affinity groups)."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select

from occistack.model import Host, VirtualMachine
from tests.api.occi_face import attributes, entity_id, header_lines, link_values, locations, path_of
from tests.api.three_zones import seed_three_zones
from tests.occi import INFRA, TEXT, ZONE, compute_body, link_line, mixin, network_body, storage_body

#: This module's world: the demo's zone1, zone2 and zone3.
WORLD_SEED = seed_three_zones

AFFINITY = "http://occistack.local/occi/infrastructure/affinity_group#"
ZONE1_PUBLIC = ipaddress.ip_network("192.0.2.0/24")
ZONE2_PUBLIC = ipaddress.ip_network("198.51.100.0/24")


def in_zone(zone: str) -> str:
    return mixin(zone, ZONE)


def network_link(network: str) -> str:
    return link_line(network, "network", "networkinterface")


def storage_link(storage: str) -> str:
    return link_line(storage, "storage", "storagelink")


def create_compute(client, *extra: str, status: int = 201):
    return client.post("/compute/", compute_body(*extra, template="cirros-0.6"), headers=TEXT, status=status)


def created(answer) -> str:
    return path_of(answer.headers["Location"])


def create_network(client, zone: str, address: str) -> str:
    return created(client.post("/network/", network_body(in_zone(zone), address=address), headers=TEXT,
                               status=201))


def create_volume(client, zone: str) -> str:
    return created(client.post("/storage/", storage_body(1.0, in_zone(zone)), headers=TEXT, status=201))


def nics_of(client, compute: str) -> list[dict[str, str]]:
    links = [link_values(value) for value in header_lines(client.get(compute, headers=TEXT), "Link")]
    return [link for link in links if link.get("rel") == INFRA + "network"]


def zone_of(world, compute: str) -> str:
    with world.session_factory() as session:
        host_zone = session.scalar(select(Host.zone_id).join(VirtualMachine, VirtualMachine.host_id == Host.id)
                                   .where(VirtualMachine.id == entity_id(compute)))
        vm_zone = session.scalar(select(VirtualMachine.zone_id).where(VirtualMachine.id == entity_id(compute)))
    assert host_zone == vm_zone, "placement honours the compute's zone"
    return {1: "zone1", 2: "zone2", 3: "zone3"}[vm_zone]


def refused(answer, *zones: str) -> None:
    assert answer.status_int == 409
    for zone in zones:
        assert f"zone {zone}" in answer.text, answer.text


# --- public networks, one per zone -------------------------------------------------------------------

def test_each_zone_with_a_public_range_has_its_public_network_in_occi(client):
    listed = [path_of(location) for location in locations(client.get("/network/", headers=TEXT))]
    assert "/network/public" in listed and "/network/public-zone2" in listed
    assert not any(location.startswith("/network/public-zone3") for location in listed)  # no range, no network
    zone2_public = client.get("/network/public-zone2", headers=TEXT)
    assert attributes(zone2_public.text)["occi.network.address"] == str(ZONE2_PUBLIC)
    assert "Category: zone2;" in zone2_public.text


def test_a_compute_of_zone2_gets_an_address_of_zone2s_range(world, client):
    compute = created(create_compute(client, in_zone("zone2"), network_link("/network/public-zone2")))
    [nic] = nics_of(client, compute)
    assert ipaddress.ip_address(nic["occi.networkinterface.address"]) in ZONE2_PUBLIC
    assert zone_of(world, compute) == "zone2"


def test_a_compute_without_zone_takes_its_links_zone(world, client):
    compute = created(create_compute(client, network_link("/network/public-zone2")))
    assert zone_of(world, compute) == "zone2"
    assert "Category: zone2;" in client.get(compute, headers=TEXT).text


def test_a_link_less_compute_of_zone2_joins_zone2s_public_network(world, client):
    compute = created(create_compute(client, in_zone("zone2")))
    [nic] = nics_of(client, compute)
    assert nic["target"].endswith("/network/public-zone2")
    assert ipaddress.ip_address(nic["occi.networkinterface.address"]) in ZONE2_PUBLIC


# --- network links across zones ----------------------------------------------------------------------

def test_a_network_of_another_zone_is_refused_at_create(client):
    answer = create_compute(client, in_zone("zone2"), network_link("/network/public"), status=409)
    refused(answer, "zone1", "zone2")
    assert "network public is" in answer.text
    private = create_network(client, "zone2", "10.30.0.0/24")
    refused(create_compute(client, in_zone("zone1"), network_link(private), status=409), "zone1", "zone2")
    # No zone asked for: the links disagree among themselves.
    refused(create_compute(client, network_link("/network/public"), network_link("/network/public-zone2"),
                           status=409), "zone1", "zone2")
    assert client.get("/compute/", headers=TEXT).text.count("X-OCCI-Location") == 0, "nothing half-created"


def test_a_network_of_another_zone_is_refused_later(client):
    compute = created(create_compute(client, in_zone("zone1")))
    zone2_private = create_network(client, "zone2", "10.31.0.0/24")
    zone1_private = create_network(client, "zone1", "10.32.0.0/24")
    for target in ("/network/public-zone2", zone2_private):
        body = "\n".join([f'Category: networkinterface; scheme="{INFRA}"; class="kind"',
                          f'X-OCCI-Attribute: occi.core.source="{compute}"',
                          f'X-OCCI-Attribute: occi.core.target="{target}"'])
        refused(client.post("/networkinterface/", body, headers=TEXT, status=409), "zone1", "zone2")
    body = "\n".join([f'Category: networkinterface; scheme="{INFRA}"; class="kind"',
                      f'X-OCCI-Attribute: occi.core.source="{compute}"',
                      f'X-OCCI-Attribute: occi.core.target="{zone1_private}"'])
    client.post("/networkinterface/", body, headers=TEXT, status=201)
    assert sorted(nic["target"].rsplit("/", 2)[-1] for nic in nics_of(client, compute)) == \
        sorted(["public", entity_id(zone1_private)])


# --- volumes across zones ------------------------------------------------------------------------------

def test_a_volume_lives_in_its_zone_and_attaches_only_there(world, client):
    zone2_volume = create_volume(client, "zone2")
    assert "Category: zone2;" in client.get(zone2_volume, headers=TEXT).text
    refused(create_compute(client, in_zone("zone1"), storage_link(zone2_volume), status=409), "zone1", "zone2")
    # The volume alone puts the compute in its zone.
    compute = created(create_compute(client, storage_link(zone2_volume)))
    assert zone_of(world, compute) == "zone2"
    [nic] = nics_of(client, compute)
    assert nic["target"].endswith("/network/public-zone2")


def test_a_volume_of_another_zone_is_refused_later(client):
    compute = created(create_compute(client, in_zone("zone1")))
    zone2_volume, zone1_volume = create_volume(client, "zone2"), create_volume(client, "zone1")

    def attach(volume: str, status: int):
        body = "\n".join([f'Category: storagelink; scheme="{INFRA}"; class="kind"',
                          f'X-OCCI-Attribute: occi.core.source="{compute}"',
                          f'X-OCCI-Attribute: occi.core.target="{volume}"'])
        return client.post("/storagelink/", body, headers=TEXT, status=status)

    refused(attach(zone2_volume, 409), "zone1", "zone2")
    attach(zone1_volume, 201)
    assert f"<{zone1_volume}>" in client.get(compute, headers=TEXT).text


# --- affinity groups ----------------------------------------------------------------------------------

def test_an_affinity_group_holds_computes_of_one_zone(world, root, client):
    with world.session_factory() as session:
        from occistack.model import Project, User

        project = session.scalar(select(Project.name).join(User, User.project_id == Project.id)
                                 .where(User.name == client.user_name))
    root.post_json("/admin/affinity-groups", {"project": project, "name": "together", "kind": "affinity"},
                   status=201)
    first = created(create_compute(client, in_zone("zone2"), mixin("together", AFFINITY)))
    refused(create_compute(client, in_zone("zone1"), mixin("together", AFFINITY), status=409), "zone1", "zone2")
    refused(create_compute(client, network_link("/network/public"), mixin("together", AFFINITY), status=409),
            "zone1", "zone2")
    # Without a zone of its own, a new member goes to the group's zone.
    second = created(create_compute(client, mixin("together", AFFINITY)))
    assert zone_of(world, first) == zone_of(world, second) == "zone2"


# --- the administrator's side ---------------------------------------------------------------------------

def zone_json(root, name: str) -> dict:
    return next(zone for zone in root.get("/admin/zones").json if zone["name"] == name)


def test_the_admin_api_shows_and_makes_public_networks(root, client):
    assert zone_json(root, "zone1")["public_network"] == "/network/public"
    assert zone_json(root, "zone2")["public_network"] == "/network/public-zone2"
    zone3 = zone_json(root, "zone3")
    assert zone3["public_network"] is None
    answer = root.post(f"/admin/zones/{zone_json(root, 'zone2')['id']}/actions/public-network", status=409)
    assert "already has its public network public-zone2" in answer.json["error"]["message"]
    answer = root.post(f"/admin/zones/{zone3['id']}/actions/public-network", status=409)
    assert "no public IP range" in answer.json["error"]["message"]
    # A zone's first public range brings its network; its addresses are the zone's own.
    added = root.post_json("/admin/ip-ranges", {"zone": "zone3", "purpose": "public", "first": "203.0.113.10",
                                                "last": "203.0.113.20", "gateway": "203.0.113.1",
                                                "prefix_length": 24}, status=201).json
    assert zone_json(root, "zone3")["public_network"] == "/network/public-zone3"
    compute = created(create_compute(client, in_zone("zone3"), network_link("/network/public-zone3")))
    [nic] = nics_of(client, compute)
    assert ipaddress.ip_address(nic["occi.networkinterface.address"]) in ipaddress.ip_network("203.0.113.0/24")
    refused(create_compute(client, in_zone("zone3"), network_link("/network/public-zone2"), status=409),
            "zone2", "zone3")
    client.delete(compute, status=200)  # gives its address back
    root.delete(f"/admin/ip-ranges/{added['id']}", status=200)
    # Its last range gone, the zone's public network goes too.
    assert zone_json(root, "zone3")["public_network"] is None
    client.get("/network/public-zone3", headers=TEXT, status=404)


def test_a_public_address_comes_only_from_the_networks_zone(client):
    compute = created(create_compute(client, in_zone("zone2")))
    body = "\n".join([f'Category: networkinterface; scheme="{INFRA}"; class="kind"',
                      f'Category: ipnetworkinterface; scheme="{INFRA[:-1]}/networkinterface#"; class="mixin"',
                      f'X-OCCI-Attribute: occi.core.source="{compute}"',
                      'X-OCCI-Attribute: occi.core.target="/network/public-zone2"',
                      'X-OCCI-Attribute: occi.networkinterface.address="192.0.2.77"'])
    answer = client.post("/networkinterface/", body, headers=TEXT, status=400)
    assert "192.0.2.77 is not in the zone's public ranges (198.51.100.10-198.51.100.100)" in answer.text
    client.post("/networkinterface/", body.replace("192.0.2.77", "198.51.100.77"), headers=TEXT, status=201)
    assert "198.51.100.77" in [nic.get("occi.networkinterface.address") for nic in nics_of(client, compute)]
