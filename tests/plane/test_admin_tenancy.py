"""Offerings, and who owns what: domains, accounts, projects, users, quotas; and the event log
that every administrative change writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from occistack.federation import verify_password
from occistack.model import ROOT_DOMAIN_ID, CatalogGeneration, EventRecord, Quota
from occistack.plane import admin
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from tests.factories import VirtualMachineFactory


CHEAP_HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$TQmfGmQ/jg3nTE1MTxHuJA"


# --- offerings ------------------------------------------------------------------------------------------

def test_an_offering_is_created_and_moves_the_catalog(session):
    offering = admin.create_offering(session, term="m1.large", title="Large", cores=4, memory_gib=8, disk_gib=80,
                                     speed_ghz=2.4, architecture="x64", host_tags="ssd", storage_tags=["fast"],
                                     ha_enabled=True)
    assert (offering.term, offering.cores, offering.memory_gib, offering.disk_gib) == ("m1.large", 4, 8.0, 80.0)
    assert (offering.host_tags, offering.storage_tags, offering.ha_enabled) == ("ssd", "fast", True)
    assert session.get(CatalogGeneration, 1).generation >= 1


@pytest.mark.parametrize("options, error, message", [
    ({"term": "small"}, Conflict, "the term 'small' is taken by the CRTP resource template"),
    ({"term": "mem_large"}, Conflict, "CRTP"),
    ({"term": "no spaces"}, InvalidRequest, "is not a valid OCCI term"),
    ({"term": ".dot"}, InvalidRequest, "is not a valid OCCI term"),
    ({"term": ""}, InvalidRequest, "needs a term"),
    ({"cores": 0}, InvalidRequest, "the number of cores must be at least 1"),
    ({"memory_gib": 0}, InvalidRequest, "the memory in GiB must be greater than 0"),
    ({"disk_gib": -1}, InvalidRequest, "the disk size in GiB must be greater than 0"),
    ({"architecture": "arm64"}, InvalidRequest, "architecture 'arm64' is not one of the accepted values: x86, x64"),
])
def test_bad_offerings_are_refused(session, options, error, message):
    with pytest.raises(error, match=message):
        admin.create_offering(session, **{"term": "m1", "cores": 1, "memory_gib": 1, **options})


def test_offering_terms_are_unique_and_offerings_in_use_stay(session):
    offering = admin.create_offering(session, term="m1", cores=1, memory_gib=1)
    with pytest.raises(Conflict, match="a service offering with the term 'm1' already exists"):
        admin.create_offering(session, term="m1", cores=2, memory_gib=2)
    vm = VirtualMachineFactory(session=session, offering_id=offering.id)
    with pytest.raises(Conflict, match="offering 'm1' still has 1 virtual machine"):
        admin.remove_offering(session, "m1")
    vm.offering_id = None
    session.flush()
    admin.remove_offering(session, "m1")
    assert admin.list_offerings(session) == []


# --- domains and accounts ------------------------------------------------------------------------------

def test_domains_form_a_tree_of_paths(session):
    science = admin.create_domain(session, name="science")
    physics = admin.create_domain(session, name="physics", parent="/science/")
    admin.create_domain(session, name="chemistry", parent="science")
    assert (science.parent_id, science.path) == (ROOT_DOMAIN_ID, "/science/")
    assert (physics.parent_id, physics.path) == (science.id, "/science/physics/")
    assert [d.path for d in admin.list_domains(session, under="/science")] == \
        ["/science/", "/science/chemistry/", "/science/physics/"]
    with pytest.raises(Conflict, match="a domain with the path /science/physics/ already exists"):
        admin.create_domain(session, name="physics", parent=science.id)
    with pytest.raises(NotFound, match="no domain named '/arts/'"):
        admin.create_domain(session, name="music", parent="/arts/")
    with pytest.raises(InvalidRequest, match="is not usable"):
        admin.create_domain(session, name="a/b")


def test_domains_in_use_and_the_root_stay(session):
    admin.create_domain(session, name="science")
    admin.create_domain(session, name="physics", parent="/science/")
    with pytest.raises(Conflict, match="domain /science/ still has 1 subdomain"):
        admin.remove_domain(session, "/science/")
    with pytest.raises(Conflict, match="the root domain / is the top of the tree"):
        admin.remove_domain(session, "/")
    admin.remove_domain(session, "/science/physics/")
    admin.remove_domain(session, "/science/")
    assert [d.path for d in admin.list_domains(session)] == ["/"]


def test_accounts_live_in_a_domain(session):
    admin.create_domain(session, name="science")
    account = admin.create_account(session, name="physics", domain="/science/", kind="admin")
    admin.create_account(session, name="physics")  # the same name in another domain
    assert account.kind == "admin"
    with pytest.raises(Conflict, match="an account named 'physics' already exists in domain /science/"):
        admin.create_account(session, name="physics", domain="/science/")
    with pytest.raises(InvalidRequest, match="account kind 'owner' is not one of the accepted values: user, admin"):
        admin.create_account(session, name="x", kind="owner")
    assert [a.name for a in admin.list_accounts(session, domain="/science/")] == ["physics"]


# --- projects and users --------------------------------------------------------------------------------

def test_a_project_goes_into_its_accounts_domain(session):
    science = admin.create_domain(session, name="science")
    account = admin.create_account(session, name="physics", domain="/science/")
    project = admin.create_project(session, name="higgs", title="Higgs", account="physics", domain="/science/")
    assert (project.domain_id, project.account_id, project.title) == (science.id, account.id, "Higgs")
    by_account_id = admin.create_project(session, name="quarks", account=account.id)
    assert by_account_id.domain_id == science.id
    plain = admin.create_project(session, name="plain")
    assert (plain.domain_id, plain.account_id) == (ROOT_DOMAIN_ID, None)
    [event] = admin.list_events(session, action="project.create", project="higgs")
    assert event.project_id == project.id


def test_project_checks(session):
    admin.create_domain(session, name="science")
    admin.create_account(session, name="physics", domain="/science/")
    with pytest.raises(NotFound, match="no account named 'physics' in domain /; there are none yet"):
        admin.create_project(session, name="higgs", account="physics")
    admin.create_project(session, name="higgs")
    with pytest.raises(Conflict, match="a project named 'higgs' already exists"):
        admin.create_project(session, name="higgs")


def test_a_user_is_created_with_a_hashed_password(session):
    admin.create_account(session, name="ops")
    admin.create_project(session, name="ops", account="ops")
    user = admin.create_user(session, name="alice@example.org", password="s3cret-long", project="ops",
                             account="ops", role="admin")
    assert verify_password(user.password_hash, "s3cret-long") and "s3cret-long" not in user.password_hash
    assert (user.role, user.account_id) == ("admin", admin.find_account(session, "ops").id)
    quick = admin.create_user(session, name="bob", password="", password_hash=CHEAP_HASH, project="ops")
    assert quick.password_hash == CHEAP_HASH and quick.role == "member"


@pytest.mark.parametrize("options, error, message", [
    ({"name": "a:b"}, InvalidRequest, "the user name 'a:b' is not usable"),
    ({"role": "owner"}, InvalidRequest, "role 'owner' is not one of the accepted values: admin, member, reader"),
    ({"password": ""}, InvalidRequest, "needs a password"),
    ({"password": "short-pw"}, InvalidRequest, "the password is too short: 8 characters; the site asks for at "
                                                "least 10"),
    ({"password": "0123456789abc", "password_min_length": 14}, InvalidRequest, "asks for at least 14"),
    ({"project": "nope"}, NotFound, "no project named 'nope'; projects are: ops; to create the project with its "
                                    "first user, ask for it"),
    ({"account": "nope"}, NotFound, "no account named 'nope' in domain /"),
])
def test_bad_users_are_refused(session, options, error, message):
    admin.create_project(session, name="ops")
    with pytest.raises(error, match=message):
        admin.create_user(session, **{"name": "alice", "password": "long-enough", "project": "ops", **options})


def test_a_short_password_only_with_the_demos_override_and_a_project_only_when_asked(session):
    admin.create_project(session, name="ops")
    demo = admin.create_user(session, name="demo", password="demo", project="ops", short_password_allowed=True)
    assert verify_password(demo.password_hash, "demo")
    created = admin.create_user(session, name="carol", password="long-enough", project="lab", create_project=True)
    assert admin.find_project(session, "lab").id == created.project_id
    with pytest.raises(InvalidRequest, match="the password is too short: 5 characters; the site asks for at least 10"):
        admin.set_user_password(session, "carol", password="short")
    admin.set_user_password(session, "carol", password="even-longer-now")
    assert verify_password(admin.find_user(session, "carol").password_hash, "even-longer-now")


def test_a_users_account_must_be_of_the_projects_domain(session):
    admin.create_domain(session, name="science")
    elsewhere = admin.create_account(session, name="physics", domain="/science/")
    admin.create_project(session, name="ops")
    with pytest.raises(NotFound, match="account 'physics' is not in domain /"):
        admin.create_user(session, name="alice", password="long-enough", project="ops", account=elsewhere.id)


def test_user_names_are_unique_and_users_in_accounts_keep_them(session):
    admin.create_account(session, name="ops")
    admin.create_project(session, name="ops")
    admin.create_user(session, name="alice", password="", password_hash=CHEAP_HASH, project="ops", account="ops")
    with pytest.raises(Conflict, match="a user named 'alice' already exists"):
        admin.create_user(session, name="alice", password="", password_hash=CHEAP_HASH, project="ops")
    with pytest.raises(Conflict, match="account 'ops' still has 1 user"):
        admin.remove_account(session, "ops")
    with pytest.raises(Conflict, match="project 'ops' still has 1 user"):
        admin.remove_project(session, "ops")
    admin.remove_user(session, "alice")
    admin.remove_account(session, "ops")
    admin.remove_project(session, "ops")
    assert admin.list_users(session) == [] and admin.list_projects(session) == []


def test_a_project_with_resources_stays(session):
    vm = VirtualMachineFactory(session=session)
    with pytest.raises(Conflict, match="still has 1 resource"):
        admin.remove_project(session, vm.project_id)


# --- quotas ------------------------------------------------------------------------------------------------

def test_quotas_are_set_replaced_and_cleared(session):
    project = admin.create_project(session, name="ops")
    first = admin.set_quota(session, project="ops", resource="vms", limit=10)
    again = admin.set_quota(session, project="ops", resource="vms", limit=20)
    admin.set_quota(session, project="ops", resource="memory_gib", limit=0.5)
    assert first.id == again.id and again.limit == 20
    assert [(q.resource, q.limit) for q in admin.list_quotas(session, project="ops")] == \
        [("memory_gib", 0.5), ("vms", 20.0)]
    admin.clear_quota(session, project="ops", resource="vms")
    assert [q.resource for q in session.scalars(select(Quota).where(Quota.project_id == project.id))] == ["memory_gib"]
    with pytest.raises(NotFound, match="project 'ops' has no vms quota"):
        admin.clear_quota(session, project="ops", resource="vms")
    assert [e.action for e in admin.list_events(session, project="ops", action="quota")] == \
        ["quota.clear", "quota.set", "quota.set", "quota.set"]


@pytest.mark.parametrize("resource, limit, message", [
    ("gpus", 1, "'gpus' is not a quota resource; quotas limit: vms, cores, memory_gib"),
    ("vms", -1, "the vms limit counts virtual machines: it must be a whole number, 0 or more; got -1"),
    ("vms", 2.5, "must be a whole number"),
    ("storage_gib", -0.5, "the storage_gib limit must be at least 0"),
])
def test_bad_quotas_are_refused(session, resource, limit, message):
    admin.create_project(session, name="ops")
    with pytest.raises(InvalidRequest, match=message):
        admin.set_quota(session, project="ops", resource=resource, limit=limit)


def test_a_zero_quota_is_a_limit(session):
    admin.create_project(session, name="ops")
    assert admin.set_quota(session, project="ops", resource="public_ips", limit=0).limit == 0


# --- the event log ---------------------------------------------------------------------------------------

def test_events_are_listed_newest_first_and_filtered(session):
    actor = admin.Actor.admin("root", None)
    admin.create_zone(session, name="z1", actor=actor)
    admin.create_zone(session, name="z2", actor=admin.Actor.cli("operator"))
    admin.create_offering(session, term="m1", cores=1, memory_gib=1)
    zone_events = admin.list_events(session, action="zone")
    assert [(e.action, e.actor) for e in zone_events] == [("zone.create", "cli:operator"),
                                                          ("zone.create", "admin:root")]
    assert [e.action for e in admin.list_events(session)] == ["offering.create", "zone.create", "zone.create"]
    assert len(admin.list_events(session, limit=1)) == 1
    z1 = admin.find_zone(session, "z1")
    assert [e.resource_id for e in admin.list_events(session, resource=f"zone:{z1.id}")] == [str(z1.id)]
    assert [e.action for e in admin.list_events(session, resource="offering")] == ["offering.create"]
    assert admin.list_events(session, action="zone.delete") == []
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert admin.list_events(session, since=future) == []
    assert len(admin.list_events(session, since=datetime.now(timezone.utc) - timedelta(hours=1))) == 3


def test_an_action_group_is_not_a_prefix_of_other_groups(session):
    admin.create_zone(session, name="z1")
    session.add(EventRecord(action="zones_archived.run", state="completed", resource_type="x", actor="system"))
    session.flush()
    assert [e.action for e in admin.list_events(session, action="zone")] == ["zone.create"]


@pytest.mark.parametrize("options, message", [
    ({"limit": 0}, "the number of events must be from 1 to 1000"),
    ({"limit": 1001}, "from 1 to 1000"),
    ({"resource": "host:"}, "is not TYPE or TYPE:ID"),
    ({"action": ""}, "the action filter is empty"),
])
def test_bad_event_filters(session, options, message):
    with pytest.raises(InvalidRequest, match=message):
        admin.list_events(session, **options)
