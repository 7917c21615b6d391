"""What the admin use-case tests share: a zone with a pod and a cluster, and hosts, built
through the admin use cases as an administrator builds them. The rows that make infrastructure
"in use" (a virtual machine, a guest VLAN, an allocated address), which the admin use cases
never create themselves, come from tests/factories.py; the ``session`` fixture is in
tests/plane/conftest.py.
"""

from __future__ import annotations

import itertools

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
