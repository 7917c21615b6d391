"""Resource limits above the project (issue 14, point 3): an account's and a domain's limits count
the use of all their projects (a domain's, its subdomains' too) when a request is accepted, and
nest as CloudStack's do when they are set."""

from __future__ import annotations

import pytest

from occistack.plane.admin.cases import limits, tenancy, users
from occistack.plane.admin.cases.limits import NewTenancyLimit, TenancyLimitFilter, TenancyLimitOf
from occistack.plane.admin.cases.tenancy import NewAccount, NewDomain, NewProject
from occistack.plane.admin.cases.users import QuotaLimit
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import Conflict, InvalidRequest, QuotaExceeded
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.quotas import check_quota, domain_paths_above
from tests.factories import OsTemplateFactory, VirtualMachineFactory


@pytest.fixture
def ctx(tm_session):
    """/science/ with /science/physics/; account lab in physics owns projects p1 and p2; p3 is in
    physics without an account. Projects start with no quotas."""
    services = PlaneServices(dispatcher=None, placement=PlacementService(), password_min_length=10,
                             limits=SiteLimits(default_quotas={}))
    context = PlaneContext(tm_session, None, services)
    tenancy.add_domain(context, NewDomain(name="science"))
    tenancy.add_domain(context, NewDomain(name="physics", parent="/science/"))
    tenancy.add_account(context, NewAccount(name="lab", domain="/science/physics/"))
    for name, account in (("p1", "lab"), ("p2", "lab"), ("p3", None)):
        tenancy.add_project(context, NewProject(name=name, domain="/science/physics/", account=account))
    return context


def run_vms(ctx, project: str, count: int) -> None:
    project_id = tenancy.show_project(ctx, project).id
    template = OsTemplateFactory(session=ctx.session)
    for _ in range(count):
        VirtualMachineFactory(session=ctx.session, project_id=project_id, template_id=template.id)


def asks(ctx, project: str, **wanted) -> None:
    ctx.session.info.pop("occistack.cache.limits_above", None)  # a new request, a new transaction
    check_quota(ctx.session, tenancy.show_project(ctx, project).id, **wanted)


def test_an_account_s_limit_counts_all_its_projects(ctx):
    limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=3, account="lab", domain="/science/physics/"))
    run_vms(ctx, "p1", 2)
    asks(ctx, "p2", vms=1)
    run_vms(ctx, "p2", 1)
    with pytest.raises(QuotaExceeded, match="the limit of account 'lab' of 3 virtual machines would be exceeded: "
                                            "its projects hold 3 and this asks for 1 more"):
        asks(ctx, "p1", vms=1)
    asks(ctx, "p3", vms=5)  # not the account's


def test_a_domain_s_limit_counts_its_subdomains_projects(ctx):
    limits.set_limit(ctx, NewTenancyLimit(resource="cores", limit=4, domain="/science/"))
    run_vms(ctx, "p1", 2)
    run_vms(ctx, "p3", 1)
    asks(ctx, "p2", cores=1)
    with pytest.raises(QuotaExceeded, match=r"the limit of domain /science/ of 4 cores would be exceeded"):
        asks(ctx, "p3", cores=2)
    asks(ctx, "p3", vms=100)  # another resource


def test_limits_nest_when_they_are_set(ctx):
    limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=10, domain="/science/"))
    with pytest.raises(Conflict, match=r"domain /science/physics/ may not hold more than domain /science/: 11"):
        limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=11, domain="/science/physics/"))
    with pytest.raises(Conflict, match=r"account 'lab' may not hold more than domain /science/"):
        limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=12, account="lab", domain="/science/physics/"))
    limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=6, account="lab", domain="/science/physics/"))
    with pytest.raises(Conflict, match=r"project 'p1' may not hold more than account 'lab': 7"):
        users.set_quota(ctx, QuotaLimit(project="p1", resource="vms", limit=7))
    users.set_quota(ctx, QuotaLimit(project="p1", resource="vms", limit=6))
    with pytest.raises(Conflict, match=r"domain /science/'s limit may not be below that of an account in it"):
        limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=5, domain="/science/"))
    replaced = limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=8, domain="/science/"))
    assert (replaced.created, replaced.limit.limit) == (False, 8)


def test_limits_are_listed_with_their_projects_use_and_cleared(ctx):
    limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=9, domain="/science/"))
    limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=5, account="lab", domain="/science/physics/"))
    run_vms(ctx, "p1", 2)
    run_vms(ctx, "p3", 1)
    listed = {limit.owner: (limit.used, limit.limit) for limit in limits.list_limits(ctx)}
    assert listed == {"domain /science/": (3, 9), "account 'lab'": (2, 5)}
    assert [limit.owner for limit in limits.list_limits(ctx, TenancyLimitFilter(domain="/science/"))] == [
        "domain /science/"]
    limits.clear_limit(ctx, TenancyLimitOf(resource="vms", account="lab", domain="/science/physics/"))
    assert [limit.owner for limit in limits.list_limits(ctx)] == ["domain /science/"]
    with pytest.raises(InvalidRequest, match="name the domain or the account"):
        limits.set_limit(ctx, NewTenancyLimit(resource="vms", limit=1))
    with pytest.raises(InvalidRequest, match="'gpus' is not a quota resource"):
        limits.set_limit(ctx, NewTenancyLimit(resource="gpus", limit=1, domain="/"))


def test_the_domains_above_a_path():
    assert domain_paths_above("/") == ["/"]
    assert domain_paths_above("/a/b/") == ["/", "/a/", "/a/b/"]
