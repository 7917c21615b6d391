"""The administrator's operations called as every face calls them: with one PlaneContext (the
session, who acts, the plane's services) and a frozen request -- no face in between."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from occistack.model import EventRecord, Host, Quota
from occistack.plane.admin.cases import catalog, hosts, inventory, networks, storage, tenancy, users
from occistack.plane.admin.cases.catalog import NewTemplate
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.hosts import HostAction, HostBmc, NewHost
from occistack.plane.admin.cases.inventory import NewCluster, NewPod, NewRegion, NewZone
from occistack.plane.admin.cases.networks import NewPhysicalNetwork, NewVlanRange
from occistack.plane.admin.cases.storage import NewSecondaryStorage
from occistack.plane.admin.cases.users import NewUser, QuotaLimit, QuotaOf
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import InvalidRequest, NotFound
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.sealing import Sealer



class RecordingDispatcher:
    """Keeps what the operations submit, with the caller each names."""

    def __init__(self):
        self.submitted = []

    def submit(self, session, operation, caller=None, *args, **options):
        self.submitted.append((operation, caller))

    def submit_waiting(self, session, operation, commands, caller=None, *args, **options):
        self.submitted.append((operation, caller))


@pytest.fixture
def services():
    return PlaneServices(dispatcher=RecordingDispatcher(), placement=PlacementService(), password_min_length=12,
                         sealer=Sealer(Fernet.generate_key()), limits=SiteLimits(default_quotas={"vms": 3}))


@pytest.fixture
def system(session, services):
    return PlaneContext(session, None, services)


@pytest.fixture
def administrator(system):
    """The context of a signed-in administrator, a user of the cloud like any other."""
    added = users.add_user(system, NewUser(name="root", password="a-long-password", project="operations",
                                           role="admin", create_project=True))
    return system.acting_as(Caller(added.user.id, added.user.name, added.user.project_id))


def actors(session, action):
    return [(event.actor, event.user_id)
            for event in session.scalars(select(EventRecord).where(EventRecord.action == action)
                                         .order_by(EventRecord.id))]


def test_the_context_says_who_acts(system, administrator):
    inventory.add_region(system, NewRegion(name="europe"))
    inventory.add_region(PlaneContext(system.session, None, system.services, operator="cli:ann"),
                         NewRegion(name="asia"))
    inventory.add_region(administrator, NewRegion(name="africa"))
    assert actors(system.session, "region.create") == [("system", None), ("cli:ann", None),
                                                       ("admin:root", administrator.caller.user_id)]


def test_a_user_gets_the_sites_password_length_and_default_quotas(system):
    with pytest.raises(InvalidRequest, match="asks for at least 12"):
        users.add_user(system, NewUser(name="ann", password="eleven-char", project="p", create_project=True))
    added = users.add_user(system, NewUser(name="ann", password="twelve-chars", project="p", create_project=True))
    assert added.project_created
    assert not users.add_user(system, NewUser(name="bob", password="twelve-chars", project="p")).project_created
    assert [(quota.resource, quota.limit) for quota in users.list_quotas(system, "p")] == [("vms", 3)]


def test_a_quota_is_created_then_replaced_then_cleared_by_id_or_name(system):
    tenancy.add_project(system, tenancy.NewProject(name="p"))
    first = users.set_quota(system, QuotaLimit(project="p", resource="cores", limit=8))
    again = users.set_quota(system, QuotaLimit(project="p", resource="cores", limit=16))
    assert (first.created, again.created, again.quota.id, again.quota.limit) == (True, False, first.quota.id, 16)
    users.clear_quota(system, first.quota.id)
    users.set_quota(system, QuotaLimit(project="p", resource="cores", limit=4))
    users.clear_quota(system, QuotaOf(project="p", resource="cores"))
    assert system.session.scalars(select(Quota).where(Quota.resource == "cores")).all() == []
    with pytest.raises(NotFound, match="no quota with id 999999"):
        users.clear_quota(system, 999999)


def test_an_administrator_builds_a_rack_and_moves_a_host(administrator):
    zone = inventory.add_zone(administrator, NewZone(name="z1", dns="10.0.0.2"))
    inventory.add_pod(administrator, NewPod(zone="z1", name="p1", cidr="10.0.1.0/24", gateway="10.0.1.1"))
    inventory.add_cluster(administrator, NewCluster(zone="z1", pod="p1", name="c1"))
    added = hosts.add_host(administrator, NewHost(zone="z1", pod="p1", cluster="c1", name="h1", address="10.0.1.21",
                                                  cpu_cores=8, cpu_mhz=2000, memory_mib=16384))
    assert added.agent_token and added.host.zone_id == zone.id
    assert hosts.act_on_host(administrator, "h1", HostAction.MAINTENANCE).resource_state == "maintenance"
    assert hosts.act_on_host(administrator, added.host.id, HostAction.CANCEL_MAINTENANCE).resource_state == "enabled"
    assert not inventory.act_on_pod(administrator, "p1", Switch.DISABLE, zone="z1").enabled
    assert actors(administrator.session, "host.add") == [("admin:root", administrator.caller.user_id)]


def test_a_bmc_password_is_sealed_with_the_contexts_sealer(administrator):
    inventory.add_zone(administrator, NewZone(name="z1"))
    inventory.add_pod(administrator, NewPod(zone="z1", name="p1", cidr="10.0.1.0/24", gateway="10.0.1.1"))
    inventory.add_cluster(administrator, NewCluster(zone="z1", pod="p1", name="c1"))
    hosts.add_host(administrator, NewHost(zone="z1", pod="p1", cluster="c1", name="h1", address="10.0.1.21",
                                          cpu_cores=8, cpu_mhz=2000, memory_mib=16384))
    host = hosts.set_host_bmc(administrator, "h1", HostBmc(address="10.0.9.21", username="ipmi", password="s3cret"))
    row = administrator.session.get(Host, host.id)
    assert administrator.services.sealer.open(row.bmc_password_sealed) == "s3cret"
    assert hosts.act_on_host(administrator, "h1", HostAction.CLEAR_BMC).bmc_address is None
    assert row.bmc_password_sealed is None


def test_an_administrators_download_belongs_to_no_project(administrator):
    inventory.add_zone(administrator, NewZone(name="z1"))
    storage.add_secondary_storage(administrator, NewSecondaryStorage(zone="z1", name="s1", capacity_gib=100,
                                                                     url="nfs://10.0.0.5/export/secondary"))
    template = catalog.register_template(administrator, NewTemplate(
        term="debian", url="https://images.example.org/debian.qcow2", checksum="sha256:" + "ab" * 32, zone="z1"))
    [(operation, caller)] = administrator.services.dispatcher.submitted
    assert (operation.name, operation.arguments["template_id"], caller) == ("download_template", template.id, None)
    assert [copy.zone for copy in template.copies] == ["z1"]


def test_a_vlan_range_is_named_by_id_or_by_its_bounds(administrator):
    inventory.add_zone(administrator, NewZone(name="z1"))
    first = networks.add_physical_network(administrator, NewPhysicalNetwork(zone="z1", name="n1",
                                                                            vlan_ranges=["100-199"]))
    other = networks.add_physical_network(administrator, NewPhysicalNetwork(zone="z1", name="n2"))
    added = networks.add_vlan_range(administrator, other.id, NewVlanRange(first=300, last=309))
    with pytest.raises(NotFound, match=f"physical network 'n1' has no VLAN range with id {added.id}"):
        networks.find_vlan_range(administrator, first.id, added.id)
    with pytest.raises(NotFound, match="has no VLAN range 200-299; its ranges are: 100-199"):
        networks.remove_vlan_range(administrator, "n1", "200-299", zone="z1")
    assert networks.remove_vlan_range(administrator, "n1", "100-199", zone="z1").first_vlan == 100
    assert networks.remove_vlan_range(administrator, other.id, added.id).id == added.id
    assert networks.list_vlan_ranges(administrator, zone="z1") == []
