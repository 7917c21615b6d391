"""Demo data for the embedded default: a zone, OS templates, site offerings, a shared public
network, and a project with the user ``demo`` (password ``demo``). Idempotent: it adds only
what is missing, so ``make setup`` can run it every time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .federation import hash_password
from .model import Network, OsTemplate, Project, ServiceOffering, User, Zone
from .model.states import NetworkState

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


@dataclass(frozen=True)
class DemoSummary:
    user: str
    password: str
    project: str
    created: tuple[str, ...]


def seed_demo(session: Session, user_name: str = "demo", password: str = "demo",
              project_name: str = "demo") -> DemoSummary:
    created: list[str] = []
    if session.scalar(select(Zone).where(Zone.name == "zone1")) is None:
        session.add(Zone(name="zone1", title="Demo availability zone"))
        created.append("zone zone1")
    for term, title, family, name, version, memory, disk in DEMO_TEMPLATES:
        if session.scalar(select(OsTemplate).where(OsTemplate.term == term)) is None:
            session.add(OsTemplate(term=term, title=title, os_family=family, os_name=name, os_version=version,
                                   architecture="x64", min_cores=1, min_memory_gib=memory, size_gib=disk,
                                   extra_attributes={}, state="ready"))
            created.append(f"OS template {term}")
    for term, title, cores, memory, disk in DEMO_OFFERINGS:
        if session.scalar(select(ServiceOffering).where(ServiceOffering.term == term)) is None:
            session.add(ServiceOffering(term=term, title=title, cores=cores, memory_gib=memory, disk_gib=disk))
            created.append(f"offering {term}")
    if session.get(Network, "public") is None:
        session.add(Network(id="public", project_id=None, title="Public network", address="192.0.2.0/24",
                            gateway="192.0.2.1", allocation="dynamic", public=True, state=NetworkState.ACTIVE))
        created.append("shared network /network/public")
    project = session.scalar(select(Project).where(Project.name == project_name))
    if project is None:
        project = Project(name=project_name, title="Demo project")
        session.add(project)
        session.flush()
        created.append(f"project {project_name}")
    if session.scalar(select(User).where(User.name == user_name)) is None:
        session.add(User(name=user_name, password_hash=hash_password(password), project_id=project.id))
        created.append(f"user {user_name}")
    session.flush()
    return DemoSummary(user_name, password, project_name, tuple(created))
