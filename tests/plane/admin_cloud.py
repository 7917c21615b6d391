"""What the admin use-case tests share: small builders -- a zone with a pod and a cluster, a
host, and the rows that make infrastructure "in use" (a virtual machine, a guest VLAN, an
allocated address), which the admin use cases never create themselves. Their ``session``
fixture is in tests/plane/conftest.py.
"""

from __future__ import annotations

import itertools

from occistack.model import (
    GuestVlan,
    IpAllocation,
    Network,
    OsTemplate,
    Project,
    VirtualMachine,
    Volume,
)
from occistack.model.states import NetworkState, VmState, VolumeState
from occistack.plane import admin

_numbers = itertools.count(1)


def rack(session, zone: str = "z1", pod: str = "p1", cluster: str = "c1", third_octet: int = 1):
    """A zone (created if missing) with one pod (10.0.<n>.0/24) and one KVM cluster."""
    if not any(row.name == zone for row in admin.list_zones(session)):
        admin.create_zone(session, name=zone)
    the_pod = admin.create_pod(session, zone=zone, name=pod, cidr=f"10.0.{third_octet}.0/24",
                               gateway=f"10.0.{third_octet}.1", management_first=f"10.0.{third_octet}.10",
                               management_last=f"10.0.{third_octet}.50")
    the_cluster = admin.create_cluster(session, zone=zone, pod=pod, name=cluster)
    return admin.find_zone(session, zone), the_pod, the_cluster


def host(session, name: str = "h1", *, zone: str = "z1", pod: str = "p1", cluster: str = "c1", **options):
    # Each host has an address of its own (two hosts with one address are refused).
    values = {"address": f"10.0.1.{20 + next(_numbers) % 200}", "cpu_cores": 8, "cpu_mhz": 2000,
              "memory_mib": 16384, **options}
    return admin.add_host(session, zone=zone, pod=pod, cluster=cluster, name=name, **values)


def project(session, name: str | None = None) -> Project:
    row = Project(name=name or f"project{next(_numbers)}")
    session.add(row)
    session.flush()
    return row


def template(session) -> OsTemplate:
    row = OsTemplate(term=f"image{next(_numbers)}", title="an image", extra_attributes={})
    session.add(row)
    session.flush()
    return row


def virtual_machine(session, *, host_id: int | None = None, zone_id: int | None = None,
                    storage_pool_id: int | None = None, offering_id: int | None = None) -> VirtualMachine:
    owner = project(session)
    row = VirtualMachine(id=f"vm-{next(_numbers)}", project_id=owner.id, cores=1, memory_gib=1.0,
                         template_id=template(session).id, host_id=host_id, zone_id=zone_id,
                         storage_pool_id=storage_pool_id, offering_id=offering_id, state=VmState.RUNNING)
    session.add(row)
    session.flush()
    return row


def volume(session, *, storage_pool_id: int, zone_id: int) -> Volume:
    row = Volume(id=f"vol-{next(_numbers)}", project_id=project(session).id, size_gib=10.0, zone_id=zone_id,
                 storage_pool_id=storage_pool_id, state=VolumeState.ONLINE)
    session.add(row)
    session.flush()
    return row


def guest_vlan(session, physical_network, vlan: int) -> GuestVlan:
    network = Network(id=f"net-{next(_numbers)}", project_id=project(session).id, vlan=vlan,
                      zone_id=physical_network.zone_id, physical_network_id=physical_network.id,
                      state=NetworkState.ACTIVE)
    session.add(network)
    session.flush()
    row = GuestVlan(physical_network_id=physical_network.id, vlan=vlan, network_id=network.id)
    session.add(row)
    session.flush()
    return row


def allocate(session, ip_range, offset: int = 0) -> IpAllocation:
    from ipaddress import IPv4Address

    number = ip_range.first_number + offset
    row = IpAllocation(zone_id=ip_range.zone_id, range_id=ip_range.id, address=str(IPv4Address(number)),
                       number=number)
    session.add(row)
    session.flush()
    return row
