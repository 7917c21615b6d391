"""The persistent model: SQLAlchemy 2.0 ORM classes, states and their transition tables.

Imports nothing else of occistack; ``model.occi`` (the OCCI type system) is pure and separate.
"""

from .catalog import CatalogGeneration, OsTemplate, ServiceOffering, Zone
from .meta import Base, make_engine, utcnow
from .resources import (
    ENTITY_ID_LENGTH,
    Entity,
    EntityMixin,
    Network,
    NetworkInterface,
    StorageLink,
    UserMixin,
    VirtualMachine,
    Volume,
)
from .tenancy import Project, User

__all__ = [
    "Base",
    "CatalogGeneration",
    "ENTITY_ID_LENGTH",
    "Entity",
    "EntityMixin",
    "Network",
    "NetworkInterface",
    "OsTemplate",
    "Project",
    "ServiceOffering",
    "StorageLink",
    "User",
    "UserMixin",
    "VirtualMachine",
    "Volume",
    "Zone",
    "make_engine",
    "utcnow",
]
