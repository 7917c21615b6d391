"""Cloud resources: virtual machines, volumes, networks and the links between them.

Every OCCI entity has a row in ``entities`` (its id, kind, owner, title), and a row in the table
of its kind (joined-table inheritance). One id space for all kinds lets a link name any resource
and lets user mixins tag any entity with a real foreign key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from occistack.model.meta import Base, utcnow
from occistack.model.states import LinkState, NetworkState, VmState, VolumeState

#: entity ids are client-chosen tokens or UUIDs; this bounds them.
ENTITY_ID_LENGTH = 64


class Entity(Base):
    __tablename__ = "entities"

    id: Mapped[str] = mapped_column(String(ENTITY_ID_LENGTH), primary_key=True)
    #: the OCCI kind term: compute, storage, network, networkinterface, storagelink.
    kind: Mapped[str] = mapped_column(String(32))
    #: NULL for resources shared by every project (the public network).
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    #: when its owner asked for it to go. A delete is accepted in every state: the entity is
    #: marked at once and the teardown runs after whatever step was under way (see
    #: plane/jobs/deletes.py); cleared again when the teardown fails, so a DELETE retries.
    delete_requested_at: Mapped[datetime | None] = mapped_column(DateTime)

    mixin_rows: Mapped[list[EntityMixin]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, back_populates="entity")

    __table_args__ = (
        # A collection listing: one project's entities of one kind, oldest first.
        Index("ix_entities_project_kind_created", "project_id", "kind", "created_at"),
    )
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True}


class VirtualMachine(Entity):
    __tablename__ = "virtual_machines"

    id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    hostname: Mapped[str | None] = mapped_column(String(255))
    architecture: Mapped[str | None] = mapped_column(String(8))
    cores: Mapped[int] = mapped_column(Integer)
    memory_gib: Mapped[float] = mapped_column(Float)
    share: Mapped[int | None] = mapped_column(Integer)
    speed_ghz: Mapped[float | None] = mapped_column(Float)
    state: Mapped[VmState] = mapped_column(String(16), default=VmState.STARTING)
    state_message: Mapped[str | None] = mapped_column(Text)
    template_id: Mapped[int] = mapped_column(ForeignKey("os_templates.id", ondelete="RESTRICT"), index=True)
    #: the identifier of the resource_tpl mixin the sizes came from, if any.
    resource_tpl: Mapped[str | None] = mapped_column(String(512))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    user_data: Mapped[str | None] = mapped_column(Text)
    ssh_public_key: Mapped[str | None] = mapped_column(Text)
    #: the name of the owner's key pair ``ssh_public_key`` was copied from, when the compute was
    #: given one by name (the key stays with the compute if the key pair is deleted later).
    key_name: Mapped[str | None] = mapped_column(String(255))
    #: the hypervisor's name for the guest, once a driver has defined it.
    instance_name: Mapped[str | None] = mapped_column(String(128))
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("service_offerings.id", ondelete="SET NULL"))
    #: where placement put it, and what it reserved there (released exactly on destroy).
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id", ondelete="SET NULL"), index=True)
    storage_pool_id: Mapped[int | None] = mapped_column(ForeignKey("storage_pools.id", ondelete="SET NULL"))
    reserved_cpu_mhz: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reserved_memory_mib: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    root_disk_gib: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    affinity_group_id: Mapped[int | None] = mapped_column(ForeignKey("affinity_groups.id", ondelete="SET NULL"),
                                                          index=True)
    ha_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: a whole node of a bare-metal cluster rather than a guest: it is switched on and off
    #: through the node's BMC, and its host is reserved for it alone.
    bare_metal: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: what a bare-metal compute's node boots from (drivers.power BOOT_DEVICES); NULL for guests.
    boot_device: Mapped[str | None] = mapped_column(String(16))

    nics: Mapped[list[NetworkInterface]] = relationship(
        back_populates="vm", foreign_keys="NetworkInterface.vm_id", passive_deletes=True)
    storage_links: Mapped[list[StorageLink]] = relationship(
        back_populates="vm", foreign_keys="StorageLink.vm_id", passive_deletes=True)

    __mapper_args__ = {"polymorphic_identity": "compute"}


class Volume(Entity):
    __tablename__ = "volumes"

    id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    size_gib: Mapped[float] = mapped_column(Float)
    state: Mapped[VolumeState] = mapped_column(String(16), default=VolumeState.CREATING)
    state_message: Mapped[str | None] = mapped_column(Text)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    #: the primary storage it was allocated on (its GiB are reserved there).
    storage_pool_id: Mapped[int | None] = mapped_column(ForeignKey("storage_pools.id", ondelete="SET NULL"),
                                                        index=True)

    __mapper_args__ = {"polymorphic_identity": "storage"}


class Network(Entity):
    __tablename__ = "networks"

    id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    vlan: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[NetworkState] = mapped_column(String(16), default=NetworkState.CREATING)
    state_message: Mapped[str | None] = mapped_column(Text)
    #: the ipnetwork mixin's attributes; a network without an address has no IP management.
    address: Mapped[str | None] = mapped_column(String(64))
    gateway: Mapped[str | None] = mapped_column(String(64))
    allocation: Mapped[str | None] = mapped_column(String(16))
    #: a public network hands out routable addresses (floating IPs in issue 4).
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    #: the physical network whose VLAN range ``vlan`` came from (isolated networks).
    physical_network_id: Mapped[int | None] = mapped_column(
        ForeignKey("physical_networks.id", ondelete="RESTRICT"))

    __mapper_args__ = {"polymorphic_identity": "network"}


class ProjectDefaultNetwork(Base):
    """The network a project's computes created without a network link join, in one zone: the
    project's choice (its users' through OCCI, or the site administrator's). At most one per
    project and zone; it goes with the network."""

    __tablename__ = "project_default_networks"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)


class NetworkInterface(Entity):
    """A networkinterface link: a VM's NIC on a network."""

    __tablename__ = "nics"
    __table_args__ = (
        UniqueConstraint("network_id", "address"),
        UniqueConstraint("vm_id", "interface"),
    )

    id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    vm_id: Mapped[str] = mapped_column(ForeignKey("virtual_machines.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="RESTRICT"), index=True)
    interface: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    state: Mapped[LinkState] = mapped_column(String(16), default=LinkState.ATTACHING)
    state_message: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))
    gateway: Mapped[str | None] = mapped_column(String(64))
    allocation: Mapped[str | None] = mapped_column(String(16))

    vm: Mapped[VirtualMachine] = relationship(back_populates="nics", foreign_keys=[vm_id])
    network: Mapped[Network] = relationship(foreign_keys=[network_id])

    __mapper_args__ = {"polymorphic_identity": "networkinterface"}


class StorageLink(Entity):
    """A storagelink: a volume attached to a VM (CloudStack's volume attachment)."""

    __tablename__ = "storage_links"
    __table_args__ = (
        UniqueConstraint("vm_id", "device_id"),
    )

    id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    vm_id: Mapped[str] = mapped_column(ForeignKey("virtual_machines.id", ondelete="CASCADE"), index=True)
    #: a volume is attached to one VM at a time.
    volume_id: Mapped[str] = mapped_column(ForeignKey("volumes.id", ondelete="RESTRICT"), unique=True)
    device_id: Mapped[str] = mapped_column(String(64))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[LinkState] = mapped_column(String(16), default=LinkState.ATTACHING)
    state_message: Mapped[str | None] = mapped_column(Text)

    vm: Mapped[VirtualMachine] = relationship(back_populates="storage_links", foreign_keys=[vm_id])
    volume: Mapped[Volume] = relationship(foreign_keys=[volume_id])

    __mapper_args__ = {"polymorphic_identity": "storagelink"}


class AffinityGroup(Base):
    """VMs of one project that must share a host ("host affinity") or must not ("host
    anti-affinity"); published to the project as mixins that apply to compute."""

    __tablename__ = "affinity_groups"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    #: "host affinity" or "host anti-affinity", as CloudStack names them.
    kind: Mapped[str] = mapped_column(String(24))
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class UserMixin(Base):
    """A mixin a user defined through the query interface: a tag on their entities.

    Scoped to its owner: identifiers and locations are unique per user, and nobody else sees
    them, so two users can each keep a ``/my_stuff/``.
    """

    __tablename__ = "user_mixins"
    __table_args__ = (
        UniqueConstraint("owner_id", "scheme", "term"),
        UniqueConstraint("owner_id", "location"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(String(255))
    term: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(255))
    location: Mapped[str] = mapped_column(String(255))
    #: the identifier of a mixin this one depends on (``rel``), if the user gave one.
    depends: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def identifier(self) -> str:
        return self.scheme + self.term


class EntityMixin(Base):
    """A tag-like mixin applied to an entity: a user mixin or a contextualization mixin.

    Mixins that change what a resource *is* (os_tpl, resource_tpl, availability zone, ipnetwork)
    are columns of its kind's table instead, because the orchestrator acts on them.
    """

    __tablename__ = "entity_mixins"
    __table_args__ = (
        # A mixin collection listing: every entity carrying one mixin.
        Index("ix_entity_mixins_mixin", "mixin"),
    )

    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    mixin: Mapped[str] = mapped_column(String(512), primary_key=True)
    user_mixin_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_mixins.id", ondelete="CASCADE"), index=True)

    entity: Mapped[Entity] = relationship(back_populates="mixin_rows")
