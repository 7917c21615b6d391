"""Regions, zones, physical networks and VLAN ranges: the first steps of building a cloud, and
what the use cases refuse (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.model import CatalogGeneration, EventRecord, InventoryGeneration
from occistack.plane import admin
from occistack.plane.admin.networks import update_physical_network
from occistack.plane.errors import Conflict, InvalidRequest, NotFound

from tests.factories import GuestVlanFactory, VirtualMachineFactory
from tests.plane import admin_cloud


def events(session, action):
    return list(session.scalars(select(EventRecord).where(EventRecord.action == action)))


# --- regions and zones -----------------------------------------------------------------------------------

def test_a_zone_is_created_with_its_settings_and_an_event(session):
    region = admin.create_region(session, name="europe", title="Europe")
    zone = admin.create_zone(session, name="z1", title="Zone one", network_type="basic", guest_cidr="10.5.0.0/16",
                             dns=["8.8.8.8", " 2001:db8::53"], region="europe", actor=admin.Actor.admin("root", None))
    assert (zone.name, zone.title, zone.network_type, zone.guest_cidr) == ("z1", "Zone one", "basic", "10.5.0.0/16")
    assert zone.dns == "8.8.8.8,2001:db8::53" and zone.region_id == region.id and zone.enabled
    [event] = events(session, "zone.create")
    assert (event.state, event.resource_type, event.resource_id, event.actor) == ("completed", "zone", str(zone.id),
                                                                                  "admin:root")


def test_a_zone_bumps_the_catalog_and_inventory_generations(session):
    admin.create_zone(session, name="z1")
    assert session.get(CatalogGeneration, 1).generation >= 1
    assert session.get(InventoryGeneration, 1).generation >= 1


def test_zone_defaults(session):
    zone = admin.create_zone(session, name="z1")
    assert (zone.network_type, zone.guest_cidr, zone.dns, zone.region_id) == ("advanced", "10.1.1.0/24", None, None)


@pytest.mark.parametrize("options, message", [
    ({"name": ""}, "needs a name"),
    ({"name": "has space"}, "is not usable"),
    ({"name": "-dash"}, "is not usable"),
    ({"name": "z" * 65}, "too long"),
    ({"name": "z1", "network_type": "flat"}, "'flat' is not one of the accepted values: basic, advanced"),
    ({"name": "z1", "guest_cidr": "10.1.1.5/24"}, "has host bits set; the network is 10.1.1.0/24"),
    ({"name": "z1", "guest_cidr": "nonsense"}, "is not an IPv4 network in CIDR form"),
    ({"name": "z1", "guest_cidr": "10.1.1.0/31"}, "no room for a gateway"),
    ({"name": "z1", "dns": "8.8.8.8,not-an-ip"}, "DNS server 'not-an-ip' is not an IP address"),
])
def test_bad_zone_settings_are_refused(session, options, message):
    with pytest.raises(InvalidRequest, match=message):
        admin.create_zone(session, **options)


def test_zone_names_are_unique(session):
    admin.create_zone(session, name="z1")
    with pytest.raises(Conflict, match="a zone named 'z1' already exists"):
        admin.create_zone(session, name="z1")


def test_an_unknown_region_or_zone_is_named_with_those_that_exist(session):
    with pytest.raises(NotFound, match="no region named 'mars'; there are no regions yet"):
        admin.create_zone(session, name="z1", region="mars")
    admin.create_zone(session, name="z1")
    admin.create_zone(session, name="z2")
    with pytest.raises(NotFound, match="no zone named 'z9'; zones are: z1, z2"):
        admin.find_zone(session, "z9")
    with pytest.raises(NotFound, match="no zone with id 999"):
        admin.find_zone(session, 999)


def test_region_names_are_unique_and_a_region_with_zones_stays(session):
    admin.create_region(session, name="europe")
    with pytest.raises(Conflict, match="a region named 'europe' already exists"):
        admin.create_region(session, name="europe")
    admin.create_zone(session, name="z1", region="europe")
    with pytest.raises(Conflict, match="region 'europe' still has 1 zone; remove them first"):
        admin.remove_region(session, "europe")
    admin.remove_zone(session, "z1")
    admin.remove_region(session, "europe")
    assert admin.list_regions(session) == []


def test_enable_and_disable_a_zone_record_only_real_changes(session):
    admin.create_zone(session, name="z1")
    assert admin.disable_zone(session, "z1").enabled is False
    admin.disable_zone(session, "z1")
    assert len(events(session, "zone.disable")) == 1
    assert admin.enable_zone(session, "z1").enabled is True
    assert len(events(session, "zone.enable")) == 1


def test_a_zone_with_anything_in_it_cannot_be_removed(session):
    admin_cloud.rack(session)
    with pytest.raises(Conflict, match="zone 'z1' still has 1 pod, 1 cluster and 1 IP range; remove them first"):
        admin.remove_zone(session, "z1")


def test_a_zone_with_virtual_machines_cannot_be_removed(session):
    zone = admin.create_zone(session, name="z1")
    VirtualMachineFactory(session=session, zone_id=zone.id)
    with pytest.raises(Conflict, match="still has 1 virtual machine"):
        admin.remove_zone(session, "z1")


def test_an_empty_zone_is_removed(session):
    admin.create_zone(session, name="z1")
    admin.remove_zone(session, "z1")
    assert admin.list_zones(session) == []
    assert len(events(session, "zone.remove")) == 1


# --- physical networks and VLAN ranges --------------------------------------------------------------------

def test_a_physical_network_is_created_with_its_vlan_ranges(session):
    admin.create_zone(session, name="z1")
    network = admin.create_physical_network(session, zone="z1", name="pn1", traffic_types="guest, public",
                                            bridge="cloudbr0", vlan_ranges=["100-199", (300, 310), 400])
    assert (network.traffic_types, network.isolation, network.bridge) == ("guest,public", "VLAN", "cloudbr0")
    ranges = admin.list_vlan_ranges(session, physical_network="pn1", zone="z1")
    assert [(r.first_vlan, r.last_vlan) for r in ranges] == [(100, 199), (300, 310), (400, 400)]
    assert len(events(session, "vlan_range.add")) == 3


@pytest.mark.parametrize("first, last, message", [
    (5000, 5100, "VLAN range 5000-5100 is out of range: VLAN ids are 1 to 4094"),
    (0, 10, "out of range"),
    (4000, 4095, "out of range"),
    (200, 100, "VLAN range 200-100 is backwards"),
])
def test_vlan_ranges_out_of_range_or_backwards_are_refused(session, first, last, message):
    admin.create_zone(session, name="z1")
    admin.create_physical_network(session, zone="z1", name="pn1")
    with pytest.raises(InvalidRequest, match=message):
        admin.add_vlan_range(session, physical_network="pn1", zone="z1", first=first, last=last)


def test_vlan_ranges_of_one_zone_never_overlap_across_physical_networks(session):
    admin.create_zone(session, name="z1")
    admin.create_zone(session, name="z2")
    admin.create_physical_network(session, zone="z1", name="pn1", vlan_ranges=["100-199"])
    admin.create_physical_network(session, zone="z1", name="pn2", traffic_types=["guest", "storage"])
    with pytest.raises(Conflict, match="VLAN range 150-250 overlaps the range 100-199 of physical network 'pn1' in "
                                       "zone 'z1'"):
        admin.add_vlan_range(session, physical_network="pn2", zone="z1", first=150, last=250)
    with pytest.raises(Conflict, match="overlaps"):
        admin.add_vlan_range(session, physical_network="pn1", zone="z1", first=199, last=199)
    admin.add_vlan_range(session, physical_network="pn2", zone="z1", first=200, last=250)
    # Another zone's VLANs are its own business.
    admin.create_physical_network(session, zone="z2", name="pn1", vlan_ranges=["100-199"])


def test_physical_network_checks(session):
    admin.create_zone(session, name="z1")
    with pytest.raises(InvalidRequest, match="'video' is not one of the accepted values: guest, public"):
        admin.create_physical_network(session, zone="z1", name="pn1", traffic_types=["video"])
    with pytest.raises(InvalidRequest, match="at least one traffic type"):
        admin.create_physical_network(session, zone="z1", name="pn1", traffic_types=[])
    with pytest.raises(InvalidRequest, match="not a network interface name"):
        admin.create_physical_network(session, zone="z1", name="pn1", bridge="a-bridge-name-too-long")
    with pytest.raises(InvalidRequest, match="isolation method 'GRE' is not one of"):
        admin.create_physical_network(session, zone="z1", name="pn1", isolation="GRE")
    with pytest.raises(NotFound, match="no zone named 'z9'"):
        admin.create_physical_network(session, zone="z9", name="pn1")
    admin.create_physical_network(session, zone="z1", name="pn1", traffic_types=["guest", "public"])
    with pytest.raises(Conflict, match="a physical network named 'pn1' already exists in zone 'z1'"):
        admin.create_physical_network(session, zone="z1", name="pn1")
    with pytest.raises(Conflict, match="physical network 'pn1' already carries the public traffic"):
        admin.create_physical_network(session, zone="z1", name="pn2", traffic_types=["public"])
    flat = admin.create_physical_network(session, zone="z1", name="flat", isolation="none")
    with pytest.raises(InvalidRequest, match="is not isolated by VLAN"):
        admin.add_vlan_range(session, physical_network=flat.id, first=10, last=20)


def test_a_physical_network_named_without_its_zone_is_ambiguous(session):
    with pytest.raises(InvalidRequest, match="name the zone of physical network 'pn1'"):
        admin.find_physical_network(session, "pn1")


def test_a_vlan_range_in_use_stays_and_a_free_one_goes(session):
    admin.create_zone(session, name="z1")
    network = admin.create_physical_network(session, zone="z1", name="pn1", vlan_ranges=["100-199", "300-310"])
    used, free = admin.list_vlan_ranges(session, physical_network=network.id)
    GuestVlanFactory(session=session, physical_network_id=network.id, vlan=150)
    with pytest.raises(Conflict, match="VLAN range 100-199 still has 1 guest network VLAN"):
        admin.remove_vlan_range(session, used.id)
    with pytest.raises(Conflict, match="physical network 'pn1' still has 1 guest network"):
        admin.remove_physical_network(session, "pn1", zone="z1")
    admin.remove_vlan_range(session, free.id)
    assert [r.id for r in admin.list_vlan_ranges(session, zone="z1")] == [used.id]


def test_a_physical_network_goes_with_its_vlan_ranges(session):
    admin.create_zone(session, name="z1")
    admin.create_physical_network(session, zone="z1", name="pn1", vlan_ranges=["100-199"])
    admin.remove_physical_network(session, "pn1", zone="z1")
    assert admin.list_physical_networks(session) == [] and admin.list_vlan_ranges(session) == []


@pytest.mark.parametrize("spec, bounds", [("100-199", (100, 199)), ("7", (7, 7)), (7, (7, 7)), ([1, 2], (1, 2))])
def test_vlan_range_spellings(spec, bounds):
    assert admin.vlan_bounds(spec) == bounds


@pytest.mark.parametrize("spec", ["a-b", "", [1], [1, "2"], True, None])
def test_vlan_range_spellings_that_mean_nothing(spec):
    with pytest.raises(InvalidRequest, match="is not FIRST-LAST"):
        admin.vlan_bounds(spec)


# --- updates ----------------------------------------------------------------------------------------

def test_a_physical_network_is_rewired_only_while_no_guest_network_uses_it(session):
    admin.create_zone(session, name="z1")
    network = admin.create_physical_network(session, zone="z1", name="pn1", vlan_ranges=["100-199"])
    admin.create_physical_network(session, zone="z1", name="pn2", traffic_types="public")
    changed = update_physical_network(session, "pn1", zone="z1", name="guests", traffic_types="guest,storage",
                                      bridge="cloudbr1")
    assert (changed.name, changed.traffic_types, changed.bridge) == ("guests", "guest,storage", "cloudbr1")
    [event] = admin.list_events(session, action="physical_network.update")
    assert event.description == "physical network 'guests': bridge, name, traffic_types"
    with pytest.raises(Conflict, match="physical network 'pn2' already carries the public traffic"):
        update_physical_network(session, network.id, traffic_types=["guest", "public"])
    with pytest.raises(InvalidRequest, match="is not a network interface name"):
        update_physical_network(session, network.id, bridge="a bridge")
    GuestVlanFactory(session=session, physical_network_id=network.id, vlan=100)
    with pytest.raises(Conflict, match="physical network 'guests' keeps its bridge: 1 guest network is plugged "
                                       "into it"):
        update_physical_network(session, network.id, bridge=None)
    assert update_physical_network(session, network.id, name="pn1").name == "pn1"
