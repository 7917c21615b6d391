"""The cloud's infrastructure inventory, in CloudStack's terms.

region → zone → pod → cluster → host; primary storage per cluster or zone-wide; secondary
storage per zone; physical networks with their VLAN ranges; public and management IP ranges.
What a site administrator builds with the admin API and the command line, and what placement
chooses from.

Capacity that placement reserves is kept on the rows themselves (``hosts.cpu_used_mhz``,
``storage_pools.used_gib``), changed only by conditional UPDATEs that check the limit in the
same statement, so two transactions can never both take the last of a host.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from occistack.model.resources import NetworkInterface
from occistack.model.states import HostStatus, ResourceState, StoragePoolState

#: The hypervisor of a cluster whose hosts are bare-metal nodes, each given whole to one compute
#: and switched on and off through its BMC (the other is "KVM").
BARE_METAL = "BareMetal"

#: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Pod(Base):
    """A rack: hosts that share a management subnet and gateway."""

    __tablename__ = "pods"
    __table_args__ = (UniqueConstraint("zone_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: the management subnet, e.g. 10.0.1.0/24, and its gateway.
    cidr: Mapped[str] = mapped_column(String(64))
    gateway: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Cluster(Base):
    """Hosts of one hypervisor type that share primary storage."""

    __tablename__ = "clusters"
    __table_args__ = (UniqueConstraint("pod_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: "KVM" or "BareMetal".
    hypervisor: Mapped[str] = mapped_column(String(16), default="KVM")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Host(Base):
    """A hypervisor host (or a bare-metal node) and what placement has reserved on it."""

    __tablename__ = "hosts"
    __table_args__ = (
        CheckConstraint("cpu_used_mhz >= 0 AND memory_used_mib >= 0", name="usage_not_negative"),
        Index("ix_hosts_cluster_status", "cluster_id", "status"),
        # Room in each page for claims to update a host without touching its indexes (see the
        # migration room_for_hot_updates).
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    pod_id: Mapped[int] = mapped_column(ForeignKey("pods.id", ondelete="RESTRICT"), index=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"))
    #: the management address the agent connects from.
    address: Mapped[str] = mapped_column(String(64))
    hypervisor: Mapped[str] = mapped_column(String(16), default="KVM")
    hypervisor_version: Mapped[str | None] = mapped_column(String(64))
    #: connection health, from the agent's heartbeats (CloudStack's Status).
    status: Mapped[HostStatus] = mapped_column(String(16), default=HostStatus.CONNECTING)
    #: what the administrator allows (CloudStack's ResourceState).
    resource_state: Mapped[ResourceState] = mapped_column(String(24), default=ResourceState.ENABLED)
    cpu_sockets: Mapped[int] = mapped_column(Integer, default=1)
    cpu_cores: Mapped[int] = mapped_column(Integer)
    cpu_mhz: Mapped[int] = mapped_column(Integer)
    memory_mib: Mapped[int] = mapped_column(Integer)
    cpu_overcommit: Mapped[float] = mapped_column(Float, default=1.0)
    memory_overcommit: Mapped[float] = mapped_column(Float, default=1.0)
    #: comma-separated host tags that offerings may require.
    tags: Mapped[str] = mapped_column(String(255), default="")
    cpu_used_mhz: Mapped[int] = mapped_column(Integer, default=0)
    memory_used_mib: Mapped[int] = mapped_column(Integer, default=0)
    last_heartbeat: Mapped[datetime | None] = mapped_column(DateTime)
    #: sha256 of the agent's token (development); production agents use TLS client certificates.
    agent_token_hash: Mapped[str | None] = mapped_column(String(64))
    agent_version: Mapped[str | None] = mapped_column(String(32))
    state_message: Mapped[str | None] = mapped_column(Text)
    #: the host's baseboard management controller (IPMI over LAN), which fences it when its agent
    #: stops answering; the password is sealed with the site's secret key (plane/sealing.py).
    bmc_address: Mapped[str | None] = mapped_column(String(255))
    bmc_port: Mapped[int] = mapped_column(Integer, default=623, server_default="623")
    bmc_username: Mapped[str | None] = mapped_column(String(64))
    bmc_password_sealed: Mapped[str | None] = mapped_column(Text)
    #: when HA last tried to fence it, so a host whose BMC is unreachable is retried, not hammered.
    fence_attempted_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def cpu_total_mhz(self) -> int:
        return self.cpu_cores * self.cpu_mhz

    @property
    def tag_set(self) -> frozenset[str]:
        return frozenset(tag.strip() for tag in self.tags.split(",") if tag.strip())


class StoragePool(Base):
    """Primary storage: where root disks and volumes live. Cluster-scoped, or zone-wide when
    ``cluster_id`` is NULL."""

    __tablename__ = "storage_pools"
    __table_args__ = (
        UniqueConstraint("zone_id", "name"),
        CheckConstraint("used_gib >= 0", name="usage_not_negative"),
        {"postgresql_with": {"fillfactor": 70}},  # as hosts: claims update pools all day
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    pod_id: Mapped[int | None] = mapped_column(ForeignKey("pods.id", ondelete="RESTRICT"))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: "nfs", "sharedmountpoint" or "filesystem" (a local directory).
    protocol: Mapped[str] = mapped_column(String(24))
    server: Mapped[str | None] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(1024))
    capacity_gib: Mapped[float] = mapped_column(Float)
    used_gib: Mapped[float] = mapped_column(Float, default=0.0)
    overprovisioning: Mapped[float] = mapped_column(Float, default=1.0)
    tags: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[StoragePoolState] = mapped_column(String(16), default=StoragePoolState.UP)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def tag_set(self) -> frozenset[str]:
        return frozenset(tag.strip() for tag in self.tags.split(",") if tag.strip())


class SecondaryStorage(Base):
    """NFS storage of a zone for templates, ISOs and snapshots."""

    __tablename__ = "secondary_storage"
    __table_args__ = (UniqueConstraint("zone_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    #: nfs://server/export/path
    url: Mapped[str] = mapped_column(String(1024))
    capacity_gib: Mapped[float] = mapped_column(Float)
    used_gib: Mapped[float] = mapped_column(Float, default=0.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PhysicalNetwork(Base):
    """A zone's physical network: the wire guest (and public, management) traffic rides on,
    isolated by VLAN."""

    __tablename__ = "physical_networks"
    __table_args__ = (UniqueConstraint("zone_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    isolation: Mapped[str] = mapped_column(String(16), default="VLAN")
    #: comma-separated: guest, public, management, storage.
    traffic_types: Mapped[str] = mapped_column(String(64), default="guest")
    #: the host bridge (or OVS bridge) the traffic goes out on.
    bridge: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class VlanRange(Base):
    """Guest VLAN ids a physical network may hand out, inclusive."""

    __tablename__ = "vlan_ranges"
    __table_args__ = (CheckConstraint("first_vlan >= 1 AND last_vlan <= 4094 AND first_vlan <= last_vlan",
                                      name="valid_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    physical_network_id: Mapped[int] = mapped_column(ForeignKey("physical_networks.id", ondelete="CASCADE"),
                                                     index=True)
    first_vlan: Mapped[int] = mapped_column(Integer)
    last_vlan: Mapped[int] = mapped_column(Integer)


class GuestVlan(Base):
    """A VLAN id taken by a guest network. The unique key is what makes "never handed out
    twice" true under concurrent requests: the second INSERT fails."""

    __tablename__ = "guest_vlans"
    __table_args__ = (UniqueConstraint("physical_network_id", "vlan"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    physical_network_id: Mapped[int] = mapped_column(ForeignKey("physical_networks.id", ondelete="RESTRICT"))
    vlan: Mapped[int] = mapped_column(Integer)
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), unique=True)
    allocated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class IpRange(Base):
    """A range of addresses of a zone: ``public`` (floating addresses for guests) or
    ``management`` (per pod, for hosts and system services)."""

    __tablename__ = "ip_ranges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    pod_id: Mapped[int | None] = mapped_column(ForeignKey("pods.id", ondelete="RESTRICT"))
    purpose: Mapped[str] = mapped_column(String(16))
    first_address: Mapped[str] = mapped_column(String(64))
    last_address: Mapped[str] = mapped_column(String(64))
    #: the numeric bounds, so that overlap checks and "next free" are integer comparisons.
    first_number: Mapped[int] = mapped_column(BigId)
    last_number: Mapped[int] = mapped_column(BigId)
    gateway: Mapped[str] = mapped_column(String(64))
    prefix_length: Mapped[int] = mapped_column(Integer)
    vlan: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def size(self) -> int:
        return self.last_number - self.first_number + 1


class IpAllocation(Base):
    """An address of an IP range in use. Unique per zone: never handed out twice."""

    __tablename__ = "ip_allocations"
    __table_args__ = (
        UniqueConstraint("zone_id", "number"),
        Index("ix_ip_allocations_range", "range_id", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"))
    range_id: Mapped[int] = mapped_column(ForeignKey("ip_ranges.id", ondelete="RESTRICT"))
    address: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(BigId)
    #: what holds it: a guest NIC on a public network, or a host's management address.
    nic_id: Mapped[str | None] = mapped_column(ForeignKey("nics.id", ondelete="CASCADE"), unique=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    allocated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    # Lets one flush write a new NIC and its allocation in the order the foreign key needs.
    nic: Mapped[NetworkInterface | None] = relationship(lazy="raise")


class InventoryGeneration(Base):
    """Bumped by every change an administrator makes to the inventory, so each process knows
    when to rebuild its topology snapshot (as ``catalog_generation`` does for categories)."""

    __tablename__ = "inventory_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


__all__ = [
    "BARE_METAL", "BigId", "Cluster", "GuestVlan", "Host", "InventoryGeneration", "IpAllocation", "IpRange",
    "PhysicalNetwork", "Pod", "Region", "SecondaryStorage", "StoragePool", "VlanRange",
]
