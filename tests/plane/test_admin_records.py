"""What the administrator's operations hand the faces: frozen records, never rows. Every
operation says so in its return annotation (checked here for every operation, so that one added
later keeps to it); each record copies its row's columns but no secret, in the row's column
order (the admin API's JSON keeps its keys and their order), and brings the names the faces show
without a query per row."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types
import typing
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy import inspect as inspect_model

from occistack import model
from occistack.plane.admin import cases
from occistack.plane.admin.cases import hosts, inventory, networks, storage, tenancy, users
from occistack.plane.admin.cases.hosts import NewHost
from occistack.plane.admin.cases.inventory import ClusterFilter, NewCluster, NewPod, NewZone
from occistack.plane.admin.cases.networks import NewIpRange, NewPhysicalNetwork
from occistack.plane.admin.cases.storage import NewStoragePool
from occistack.plane.admin.cases.tenancy import DefaultNetwork, NewAccount, NewAffinityGroup, NewDomain, NewProject
from occistack.plane.admin.cases.users import NewUser
from occistack.plane.admin.records import api_keys as api_key_records
from occistack.plane.admin.records import catalog, own_fields, reports
from occistack.plane.admin.records import hosts as host_records
from occistack.plane.admin.records import inventory as inventory_records
from occistack.plane.admin.records import keypairs as keypair_records
from occistack.plane.admin.records import operations as operation_records
from occistack.plane.admin.records import networks as network_records
from occistack.plane.admin.records import storage as storage_records
from occistack.plane.admin.records import tenancy as tenancy_records
from occistack.plane.admin.records import users as user_records
from occistack.plane.admin.records import usage as usage_records
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService


#: The columns no record may copy: password and token hashes, sealed BMC passwords and API secrets.
SECRETS = {"password_hash", "agent_token_hash", "bmc_password_sealed", "sealed_secret"}

#: Each record of a row, with the row's model.
RECORDS_OF_ROWS = {
    inventory_records.RegionRecord: model.Region,
    inventory_records.ZoneRecord: model.Zone,
    inventory_records.PodRecord: model.Pod,
    inventory_records.ClusterRecord: model.Cluster,
    host_records.HostRecord: model.Host,
    storage_records.StoragePoolRecord: model.StoragePool,
    storage_records.SecondaryStorageRecord: model.SecondaryStorage,
    network_records.PhysicalNetworkRecord: model.PhysicalNetwork,
    network_records.VlanRangeRecord: model.VlanRange,
    network_records.IpRangeRecord: model.IpRange,
    catalog.OfferingRecord: model.ServiceOffering,
    catalog.TemplateRecord: model.OsTemplate,
    tenancy_records.DomainRecord: model.Domain,
    tenancy_records.AccountRecord: model.Account,
    tenancy_records.ProjectRecord: model.Project,
    tenancy_records.AffinityGroupRecord: model.AffinityGroup,
    user_records.UserRecord: model.User,
    user_records.QuotaRecord: model.Quota,
    user_records.LimitRecord: model.TenancyLimit,
    api_key_records.ApiKeyRecord: model.ApiKey,
    reports.EventLogRecord: model.EventRecord,
    keypair_records.KeypairRecord: model.KeyPair,
    operation_records.AlertRecord: model.Alert,
    usage_records.UsageHourRecord: model.UsageHour,
}
RECORD_MODULES = (inventory_records, host_records, storage_records, network_records, catalog, tenancy_records,
                  user_records, reports, keypair_records, operation_records, usage_records, api_key_records)


def operations():
    """Every public function of the modules of ``plane.admin.cases`` (but ``common``, which holds
    what the operations share: who acts, the dispatcher, the sealer)."""
    for module_info in pkgutil.iter_modules(cases.__path__):
        if module_info.name == "common":
            continue
        module = importlib.import_module(f"{cases.__name__}.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                yield f"{module_info.name}.{name}", function


def _is_record_type(hint) -> bool:
    """A dataclass, None, or a list, tuple or union of those."""
    if hint is type(None) or hint is Ellipsis:
        return True
    if isinstance(hint, type) and not typing.get_args(hint):
        return dataclasses.is_dataclass(hint)
    origin = typing.get_origin(hint)
    if origin in (list, tuple, typing.Union, types.UnionType):
        return all(_is_record_type(argument) for argument in typing.get_args(hint))
    return False


def _rows_within(hint, seen: set) -> set[str]:
    """The model classes a type names, itself or through the fields of the dataclasses it names."""
    if isinstance(hint, type) and issubclass(hint, model.Base):
        return {hint.__name__}
    found = set()
    for argument in typing.get_args(hint):
        found |= _rows_within(argument, seen)
    if dataclasses.is_dataclass(hint) and hint not in seen:
        seen.add(hint)
        for field_hint in typing.get_type_hints(hint).values():
            found |= _rows_within(field_hint, seen)
    return found


def test_every_operation_returns_records_or_nothing():
    found = dict(operations())
    assert "inventory.add_zone" in found and "reports.capacity_report" in found
    wrong = {}
    for name, function in found.items():
        returned = typing.get_type_hints(function).get("return", "no return annotation")
        if not _is_record_type(returned) or _rows_within(returned, set()):
            wrong[name] = returned
    assert wrong == {}, "these operations return something other than records (or None)"


@pytest.mark.parametrize("record_type", RECORDS_OF_ROWS, ids=lambda record_type: record_type.__name__)
def test_a_record_copies_its_rows_columns_in_order_but_no_secret(record_type):
    columns = [column.key for column in inspect_model(RECORDS_OF_ROWS[record_type]).columns]
    assert [field.name for field in own_fields(record_type)] == [key for key in columns if key not in SECRETS]


def test_every_record_is_frozen_and_slotted():
    records = [value for module in RECORD_MODULES for value in vars(module).values()
               if dataclasses.is_dataclass(value) and value.__module__ == module.__name__]
    assert set(RECORDS_OF_ROWS) < set(records)
    for record_type in records:
        assert record_type.__dataclass_params__.frozen and "__slots__" in vars(record_type), record_type


# --- what the records hold ----------------------------------------------------------------------------

@pytest.fixture
def ctx(session):
    services = PlaneServices(dispatcher=None, placement=PlacementService(), password_min_length=8,
                             sealer=None, limits=SiteLimits())
    return PlaneContext(session, None, services)


def _rack(ctx, zone="z1", pod="p1", cluster="c1"):
    inventory.add_zone(ctx, NewZone(name=zone))
    inventory.add_pod(ctx, NewPod(zone=zone, name=pod, cidr="10.0.1.0/24", gateway="10.0.1.1",
                                  management_first="10.0.1.10", management_last="10.0.1.50"))
    return inventory.add_cluster(ctx, NewCluster(zone=zone, pod=pod, name=cluster))


def test_records_name_the_rows_they_belong_to(ctx):
    cluster = _rack(ctx)
    assert (cluster.zone_name, cluster.pod_name) == ("z1", "p1")
    added = hosts.add_host(ctx, NewHost(cluster=cluster.id, name="h1", address="10.0.1.21", cpu_cores=8, cpu_mhz=2000,
                                        memory_mib=16384))
    assert added.agent_token and (added.host.cluster_name, added.host.cpu_total_mhz) == ("c1", 16000)
    assert not any(hasattr(added.host, secret) for secret in SECRETS)
    zone_wide = storage.add_storage_pool(ctx, NewStoragePool(zone="z1", name="local", protocol="filesystem",
                                                             path="/var/lib/pool", capacity_gib=10))
    assert (zone_wide.zone_name, zone_wide.cluster_name) == ("z1", None)
    [management] = networks.list_ip_ranges(ctx)
    assert (management.zone_name, management.pod_name, management.size) == ("z1", "p1", 41)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cluster.name = "c2"


def test_a_zone_record_has_its_public_network_and_a_physical_network_its_ranges(ctx):
    zone = inventory.add_zone(ctx, NewZone(name="z1"))
    assert zone.public_network_id is None
    networks.add_ip_range(ctx, NewIpRange(purpose="public", zone="z1", first="203.0.113.10", last="203.0.113.20",
                                          gateway="203.0.113.1", prefix_length=24))
    assert inventory.show_zone(ctx, zone.id).public_network_id == inventory.list_zones(ctx)[0].public_network_id
    assert inventory.show_zone(ctx, zone.id).public_network_id is not None
    network = networks.add_physical_network(ctx, NewPhysicalNetwork(zone="z1", name="pn1",
                                                                    traffic_types="guest,public",
                                                                    vlan_ranges=["300-309", "100-199"]))
    assert network.traffic_types == ("guest", "public")
    assert [(vlans.first_vlan, vlans.size) for vlans in network.vlan_ranges] == [(100, 100), (300, 10)]


def test_tenancy_records_name_domains_accounts_and_projects(ctx):
    domain = tenancy.add_domain(ctx, NewDomain(name="science"))
    account = tenancy.add_account(ctx, NewAccount(name="lab", domain=domain.path))
    project = tenancy.add_project(ctx, NewProject(name="p1", account=account.id))
    assert (account.domain_path, project.domain_path, project.account_name) == ("/science/", "/science/", "lab")
    added = users.add_user(ctx, NewUser(name="ann", password="long-password", project="p1", account="lab"))
    assert (added.user.project_name, added.user.account_name) == ("p1", "lab")
    assert not hasattr(added.user, "password_hash")
    group = tenancy.add_affinity_group(ctx, NewAffinityGroup(project="p1", name="g1", kind="affinity"))
    assert (group.project_name, group.members) == ("p1", 0)
    inventory.add_zone(ctx, NewZone(name="z1"))
    networks.add_ip_range(ctx, NewIpRange(purpose="public", zone="z1", first="203.0.113.10", last="203.0.113.20",
                                          gateway="203.0.113.1", prefix_length=24))
    chosen = tenancy.set_default_network(ctx, "p1", DefaultNetwork(
        network=inventory.show_zone(ctx, "z1").public_network_id))
    assert dict(chosen.default_networks) == {"z1": inventory.show_zone(ctx, "z1").public_network_id}


@contextmanager
def statements(session):
    """Counts the SQL statements run inside the block."""
    counted = []
    engine = session.get_bind()

    def count(*_arguments):
        counted.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_list_reads_its_names_in_a_fixed_number_of_queries(ctx):
    _rack(ctx, pod="p1", cluster="c1")
    tenancy.add_project(ctx, NewProject(name="first"))
    ctx.session.flush()

    def listing():
        with statements(ctx.session) as counted:
            inventory.list_clusters(ctx, ClusterFilter())
            tenancy.list_projects(ctx)
        return len(counted)

    few = listing()
    for number in range(2, 6):
        inventory.add_pod(ctx, NewPod(zone="z1", name=f"p{number}", cidr=f"10.0.{number}.0/24",
                                      gateway=f"10.0.{number}.1"))
        inventory.add_cluster(ctx, NewCluster(zone="z1", pod=f"p{number}", name="c1"))
        tenancy.add_project(ctx, NewProject(name=f"project{number}"))
    ctx.session.flush()
    assert listing() == few
