"""Demo data for the embedded default: a zone with its infrastructure (physical network, pod,
cluster, two hosts, primary and secondary storage, a public IP range), OS templates (tiny images
built locally, see demo_images.py), site offerings, a shared public network, and a project with
the user ``demo`` (password ``demo``).

``make setup`` runs ``occistack demo`` every time, which seeds only a database nobody has set
up yet (:func:`database_is_empty`): what an administrator deleted of the demo stays deleted.
:func:`seed_demo` itself adds whatever is missing (``occistack demo --force``, the tests)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.demo_images import build_image
from occistack.model import (
    Cluster,
    Host,
    IpRange,
    Network,
    OsTemplate,
    PhysicalNetwork,
    Pod,
    Project,
    SecondaryStorage,
    ServiceOffering,
    StoragePool,
    TemplateCopy,
    User,
    VlanRange,
    Zone,
)
from occistack.model.states import NetworkState
from occistack.model.template_states import TemplateCopyState, TemplateState
from occistack.plane.admin import register_template
from occistack.plane.admin.users import create_user
from occistack.plane.jobs.queue import JobDispatcher

DEMO_TEMPLATES = (
    # term, title, OS family/name/version, minimum memory GiB, disk GiB
    ("debian-12", "Debian 12 (bookworm) cloud image", "linux", "Debian", "12", 0.5, 2.0),
    ("ubuntu-24.04", "Ubuntu 24.04 LTS (noble) cloud image", "linux", "Ubuntu", "24.04", 1.0, 3.5),
    ("cirros-0.6", "CirrOS 0.6 test image", "linux", "CirrOS", "0.6", 0.125, 0.1),
)
DEMO_OFFERINGS = (
    # term, title, cores, memory GiB, disk GiB
    ("tiny", "Tiny: 1 core, 512 MiB", 1, 0.5, 5.0),
    ("xlarge", "Extra large: 8 cores, 16 GiB", 8, 16.0, 80.0),
)


def database_is_empty(session: Session) -> bool:
    """No zone, no project and no user: nobody has set this database up yet (the rows the
    migrations write -- the root domain, the generation counters -- do not count)."""
    return all(session.scalar(select(table.id).limit(1)) is None for table in (Zone, Project, User))


@dataclass(frozen=True)
class DemoSummary:
    user: str
    password: str
    project: str
    created: tuple[str, ...]


def seed_demo(session: Session, user_name: str = "demo", password: str = "demo",
              project_name: str = "demo", directory: str | Path | None = None) -> DemoSummary:
    """With ``directory`` (``make setup``: the embedded default's ``var/``), the zone's secondary
    storage is ``directory/secondary`` and the demo templates are images built in
    ``directory/images``, registered by file:// URL and checksum: the server downloads them
    when it starts. Without it (tests with in-memory hosts), the templates are seeded ready."""
    created: list[str] = []
    zone = session.scalar(select(Zone).where(Zone.name == "zone1"))
    if zone is None:
        zone = Zone(name="zone1", title="Demo availability zone", network_type="advanced")
        session.add(zone)
        session.flush()
        created.append("zone zone1")
    created += _seed_infrastructure(session, zone, directory)
    created += _seed_templates(session, zone, directory)
    for term, title, cores, memory, disk in DEMO_OFFERINGS:
        if session.scalar(select(ServiceOffering).where(ServiceOffering.term == term)) is None:
            session.add(ServiceOffering(term=term, title=title, cores=cores, memory_gib=memory, disk_gib=disk))
            created.append(f"offering {term}")
    if session.get(Network, "public") is None:
        session.add(Network(id="public", project_id=None, title="Public network", address="192.0.2.0/24",
                            gateway="192.0.2.1", allocation="dynamic", public=True, zone_id=zone.id,
                            state=NetworkState.ACTIVE))
        created.append("shared network /network/public")
    project = session.scalar(select(Project).where(Project.name == project_name))
    if project is None:
        project = Project(name=project_name, title="Demo project")
        session.add(project)
        session.flush()
        created.append(f"project {project_name}")
    if session.scalar(select(User).where(User.name == user_name)) is None:
        # The demo's well-known password is shorter than any site minimum: allowed here only.
        create_user(session, name=user_name, password=password, project=project.id, short_password_allowed=True)
        created.append(f"user {user_name}")
    session.flush()
    return DemoSummary(user_name, password, project_name, tuple(created))


#: The demo zone's hosts: simulated two-socket servers, as their in-process agents report them.
DEMO_HOSTS = ("host1", "host2")


def _seed_templates(session: Session, zone: Zone, directory: str | Path | None) -> list[str]:
    created: list[str] = []
    for term, title, family, name, version, memory, disk in DEMO_TEMPLATES:
        if session.scalar(select(OsTemplate).where(OsTemplate.term == term)) is not None:
            continue
        if directory is None:
            template = OsTemplate(term=term, title=title, os_family=family, os_name=name, os_version=version,
                                  architecture="x64", min_cores=1, min_memory_gib=memory, size_gib=disk,
                                  extra_attributes={}, state=str(TemplateState.READY))
            session.add(template)
            session.flush()
            # Held by the in-memory hosts themselves: a ready copy in the zone, in no store.
            session.add(TemplateCopy(template_id=template.id, zone_id=zone.id, state=str(TemplateCopyState.READY),
                                     progress=100, size_gib=disk))
            created.append(f"OS template {term}")
            continue
        image = build_image(Path(directory) / "images", term)
        register_template(session, term=term, url=image.url, checksum=image.checksum, zone=zone.id, title=title,
                          os_family=family, os_name=name, os_version=version, min_memory_gib=memory,
                          size_gib=disk, dispatcher=JobDispatcher())
        created.append(f"OS template {term} (the server downloads it from {image.url})")
    return created


def _seed_infrastructure(session: Session, zone: Zone, directory: str | Path | None = None) -> list[str]:
    """What a CloudStack administrator sets up in a zone, in their order: a physical network
    with guest VLANs, a pod, a cluster, two KVM hosts, primary and secondary storage and a
    public IP range."""
    created: list[str] = []
    if session.scalar(select(PhysicalNetwork).where(PhysicalNetwork.zone_id == zone.id)) is None:
        physical = PhysicalNetwork(zone_id=zone.id, name="physnet1", traffic_types="guest,public,management",
                                   bridge="cloudbr0")
        session.add(physical)
        session.flush()
        session.add(VlanRange(physical_network_id=physical.id, first_vlan=100, last_vlan=999))
        created.append("physical network physnet1 with guest VLANs 100-999")
    pod = session.scalar(select(Pod).where(Pod.zone_id == zone.id, Pod.name == "pod1"))
    if pod is None:
        pod = Pod(zone_id=zone.id, name="pod1", cidr="10.0.0.0/24", gateway="10.0.0.1")
        session.add(pod)
        session.flush()
        created.append("pod pod1")
    cluster = session.scalar(select(Cluster).where(Cluster.pod_id == pod.id, Cluster.name == "cluster1"))
    if cluster is None:
        cluster = Cluster(zone_id=zone.id, pod_id=pod.id, name="cluster1", hypervisor="KVM")
        session.add(cluster)
        session.flush()
        created.append("cluster cluster1")
    for number, name in enumerate(DEMO_HOSTS, start=11):
        if session.scalar(select(Host).where(Host.name == name)) is None:
            session.add(Host(name=name, zone_id=zone.id, pod_id=pod.id, cluster_id=cluster.id,
                             address=f"10.0.0.{number}", cpu_sockets=2, cpu_cores=16, cpu_mhz=2400,
                             memory_mib=65536, cpu_overcommit=4.0, memory_overcommit=1.5))
            created.append(f"host {name}")
    if session.scalar(select(StoragePool).where(StoragePool.zone_id == zone.id)) is None:
        session.add(StoragePool(zone_id=zone.id, pod_id=pod.id, cluster_id=cluster.id, name="primary1",
                                protocol="filesystem", path="/var/lib/occistack/primary", capacity_gib=4096,
                                overprovisioning=2.0))
        created.append("primary storage primary1")
    if session.scalar(select(SecondaryStorage).where(SecondaryStorage.zone_id == zone.id)) is None:
        # In the embedded default, a local directory that its simulated hosts write to.
        url = "nfs://127.0.0.1/export/secondary"
        if directory is not None:
            (Path(directory) / "secondary").mkdir(parents=True, exist_ok=True)
            url = (Path(directory) / "secondary").resolve().as_uri()
        session.add(SecondaryStorage(zone_id=zone.id, name="secondary1", url=url, capacity_gib=1024))
        created.append(f"secondary storage secondary1 ({url})")
    if session.scalar(select(IpRange).where(IpRange.zone_id == zone.id, IpRange.purpose == "public")) is None:
        session.add(IpRange(zone_id=zone.id, purpose="public", first_address="192.0.2.10",
                            last_address="192.0.2.250", first_number=_number("192.0.2.10"),
                            last_number=_number("192.0.2.250"), gateway="192.0.2.1", prefix_length=24))
        created.append("public IP range 192.0.2.10-192.0.2.250")
    session.flush()
    return created


def _number(address: str) -> int:
    return int(ipaddress.ip_address(address))
