"""The persistent model: SQLAlchemy 2.0 ORM classes, states and their transition tables.

Imports nothing else of occistack; ``model.occi`` (the OCCI type system) is pure and separate.
"""

from occistack.model.accounting import ComputeOwner, EventRecord, UsageHour, UsageHourRun, UsageRecord
from occistack.model.catalog import CatalogGeneration, OsTemplate, ServiceOffering, TemplateCopy, TemplateShare, Zone
from occistack.model.infrastructure import (
    BARE_METAL,
    Cluster,
    GuestVlan,
    Host,
    InventoryGeneration,
    IpAllocation,
    IpRange,
    PhysicalNetwork,
    Pod,
    Region,
    SecondaryStorage,
    StoragePool,
    VlanRange,
)
from occistack.model.jobs import AgentCommand, Job, JobWorker
from occistack.model.meta import Base, make_engine, utcnow
from occistack.model.operations import Alert, GlobalSetting
from occistack.model.resources import (
    ENTITY_ID_LENGTH,
    AffinityGroup,
    Entity,
    EntityMixin,
    Network,
    NetworkInterface,
    ProjectDefaultNetwork,
    StorageLink,
    UserMixin,
    VirtualMachine,
    Volume,
)
from occistack.model.snapshot_policies import SnapshotPolicy
from occistack.model.snapshots import VolumeSnapshot
from occistack.model.tenancy import (
    QUOTA_RESOURCES,
    ROLES,
    ROOT_DOMAIN_ID,
    Account,
    ApiKey,
    Domain,
    FederatedUser,
    KeyPair,
    LdapGroupLink,
    Project,
    ProjectMembership,
    Quota,
    TenancyLimit,
    User,
    may_sign_in,
    project_in_disabled_domain,
)

__all__ = [
    "BARE_METAL", "Account", "AffinityGroup", "AgentCommand", "Alert", "ApiKey", "Base", "CatalogGeneration",
    "Cluster", "ComputeOwner", "SnapshotPolicy", "Domain", "GlobalSetting", "UsageHour", "UsageHourRun",
    "ENTITY_ID_LENGTH", "Entity", "EntityMixin", "EventRecord", "FederatedUser", "GuestVlan", "Host",
    "InventoryGeneration", "KeyPair", "LdapGroupLink",
    "IpAllocation", "IpRange", "Job", "JobWorker", "Network", "NetworkInterface", "OsTemplate", "TemplateCopy", "PhysicalNetwork", "Pod",
    "TemplateShare",
    "Project", "ProjectDefaultNetwork", "ProjectMembership", "QUOTA_RESOURCES", "Quota", "ROLES", "ROOT_DOMAIN_ID", "Region",
    "SecondaryStorage", "TenancyLimit",
    "ServiceOffering", "StorageLink", "StoragePool", "UsageRecord", "User", "UserMixin", "VirtualMachine",
    "VlanRange", "Volume", "VolumeSnapshot", "Zone", "make_engine", "may_sign_in", "project_in_disabled_domain", "utcnow",
]
