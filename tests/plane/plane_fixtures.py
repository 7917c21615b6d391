"""Small inventories for the management plane's tests: a zone with one pod and cluster, and
hosts added to it by name."""

from __future__ import annotations

from sqlalchemy import select

from occistack.model import Cluster, Zone
from occistack.model.states import HostStatus
from tests.factories import ClusterFactory, HostFactory, PodFactory, ZoneFactory


def add_host(session_factory, name: str, *, cores: int = 8, mhz: int = 2000, memory_mib: int = 16384,
             status: HostStatus = HostStatus.UP) -> int:
    """A host (and, the first time, its zone ``z``, pod and cluster); its id."""
    with session_factory() as session, session.begin():
        cluster = session.scalar(select(Cluster).join(Zone, Zone.id == Cluster.zone_id).where(Zone.name == "z"))
        if cluster is None:
            zone = ZoneFactory(session=session, name="z")
            pod = PodFactory(session=session, zone_id=zone.id, name="p", cidr="10.9.0.0/24", gateway="10.9.0.1")
            cluster = ClusterFactory(session=session, pod_id=pod.id, name="c")
        return HostFactory(session=session, cluster_id=cluster.id, name=name, address="10.9.0.5", cpu_cores=cores,
                           cpu_mhz=mhz, memory_mib=memory_mib, status=status).id
