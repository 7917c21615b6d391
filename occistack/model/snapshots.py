"""Volume snapshots: a point-in-time copy of a volume (or of a compute's root disk), kept in the
zone's secondary storage, that a volume can be reverted to or a new volume made from.

A snapshot belongs to the project of what it was taken of and outlives it: the volume or the
compute may be deleted and the snapshot still makes new volumes. Its state moves only through
SNAPSHOT_TRANSITIONS:

``creating``   the job is queued and the host is taking the point-in-time copy (a running guest
               writes to a short-lived overlay meanwhile);
``backing_up`` the copy is taken and the guest's disk chain is short again; the host is copying
               it into secondary storage;
``ready``      in secondary storage, with its checksum: it can be reverted to and copied;
``reverting``  a volume is being overwritten with it (one revert at a time);
``destroying`` being removed from secondary storage;
``error``      taking it, or removing it, failed; ``state_message`` says why. A snapshot in error
               can only be deleted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from occistack.model.meta import Base, utcnow
from occistack.model.states import PlainTable


class SnapshotState(StrEnum):
    CREATING = "creating"
    BACKING_UP = "backing_up"
    READY = "ready"
    REVERTING = "reverting"
    DESTROYING = "destroying"
    ERROR = "error"


class SnapshotEvent(StrEnum):
    #: the host took the point-in-time copy and is copying it to secondary storage.
    COPY_TAKEN = "copy_taken"
    BACKED_UP = "backed_up"
    FAILED = "failed"
    REVERT = "revert"
    REVERTED = "reverted"
    DESTROY = "destroy"


#: What a snapshot is taken of: a volume (attached or not) or a compute's root disk.
SNAPSHOT_SOURCES = ("volume", "root_disk")

S, SE = SnapshotState, SnapshotEvent
SNAPSHOT_TRANSITIONS = PlainTable("snapshot", {
    (S.CREATING, SE.COPY_TAKEN): S.BACKING_UP,
    (S.BACKING_UP, SE.COPY_TAKEN): S.BACKING_UP,  # a progress report delivered twice
    (S.CREATING, SE.BACKED_UP): S.READY,  # the host's report of the copy came after its answer
    (S.BACKING_UP, SE.BACKED_UP): S.READY,
    (S.CREATING, SE.FAILED): S.ERROR,
    (S.BACKING_UP, SE.FAILED): S.ERROR,
    (S.READY, SE.REVERT): S.REVERTING,
    # A revert's end, well or not, leaves the snapshot as it was: the volume carries the outcome.
    (S.REVERTING, SE.REVERTED): S.READY,
    (S.READY, SE.DESTROY): S.DESTROYING,
    (S.ERROR, SE.DESTROY): S.DESTROYING,
    (S.DESTROYING, SE.FAILED): S.ERROR,
})


class VolumeSnapshot(Base):
    __tablename__ = "volume_snapshots"
    __table_args__ = (Index("ix_volume_snapshots_project_created", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    #: one of SNAPSHOT_SOURCES.
    source: Mapped[str] = mapped_column(String(16))
    #: the volume it was taken of (source "volume"); NULL once that volume is deleted.
    volume_id: Mapped[str | None] = mapped_column(ForeignKey("volumes.id", ondelete="SET NULL"), index=True)
    #: the compute whose root disk it was taken of (source "root_disk"); NULL once it is deleted.
    vm_id: Mapped[str | None] = mapped_column(ForeignKey("virtual_machines.id", ondelete="SET NULL"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    #: the virtual size of what it was taken of: a volume made from it is at least this big.
    size_gib: Mapped[float] = mapped_column(Float)
    #: the bytes it occupies in secondary storage, once there.
    stored_gib: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default=str(SnapshotState.CREATING))
    state_message: Mapped[str | None] = mapped_column(Text)
    secondary_storage_id: Mapped[int | None] = mapped_column(
        ForeignKey("secondary_storage.id", ondelete="SET NULL"), index=True)
    secondary_path: Mapped[str | None] = mapped_column(String(1024))
    #: ``sha256:<hex>`` of the stored image, as the host hashed it on the way.
    checksum: Mapped[str | None] = mapped_column(String(200))
    #: the snapshot policy that took it (model/snapshot_policies.py), whose retention may delete it.
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("snapshot_policies.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
