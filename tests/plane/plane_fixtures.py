"""Small inventories for the management plane's tests: a zone with one pod and cluster, and
hosts added to it by name."""

from __future__ import annotations

from sqlalchemy import select

from occistack.model import Cluster, Host, Pod, Zone
from occistack.model.states import HostStatus


def add_host(session_factory, name: str, *, cores: int = 8, mhz: int = 2000, memory_mib: int = 16384,
             status: HostStatus = HostStatus.UP) -> int:
    """A host (and, the first time, its zone ``z``, pod and cluster); its id."""
    with session_factory() as session, session.begin():
        zone = session.scalar(select(Zone).where(Zone.name == "z"))
        if zone is None:
            zone = Zone(name="z")
            session.add(zone)
            session.flush()
            pod = Pod(zone_id=zone.id, name="p", cidr="10.9.0.0/24", gateway="10.9.0.1")
            session.add(pod)
            session.flush()
            session.add(Cluster(zone_id=zone.id, pod_id=pod.id, name="c"))
            session.flush()
        cluster = session.scalar(select(Cluster).where(Cluster.zone_id == zone.id))
        host = Host(name=name, zone_id=zone.id, pod_id=cluster.pod_id, cluster_id=cluster.id, address="10.9.0.5",
                    cpu_cores=cores, cpu_mhz=mhz, memory_mib=memory_mib, status=status)
        session.add(host)
        session.flush()
        return host.id
