"""Row helpers the handlers share (the names and specs hosts are told are in plane/jobs/commands.py)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from occistack.model import BARE_METAL, Entity, Host
from occistack.model.states import HostStatus


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
