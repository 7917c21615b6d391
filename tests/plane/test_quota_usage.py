"""Quota listings show what each project holds beside its limit (issue 14, point 3's listing):
the grouped count of many projects agrees with the count the quota check makes for one."""

from __future__ import annotations

from occistack.model import QUOTA_RESOURCES
from occistack.plane.admin.cases import users
from occistack.plane.admin.cases.users import QuotaLimit
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.quotas import usage_by_project, usage_of
from tests.factories import NetworkFactory, OsTemplateFactory, ProjectFactory, VirtualMachineFactory, VolumeFactory


def test_grouped_usage_agrees_with_the_quota_check_s_count(tm_session):
    busy, quiet, idle = (ProjectFactory(session=tm_session) for _ in range(3))
    template = OsTemplateFactory(session=tm_session)
    for cores, memory, root in ((2, 4.0, 20.0), (4, 8.5, 0.0)):
        VirtualMachineFactory(session=tm_session, project_id=busy.id, template_id=template.id, cores=cores,
                              memory_gib=memory, root_disk_gib=root)
    VirtualMachineFactory(session=tm_session, project_id=quiet.id, template_id=template.id)
    VolumeFactory(session=tm_session, project_id=busy.id, size_gib=30.0)
    NetworkFactory(session=tm_session, project_id=busy.id)
    grouped = usage_by_project(tm_session, [busy.id, quiet.id, idle.id], QUOTA_RESOURCES)
    for project in (busy, quiet, idle):
        assert grouped[project.id] == usage_of(tm_session, project.id, QUOTA_RESOURCES), project.name
    assert (grouped[busy.id]["vms"], grouped[busy.id]["cores"], grouped[busy.id]["storage_gib"]) == (2, 6, 50.0)
    assert grouped[idle.id] == dict.fromkeys(QUOTA_RESOURCES, 0.0)


def test_a_quota_record_shows_use_beside_the_limit(tm_session):
    project = ProjectFactory(session=tm_session)
    template = OsTemplateFactory(session=tm_session)
    VirtualMachineFactory(session=tm_session, project_id=project.id, template_id=template.id, cores=3)
    ctx = PlaneContext(tm_session, None, PlaneServices(dispatcher=None, placement=PlacementService(),
                                                       password_min_length=10, limits=SiteLimits()))
    quota = users.set_quota(ctx, QuotaLimit(project=project.id, resource="cores", limit=8)).quota
    assert (quota.used, quota.limit) == (3, 8)
    assert [(q.resource, q.used) for q in users.list_quotas(ctx, project.id)] == [("cores", 3)]
