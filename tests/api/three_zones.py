"""A cloud of three zones for the tests of issue 12 (zones kept apart, default networks): the
demo's zone1, zone2 built as an administrator builds a zone (with a public IP range, which
gives it its shared public network ``/network/public-zone2``), and zone3 with no public range
at all. Every zone has a host (with its in-process agent) and primary storage, so a compute
of any zone goes active.

A test module has its ``world`` seeded so with ``WORLD_SEED = seed_three_zones``.
"""

from __future__ import annotations

from sqlalchemy import select

from occistack.demo import seed_demo
from occistack.model import OsTemplate
from occistack.plane import admin
from tests.factories import TemplateCopyFactory

#: zone → (third octet of its pod's subnet, its guest VLANs, its public range or None)
ZONES = {
    "zone2": (2, "1000-1099", ("198.51.100.10", "198.51.100.100", "198.51.100.1")),
    "zone3": (3, "1100-1199", None),
}


def build_zone(session, zone: str) -> None:
    octet, vlans, public = ZONES[zone]
    admin.create_zone(session, name=zone, network_type="advanced")
    admin.create_physical_network(session, zone=zone, name=f"physnet-{zone}",
                                  traffic_types="guest,public,management", vlan_ranges=[vlans])
    admin.create_pod(session, zone=zone, name=f"pod-{zone}", cidr=f"10.0.{octet}.0/24", gateway=f"10.0.{octet}.1")
    admin.create_cluster(session, zone=zone, pod=f"pod-{zone}", name=f"cluster-{zone}")
    admin.add_host(session, zone=zone, pod=f"pod-{zone}", cluster=f"cluster-{zone}", name=f"{zone}-host",
                   address=f"10.0.{octet}.21", cpu_sockets=2, cpu_cores=16, cpu_mhz=2400, memory_mib=65536)
    admin.add_storage_pool(session, zone=zone, pod=f"pod-{zone}", cluster=f"cluster-{zone}", name=f"primary-{zone}",
                           protocol="filesystem", path=f"/var/lib/occistack/{zone}", capacity_gib=2000)
    admin.add_secondary_storage(session, zone=zone, name=f"secondary-{zone}",
                                url=f"nfs://10.0.{octet}.5/export/secondary", capacity_gib=500)
    # A compute boots only from a copy of its template in its own zone: the demo's are there.
    zone_id = admin.find_zone(session, zone).id
    for template in session.scalars(select(OsTemplate).where(OsTemplate.project_id.is_(None))):
        TemplateCopyFactory(session=session, template_id=template.id, zone_id=zone_id)
    if public is not None:
        first, last, gateway = public
        admin.add_ip_range(session, zone=zone, purpose="public", first=first, last=last, gateway=gateway,
                           prefix_length=24)


def seed_three_zones(session) -> None:
    """The demo catalog (zone1), then zone2 and zone3."""
    seed_demo(session)
    for zone in ZONES:
        build_zone(session, zone)
