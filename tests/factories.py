"""factory_boy factories for the rows tests make by hand (the rows the use cases make, tests
make through the use cases): every required column has a default, unique ones from a
sequence, and a parent row a test does not name is made for it.

The session is an argument of every call, ``ZoneFactory(session=session, name="z1")``, not a
session bound to the factories' ``Meta`` for the test: one test often writes through several
sessions (a transaction-managed one, a plain one per helper, a module-scoped world's), and a
world outlives any one test, so a binding would make where a row lands depend on which fixture
bound last. A parent made for a row goes into the row's session. Each row is flushed, so its
id is there to use; committing is the caller's, as with rows made by hand.

Defaults that differ from the model's are the state tests want most: hosts are up, computes
running, volumes online, networks active, template copies ready.
"""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from occistack.model import (
    Cluster,
    GuestVlan,
    Host,
    IpAllocation,
    IpRange,
    Network,
    OsTemplate,
    PhysicalNetwork,
    Pod,
    Project,
    StoragePool,
    TemplateCopy,
    User,
    VirtualMachine,
    Volume,
    Zone,
)
from occistack.model.states import HostStatus, NetworkState, VmState, VolumeState

#: Cheap on purpose: the server verifies with the parameters stored in each hash, so a test's
#: user logs in as one with a production-strength hash does, without argon2's full cost at every
#: user a test makes.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class RowFactory(SQLAlchemyModelFactory):
    """Makes a row in the session given as ``session=``, and flushes it."""

    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"

    @classmethod
    def _create(cls, model_class, *args, session, **kwargs):
        return cls._save(model_class, session, args, kwargs)


def parent(factory_class):
    """The id of a new ``factory_class`` row in the session of the row being made; evaluated
    only when the test names no id of its own."""
    return factory.LazyAttribute(lambda row: factory_class(session=row.session).id)


def column_of(model, id_field: str, column: str):
    """A column of the parent row that ``id_field`` names (a host's zone is its cluster's)."""
    return factory.LazyAttribute(lambda row: getattr(row.session.get(model, getattr(row, id_field)), column))


# --- tenancy ----------------------------------------------------------------------------------------

class ProjectFactory(RowFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project{n}")


class UserFactory(RowFactory):
    """A user; ``password=`` stores its (cheap) hash, and without one the user has none."""

    class Meta:
        model = User

    class Params:
        password = None

    name = factory.Sequence(lambda n: f"user{n}")
    project_id = parent(ProjectFactory)
    password_hash = factory.LazyAttribute(
        lambda user: CHEAP_HASHER.hash(user.password) if user.password is not None else None)


# --- infrastructure ---------------------------------------------------------------------------------

class ZoneFactory(RowFactory):
    class Meta:
        model = Zone

    name = factory.Sequence(lambda n: f"zone-{n}")


class PodFactory(RowFactory):
    class Meta:
        model = Pod

    zone_id = parent(ZoneFactory)
    name = factory.Sequence(lambda n: f"pod-{n}")
    cidr = factory.Sequence(lambda n: f"10.{100 + n % 150}.0.0/24")
    gateway = factory.LazyAttribute(lambda pod: str(ip_network(pod.cidr)[1]))


class ClusterFactory(RowFactory):
    class Meta:
        model = Cluster

    pod_id = parent(PodFactory)
    zone_id = column_of(Pod, "pod_id", "zone_id")
    name = factory.Sequence(lambda n: f"cluster-{n}")


class HostFactory(RowFactory):
    class Meta:
        model = Host

    cluster_id = parent(ClusterFactory)
    pod_id = column_of(Cluster, "cluster_id", "pod_id")
    zone_id = column_of(Cluster, "cluster_id", "zone_id")
    name = factory.Sequence(lambda n: f"host-{n}")
    address = factory.Sequence(lambda n: str(IPv4Address("10.250.0.1") + n))
    cpu_cores = 8
    cpu_mhz = 2000
    memory_mib = 16384
    status = HostStatus.UP


class StoragePoolFactory(RowFactory):
    """Primary storage of a zone, or of a cluster (``cluster_id=``: the zone is the cluster's)."""

    class Meta:
        model = StoragePool

    cluster_id = None
    zone_id = factory.LazyAttribute(lambda pool: pool.session.get(Cluster, pool.cluster_id).zone_id
                                    if pool.cluster_id is not None else ZoneFactory(session=pool.session).id)
    name = factory.Sequence(lambda n: f"primary-{n}")
    protocol = "filesystem"
    path = factory.LazyAttribute(lambda pool: f"/srv/{pool.name}")
    capacity_gib = 1000.0


class GuestVlanFactory(RowFactory):
    """A guest VLAN of a physical network, taken by a new network of a project of its own."""

    class Meta:
        model = GuestVlan

    network_id = factory.LazyAttribute(lambda row: NetworkFactory(
        session=row.session, vlan=row.vlan, physical_network_id=row.physical_network_id,
        zone_id=row.session.get(PhysicalNetwork, row.physical_network_id).zone_id).id)


class IpAllocationFactory(RowFactory):
    """The address ``offset`` places into the range ``range_id``."""

    class Meta:
        model = IpAllocation

    class Params:
        offset = 0

    zone_id = column_of(IpRange, "range_id", "zone_id")
    number = factory.LazyAttribute(lambda row: row.session.get(IpRange, row.range_id).first_number + row.offset)
    address = factory.LazyAttribute(lambda row: str(IPv4Address(row.number)))


# --- catalog ----------------------------------------------------------------------------------------

class OsTemplateFactory(RowFactory):
    class Meta:
        model = OsTemplate

    term = factory.Sequence(lambda n: f"image{n}")
    title = "an image"
    extra_attributes = factory.LazyFunction(dict)


class TemplateCopyFactory(RowFactory):
    class Meta:
        model = TemplateCopy

    template_id = parent(OsTemplateFactory)
    zone_id = parent(ZoneFactory)
    state = "ready"
    progress = 100


# --- resources --------------------------------------------------------------------------------------

class VirtualMachineFactory(RowFactory):
    class Meta:
        model = VirtualMachine

    id = factory.Sequence(lambda n: f"vm-{n}")
    project_id = parent(ProjectFactory)
    template_id = parent(OsTemplateFactory)
    cores = 1
    memory_gib = 1.0
    state = VmState.RUNNING


class VolumeFactory(RowFactory):
    class Meta:
        model = Volume

    id = factory.Sequence(lambda n: f"vol-{n}")
    project_id = parent(ProjectFactory)
    size_gib = 10.0
    state = VolumeState.ONLINE


class NetworkFactory(RowFactory):
    class Meta:
        model = Network

    id = factory.Sequence(lambda n: f"net-{n}")
    project_id = parent(ProjectFactory)
    state = NetworkState.ACTIVE
