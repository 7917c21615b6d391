"""Names the hypervisors know things by, and row helpers the handlers share."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from occistack.hostagent.protocol import GuestNetwork
from occistack.model import BARE_METAL, Entity, Host, Network, VirtualMachine
from occistack.model.states import HostStatus
from occistack.plane.addresses import public_ranges
from occistack.plane.tenant.networks import dhcp_server_address


def instance_name(vm: VirtualMachine) -> str:
    """The hypervisor's name for a guest, CloudStack style: i-<project>-<id>."""
    return f"i-{vm.project_id}-{vm.id}"


def volume_name(volume_id: str) -> str:
    return f"vol-{volume_id}"


def network_name(network_id: str) -> str:
    return f"net-{network_id}"


def network_spec(session: Session, network: Network) -> GuestNetwork:
    """What a host needs to implement a guest network: its name and VLAN tag, and for a
    private network with a subnet, where its DHCP server answers. A public network rides on the
    VLAN of its zone's public range, if that has one (its addresses are routed, not served)."""
    vlan = network.vlan
    if vlan is None and network.public and network.zone_id is not None:
        ranges = public_ranges(session, network.zone_id)
        vlan = ranges[0].vlan if ranges else None
    server = dhcp_server_address(network)
    if server is None:
        return GuestNetwork(network_name(network.id), vlan)
    return GuestNetwork(network_name(network.id), vlan, cidr=network.address, dhcp_server=server,
                        gateway=network.gateway)


def up_host_in(session: Session, *, cluster_id: int | None = None, zone_id: int | None = None) -> Host | None:
    """An Up host of the cluster (or, with no cluster, of the zone) to run storage work on:
    one with an agent, so never a bare-metal node."""
    statement = select(Host).where(Host.status == str(HostStatus.UP), Host.hypervisor != BARE_METAL)
    statement = statement.where(Host.cluster_id == cluster_id) if cluster_id is not None else \
        statement.where(Host.zone_id == zone_id)
    return session.scalar(statement.order_by(Host.id).limit(1))


def delete_entities(session: Session, entity_ids: list[str]) -> None:
    """Delete entity rows; the kind tables, tags and address allocations follow by ON DELETE
    CASCADE."""
    session.flush()
    for entity_id in entity_ids:
        row = session.get(Entity, entity_id)
        if row is not None:
            session.expunge(row)
    session.execute(delete(Entity.__table__).where(Entity.__table__.c.id.in_(entity_ids)))


def secondary_url(store_url: str, path: str) -> str:
    """``path`` inside the secondary storage at ``store_url``, keeping the URL's query (an NFS
    URL may carry its ports or protocol version there: ``nfs://s/export?version=4``)."""
    parts = urlsplit(store_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{path.lstrip('/')}"))
