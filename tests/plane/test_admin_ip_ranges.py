"""Public and management IP ranges: inside their subnet, never overlapping another range of the
zone, and removable only while none of their addresses is in use."""

from __future__ import annotations

import pytest

from occistack.plane import admin
from occistack.plane.admin.addresses import update_ip_range
from occistack.plane.errors import Conflict, InvalidRequest, NotFound

from tests.factories import IpAllocationFactory
from tests.plane import admin_cloud

PUBLIC = {"zone": "z1", "purpose": "public", "gateway": "203.0.113.1", "prefix_length": 24}


def test_a_public_range_is_added(session):
    zone = admin.create_zone(session, name="z1")
    ip_range = admin.add_ip_range(session, first="203.0.113.10", last="203.0.113.100", vlan=42, **PUBLIC)
    assert (ip_range.zone_id, ip_range.pod_id, ip_range.purpose, ip_range.vlan) == (zone.id, None, "public", 42)
    assert (ip_range.first_number, ip_range.size) == (int.from_bytes(bytes([203, 0, 113, 10]), "big"), 91)
    [event] = admin.list_events(session, action="ip_range.add")
    assert "public IP range 203.0.113.10-203.0.113.100 in zone 'z1'" == event.description


@pytest.mark.parametrize("first, last, options, message", [
    ("203.0.113.100", "203.0.113.10", {}, "IP range 203.0.113.100-203.0.113.10 is backwards"),
    ("203.0.113.10", "203.0.114.10", {}, "is not inside the subnet 203.0.113.0/24 of its gateway"),
    ("203.0.113.0", "203.0.113.0", {}, "includes the network or broadcast address"),
    ("203.0.113.200", "203.0.113.255", {}, "includes the network or broadcast address"),
    ("203.0.113.1", "203.0.113.10", {}, "contains its gateway 203.0.113.1"),
    ("203.0.113.10", "203.0.113.20", {"gateway": "203.0.113.0"}, "is the network address"),
    ("203.0.113.10", "203.0.113.20", {"gateway": "2001:db8::1"}, "is not an IPv4 address"),
    ("203.0.113.10", "203.0.113.20", {"prefix_length": 33}, "the prefix length must be from 1 to 30"),
    ("203.0.113.10", "203.0.113.20", {"vlan": 4095}, "the VLAN of an IP range must be from 1 to 4094"),
    ("203.0.113.10", "nonsense", {}, "the last address 'nonsense' is not an IPv4 address"),
    ("203.0.113.10", "203.0.113.20", {"purpose": "private"}, "IP range purpose 'private' is not one of"),
    ("203.0.113.10", "203.0.113.20", {"gateway": None}, "needs its gateway and prefix length"),
    ("203.0.113.10", "203.0.113.20", {"pod": "p1"}, "belongs to the whole zone, not to a pod"),
])
def test_bad_public_ranges_are_refused(session, first, last, options, message):
    admin.create_zone(session, name="z1")
    with pytest.raises(InvalidRequest, match=message):
        admin.add_ip_range(session, first=first, last=last, **{**PUBLIC, **options})


def test_ranges_of_a_zone_never_overlap(session):
    admin.create_zone(session, name="z1")
    admin.create_zone(session, name="z2")
    admin.add_ip_range(session, first="10.0.0.1", last="10.0.0.20", zone="z1", purpose="public", gateway="10.0.0.254",
                       prefix_length=24)
    with pytest.raises(Conflict, match="IP range 10.0.0.10-10.0.0.50 overlaps the public range 10.0.0.1-10.0.0.20 "
                                       "of zone 'z1'"):
        admin.add_ip_range(session, first="10.0.0.10", last="10.0.0.50", zone="z1", purpose="public",
                           gateway="10.0.0.254", prefix_length=24)
    admin.add_ip_range(session, first="10.0.0.21", last="10.0.0.50", zone="z1", purpose="public",
                       gateway="10.0.0.254", prefix_length=24)
    # A public address is routed to one zone: another zone cannot have it too (issue 12).
    with pytest.raises(Conflict, match="public IP range 10.0.0.40-10.0.0.60 overlaps the public range "
                                       "10.0.0.21-10.0.0.50 of zone 'z1'; a public address belongs to one zone"):
        admin.add_ip_range(session, first="10.0.0.40", last="10.0.0.60", zone="z2", purpose="public",
                           gateway="10.0.0.254", prefix_length=24)
    admin.add_ip_range(session, first="10.0.0.51", last="10.0.0.60", zone="z2", purpose="public",
                       gateway="10.0.0.254", prefix_length=24)


def test_a_public_range_stays_out_of_every_pods_management_subnet(session):
    admin_cloud.rack(session)  # pod p1 of zone z1 manages 10.0.1.0/24
    admin.create_zone(session, name="z2")
    for zone in ("z1", "z2"):
        with pytest.raises(Conflict, match="public IP range 10.0.1.100-10.0.1.120 lies in the management subnet "
                                           "10.0.1.0/24 of pod 'p1' in zone 'z1'"):
            admin.add_ip_range(session, first="10.0.1.100", last="10.0.1.120", zone=zone, purpose="public",
                               gateway="10.0.1.254", prefix_length=24)
    admin.add_ip_range(session, first="10.0.2.100", last="10.0.2.120", zone="z2", purpose="public",
                       gateway="10.0.2.254", prefix_length=24)
    # ... and a pod cannot take a subnet with public addresses in it either.
    with pytest.raises(Conflict, match="the pod CIDR 10.0.2.0/24 contains the public IP range "
                                       "10.0.2.100-10.0.2.120; a management subnet holds no public addresses"):
        admin.create_pod(session, zone="z1", name="p2", cidr="10.0.2.0/24", gateway="10.0.2.1")


def test_a_management_range_takes_its_pods_subnet(session):
    admin_cloud.rack(session)
    with pytest.raises(InvalidRequest, match="a management IP range belongs to a pod"):
        admin.add_ip_range(session, zone="z1", purpose="management", first="10.0.1.60", last="10.0.1.70")
    with pytest.raises(InvalidRequest, match="uses its pod's gateway 10.0.1.1; got 10.0.1.254"):
        admin.add_ip_range(session, zone="z1", pod="p1", purpose="management", first="10.0.1.60", last="10.0.1.70",
                           gateway="10.0.1.254")
    with pytest.raises(InvalidRequest, match="uses its pod's prefix length 24"):
        admin.add_ip_range(session, zone="z1", pod="p1", purpose="management", first="10.0.1.60", last="10.0.1.70",
                           prefix_length=16)
    with pytest.raises(NotFound, match="no pod named 'p2' in zone 'z1'"):
        admin.add_ip_range(session, zone="z1", pod="p2", purpose="management", first="10.0.1.60", last="10.0.1.70")


def test_a_range_with_allocated_addresses_stays(session):
    admin.create_zone(session, name="z1")
    ip_range = admin.add_ip_range(session, first="203.0.113.10", last="203.0.113.20", **PUBLIC)
    IpAllocationFactory(session=session, range_id=ip_range.id)
    IpAllocationFactory(session=session, range_id=ip_range.id, offset=1)
    with pytest.raises(Conflict, match="IP range 203.0.113.10-203.0.113.20 still has 2 allocated addresses"):
        admin.remove_ip_range(session, ip_range.id)


def test_a_free_range_is_removed_and_ranges_are_listed(session):
    admin_cloud.rack(session)
    public = admin.add_ip_range(session, first="203.0.113.10", last="203.0.113.20", **PUBLIC)
    assert [r.purpose for r in admin.list_ip_ranges(session, zone="z1")] == ["management", "public"]
    assert [r.id for r in admin.list_ip_ranges(session, purpose="public")] == [public.id]
    assert [r.purpose for r in admin.list_ip_ranges(session, zone="z1", pod="p1")] == ["management"]
    admin.remove_ip_range(session, public.id)
    assert [r.purpose for r in admin.list_ip_ranges(session)] == ["management"]
    with pytest.raises(NotFound, match=f"no IP range with id {public.id}"):
        admin.remove_ip_range(session, public.id)


# --- updates ----------------------------------------------------------------------------------------

def test_a_range_grows_and_shrinks_around_the_addresses_handed_out(session):
    admin.create_zone(session, name="z1")
    ip_range = admin.add_ip_range(session, first="203.0.113.10", last="203.0.113.20", vlan=42, **PUBLIC)
    IpAllocationFactory(session=session, range_id=ip_range.id, offset=5)
    grown = update_ip_range(session, ip_range.id, first="203.0.113.5", last="203.0.113.100")
    assert (grown.first_address, grown.last_address, grown.size) == ("203.0.113.5", "203.0.113.100", 96)
    [event] = admin.list_events(session, action="ip_range.update")
    assert event.description == "ip range 203.0.113.10-203.0.113.20: first_address, first_number, last_address, " \
                                "last_number"
    with pytest.raises(Conflict, match="IP range 203.0.113.5-203.0.113.100 cannot become 203.0.113.16-203.0.113.100: "
                                       "the address 203.0.113.15 is handed out from it"):
        update_ip_range(session, ip_range.id, first="203.0.113.16")
    with pytest.raises(Conflict, match="keeps its VLAN 42: 1 of its addresses is handed out on it"):
        update_ip_range(session, ip_range.id, vlan=None)


def test_new_bounds_are_checked_as_a_new_range_is(session):
    admin.create_zone(session, name="z1")
    ip_range = admin.add_ip_range(session, first="203.0.113.10", last="203.0.113.20", **PUBLIC)
    admin.add_ip_range(session, first="203.0.113.50", last="203.0.113.60", **PUBLIC)
    with pytest.raises(Conflict, match="overlaps the public range 203.0.113.50-203.0.113.60"):
        update_ip_range(session, ip_range.id, last="203.0.113.55")
    with pytest.raises(InvalidRequest, match="contains its gateway 203.0.113.1"):
        update_ip_range(session, ip_range.id, first="203.0.113.1")
    with pytest.raises(InvalidRequest, match="is backwards"):
        update_ip_range(session, ip_range.id, first="203.0.113.30")
    with pytest.raises(NotFound):
        update_ip_range(session, 999999, vlan=7)
    assert update_ip_range(session, ip_range.id, vlan=7).vlan == 7
