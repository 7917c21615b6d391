"""The network a compute created without a network link joins (what rOCCI-cli, VMDIRAC and the
Infrastructure Manager send), in the compute's zone:

1. the project's default network there, if it chose one (its users through OCCI, or the site
   administrator);
2. else the zone's shared public network;
3. else the project's only network in the zone.

Only when none of these exists is the create refused, with what to do about it. A project has
at most one default network per zone (``project_default_networks``' key).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.orm import Session

from occistack.model import Network, ProjectDefaultNetwork, Zone
from occistack.model.states import NetworkState
from occistack.plane.admin.common import SYSTEM, Actor, Ref, record_change
from occistack.plane.admin.lookup import find_project, find_zone
from occistack.plane.caller import Caller
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.zones import zone_name

#: How a user or an administrator makes a network the default, in the words of a refusal.
HOW_TO_CHOOSE = ("make one the project's default network (OCCI: apply the mixin network#default of this site's "
                 "scheme to it; admin: occistack project default-network)")

_SHARED_PUBLIC_FIRST = case((and_(Network.public.is_(True), Network.project_id.is_(None)), 0), else_=1)
#: The candidates, best first: the chosen one, the zone's public network, then the oldest. Built
#: once, as the other statements of a create are; one query, whose networks add_nic then finds
#: in the session.
_CANDIDATES = (
    select(Network, ProjectDefaultNetwork.network_id.is_not(None).label("chosen"))
    .outerjoin(ProjectDefaultNetwork, and_(ProjectDefaultNetwork.network_id == Network.id,
                                           ProjectDefaultNetwork.project_id == bindparam("project"),
                                           ProjectDefaultNetwork.zone_id == bindparam("zone")))
    .where(or_(Network.project_id == bindparam("project"), Network.project_id.is_(None)),
           or_(Network.zone_id == bindparam("zone"), Network.zone_id.is_(None)),
           Network.state.not_in((NetworkState.DESTROYING, NetworkState.ERROR)))
    .order_by(ProjectDefaultNetwork.network_id.is_(None), _SHARED_PUBLIC_FIRST, Network.created_at, Network.id)
    .limit(6)
)


def default_network(session: Session, caller: Caller, zone_id: int | None) -> Network:
    """The network a link-less compute of ``caller``'s project joins in zone ``zone_id``."""
    rows = session.execute(_CANDIDATES, {"project": caller.project_id, "zone": zone_id}).all()
    if rows:
        best, chosen = rows[0]
        if chosen or (best.public and best.project_id is None) or len(rows) == 1:
            return best
    # Refused: named only now, so that a create that finds its network reads no zone.
    where = f" in zone {zone_name(session, zone_id)}" if zone_id is not None else ""
    if not rows:
        in_the_zone = f" with the availability_zone mixin {zone_name(session, zone_id)}" if zone_id is not None else ""
        raise Conflict(f"there is no network{where} for the compute to join: link it to a network, create one"
                       f"{in_the_zone}, or ask the site administrator for a public IP range{where}, which gives "
                       "the zone its shared public network")
    listed = ", ".join(network.id for network, _ in rows[:5])
    raise Conflict(f"the project has several networks{where} and none is its default, so the compute must be "
                   f"linked to one: link it to one of the networks {listed}, or {HOW_TO_CHOOSE}")


def default_network_ids(session: Session, project_id: int) -> set[str]:
    """The project's chosen default networks, one per zone at most (for rendering them)."""
    return set(session.scalars(select(ProjectDefaultNetwork.network_id)
                               .where(ProjectDefaultNetwork.project_id == project_id)))


def make_default_network(session: Session, project_id: int, network: Network) -> None:
    """Make ``network`` (the project's own or a shared one) the project's default in its zone,
    in place of the one chosen before."""
    if network.zone_id is None:
        raise InvalidRequest(f"network {network.id} is in no availability zone, and a default network "
                             "is chosen per zone; choose a network of a zone")
    if network.project_id not in (None, project_id):
        raise NotFound(f"no network {network.id}")
    if network.state in (NetworkState.DESTROYING, NetworkState.ERROR):
        raise Conflict(f"network {network.id} is {network.state} and cannot be the default network")
    current = session.get(ProjectDefaultNetwork, (project_id, network.zone_id))
    if current is None:
        session.add(ProjectDefaultNetwork(project_id=project_id, zone_id=network.zone_id, network_id=network.id))
    else:
        current.network_id = network.id
    session.flush()


def unmake_default_network(session: Session, project_id: int, network: Network) -> None:
    """``network`` is no longer the project's default (nothing happens if it was not)."""
    if network.zone_id is None:
        return
    current = session.get(ProjectDefaultNetwork, (project_id, network.zone_id))
    if current is not None and current.network_id == network.id:
        session.delete(current)
        session.flush()


# --- the site administrator's side -----------------------------------------------------------------

def set_project_default_network(session: Session, *, project: Ref, zone: Ref | None = None,
                                network: str | None = None, actor: Actor = SYSTEM) -> dict[str, str]:
    """Choose the project's default network (by id), or with no network clear the project's
    choice in ``zone``. Answers the project's defaults by zone, as :func:`project_default_networks`."""
    the_project = find_project(session, project)
    if network is None:
        if zone is None:
            raise InvalidRequest("name the network to make the default, or the zone whose default to clear")
        the_zone = find_zone(session, zone)
        current = session.get(ProjectDefaultNetwork, (the_project.id, the_zone.id))
        if current is not None:
            session.delete(current)
            session.flush()
        record_change(session, actor, "project.default_network", "project", the_project.id,
                      f"project {the_project.name!r} has no default network in zone {the_zone.name!r}",
                      project_id=the_project.id)
        return project_default_networks(session, the_project.id)
    if not isinstance(network, str) or not network:
        raise InvalidRequest(f"the network is named by its id (like public or a UUID); got {network!r}")
    found = session.get(Network, network)
    if found is None or found.project_id not in (None, the_project.id):
        raise NotFound(f"no network {network} of project {the_project.name!r} or shared by the cloud")
    if zone is not None and find_zone(session, zone).id != found.zone_id:
        raise Conflict(f"network {network} is in zone "
                       f"{zone_name(session, found.zone_id) if found.zone_id else '(none)'}, not in zone {zone}")
    make_default_network(session, the_project.id, found)
    record_change(session, actor, "project.default_network", "project", the_project.id,
                  f"project {the_project.name!r}: default network {network} in zone "
                  f"{zone_name(session, found.zone_id)!r}", project_id=the_project.id)
    return project_default_networks(session, the_project.id)


def project_default_networks(session: Session, project_id: int) -> dict[str, str]:
    """zone name → network id: the project's chosen defaults."""
    return default_networks_of(session, [project_id]).get(project_id, {})


def default_networks_of(session: Session, project_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """project id → its chosen defaults (zone name → network id, by zone id), for each of
    ``project_ids`` that chose any."""
    wanted = set(project_ids)
    chosen: dict[int, dict[str, str]] = {}
    if not wanted:
        return chosen
    rows = session.execute(select(ProjectDefaultNetwork.project_id, Zone.name, ProjectDefaultNetwork.network_id)
                           .join(Zone, Zone.id == ProjectDefaultNetwork.zone_id)
                           .where(ProjectDefaultNetwork.project_id.in_(wanted))
                           .order_by(ProjectDefaultNetwork.project_id, ProjectDefaultNetwork.zone_id))
    for project_id, zone, network_id in rows:
        chosen.setdefault(project_id, {})[zone] = network_id
    return chosen
