"""The administrator's view and delete of any project's resources (CloudStack's admin may
destroy any account's VM): the tenants' own use cases, so the same rules hold -- a delete is
accepted in every state and answered at once, a repeated one changes nothing, and the entity
is rendered "being deleted" until its teardown has run (see plane/jobs/deletes.py).

Kept apart from ``orchestrator.admin``, whose use cases build the cloud: these reach into the
tenants' lifecycle modules, which themselves use the admin package.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from occistack.model import Network, NetworkInterface, StorageLink, VirtualMachine, Volume
from occistack.model.resources import ENTITY_ID_LENGTH
from occistack.plane.admin.cases.common import actor_of
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.tenant.compute_actions import destroy_compute
from occistack.plane.jobs.deletes import DELETING_MESSAGE, is_deleting
from occistack.plane.errors import Conflict, NotFound
from occistack.plane.tenant.networks import destroy_network, detach_nic
from occistack.plane.tenant.storage import destroy_volume, detach_volume

#: The OCCI kind terms, as the resources' paths name them.
RESOURCE_KINDS = {"compute": VirtualMachine, "storage": Volume, "network": Network,
                  "networkinterface": NetworkInterface, "storagelink": StorageLink}


def find_resource(session: Session, kind: str, entity_id: str):
    model = RESOURCE_KINDS.get(kind)
    if model is None:
        raise NotFound(f"no resource kind {kind!r}; the kinds are: {', '.join(RESOURCE_KINDS)}")
    # An id no entity can have is not looked up (a NUL byte would not even reach PostgreSQL).
    row = session.get(model, entity_id) if len(entity_id) <= ENTITY_ID_LENGTH and entity_id.isprintable() else None
    if row is None:
        raise NotFound(f"no {kind} {entity_id}")
    return row


def describe_resource(ctx: PlaneContext, kind: str, entity_id: str) -> dict[str, Any]:
    row = find_resource(ctx.session, kind, entity_id)
    return {"kind": kind, "id": row.id, "project_id": row.project_id, "title": row.title, "state": str(row.state),
            "state_message": DELETING_MESSAGE if is_deleting(row) else row.state_message}


def delete_resource(ctx: PlaneContext, kind: str, entity_id: str) -> None:
    """Delete any project's resource as its owner's DELETE would."""
    session, dispatcher, actor = ctx.session, ctx.services.dispatcher, actor_of(ctx)
    row = find_resource(session, kind, entity_id)
    if row.project_id is None:
        raise Conflict(f"{kind} {entity_id} is shared by the whole cloud, not a project's resource to delete")
    # The event names the administrator; the jobs and events count against the resource's project.
    caller = Caller(user_id=actor.user_id, user_name=actor.label, project_id=row.project_id)  # type: ignore[arg-type]
    if kind == "compute":
        destroy_compute(session, row, dispatcher, caller)
    elif kind == "storage":
        destroy_volume(session, row, dispatcher, caller)
    elif kind == "network":
        destroy_network(session, row, dispatcher, caller)
    elif kind == "networkinterface":
        detach_nic(session, row, dispatcher, caller)
    else:
        detach_volume(session, row, dispatcher, caller)
