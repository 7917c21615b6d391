"""Whether an entity's delete is under way, and the refusal of any other change meanwhile.

Plane rules rather than part of plane/jobs/deletes.py, so that the use cases and the rules
below them -- taking a snapshot, for one (plane/snapshot_rows.py) -- ask here.
"""

from __future__ import annotations

from occistack.plane.errors import Conflict


def is_deleting(row) -> bool:
    return row.delete_requested_at is not None


def refuse_if_deleting(row, what: str) -> None:
    """Conflict for any change to an entity whose delete is under way."""
    if is_deleting(row):
        raise Conflict(f"the {what} is being deleted and takes no other change; wait until it is gone "
                       "(GET answers 404 then)")
