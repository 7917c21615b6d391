"""What no single project may take without an administrator's decision (issue 12, point 8):
interfaces per compute, the public-address quota, and the default quotas of new projects
made by the admin API. Through the real WSGI stack, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from webtest import TestApp

from occistack.model import IpAllocation, NetworkInterface, Project, Quota
from occistack.plane.limits import DEFAULT_QUOTAS, parse_quotas
from tests.conftest import basic
from tests.api.admin_client import new_admin
from tests.api.occi_face import (
    INFRA,
    OCCIClient,
    entity_id,
    path_of,
)
from tests.api.test_management_plane import TEXT, compute_body, create, in_db, user_project

PUBLIC_LINK = f'Link: </network/public>; rel="{INFRA}network"'


def public_links(count: int) -> list[str]:
    return [PUBLIC_LINK] * count


def addresses_held(world, project_id: int) -> int:
    with world.session_factory() as session:
        return session.scalar(select(func.count()).select_from(IpAllocation)
                              .where(IpAllocation.project_id == project_id, IpAllocation.nic_id.is_not(None)))


def test_a_create_with_241_public_links_is_refused_and_takes_no_address(world, client):
    project_id = user_project(world, client)
    response = create(client, *public_links(241), status=400)
    assert "a compute may have at most 8 network interfaces at this site (occistack.max_nics_per_compute); " \
           "this would give it 241" in response.text
    assert client.get("/compute/", headers=TEXT).text == ""
    assert addresses_held(world, project_id) == 0


def test_a_compute_may_have_as_many_interfaces_as_the_limit_and_no_more(world, client):
    vm = entity_id(path_of(create(client, *public_links(8)).headers["Location"]))
    with world.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(NetworkInterface)
                              .where(NetworkInterface.vm_id == vm)) == 8
    # A ninth, linked afterwards, is refused the same way.
    link = "\n".join([f'Category: networkinterface; scheme="{INFRA}"; class="kind"',
                      f'X-OCCI-Attribute: occi.core.source="/compute/{vm}"',
                      'X-OCCI-Attribute: occi.core.target="/network/public"'])
    refused = client.post("/link/networkinterface/", link, headers=TEXT, status=400)
    assert "at most 8 network interfaces" in refused.text and "this would give it 9" in refused.text
    client.delete(f"/compute/{vm}", status=200)


def test_the_public_address_quota_is_enforced(world, client):
    project_id = user_project(world, client)
    in_db(world, lambda session: session.add(Quota(project_id=project_id, resource="public_ips", limit=2)))
    first = entity_id(path_of(create(client, *public_links(2)).headers["Location"]))
    refused = create(client, PUBLIC_LINK, status=409)
    assert "the project's quota of 2 public IP addresses would be exceeded: it holds 2 and this asks for 1 more" \
        in refused.text
    assert addresses_held(world, project_id) == 2
    client.delete(f"/compute/{first}", status=200)
    # Given back with the compute: the next one gets its address.
    second = entity_id(path_of(create(client, PUBLIC_LINK).headers["Location"]))
    assert addresses_held(world, project_id) == 1
    client.delete(f"/compute/{second}", status=200)


# --- default quotas through the admin API ------------------------------------------------------------

def admin_client(world) -> TestApp:
    return new_admin(world, prefix="root")


def test_a_project_created_by_the_admin_api_gets_the_default_quotas(world):
    root = admin_client(world)
    name = f"lab-{uuid.uuid4().hex[:8]}"
    project = root.post_json("/admin/projects", {"name": name}, status=201).json
    quotas = {q["resource"]: q["limit"] for q in root.get(f"/admin/quotas?project_id={project['id']}").json}
    assert quotas == parse_quotas(DEFAULT_QUOTAS) == {
        "vms": 20, "cores": 40, "memory_gib": 80, "storage_gib": 500, "networks": 5, "public_ips": 10}
    # The administrator changes them as always.
    root.post_json("/admin/quotas", {"project_id": project["id"], "resource": "public_ips", "limit": 50}, status=200)
    assert {q["resource"]: q["limit"] for q in root.get(f"/admin/quotas?project_id={project['id']}").json}[
        "public_ips"] == 50
    # A project that existed before keeps what it had (none here).
    with world.session_factory() as session:
        older = session.scalar(select(Project.id).where(Project.name == "demo"))
        assert session.scalar(select(func.count()).select_from(Quota).where(Quota.project_id == older)) == 0


def test_the_default_quotas_stop_a_new_project_taking_every_public_address(world):
    """What the attack did, against a project the admin API made: the eleventh public address
    is refused, the zone keeps the rest."""
    root = admin_client(world)
    name = f"crowd-{uuid.uuid4().hex[:8]}"
    project = root.post_json("/admin/projects", {"name": name}, status=201).json
    password = "a-long-password-1"
    root.post_json("/admin/users", {"name": name, "password": password, "project_id": project["id"]}, status=201)
    member = OCCIClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, password)})
    made = [entity_id(path_of(member.post("/compute/", compute_body(*public_links(5)), headers=TEXT,
                                          status=201).headers["Location"])) for _ in range(2)]
    refused = member.post("/compute/", compute_body(PUBLIC_LINK), headers=TEXT, status=409)
    assert "quota of 10 public IP addresses would be exceeded" in refused.text
    assert addresses_held(world, project["id"]) == 10
    for vm in made:
        member.delete(f"/compute/{vm}", status=200)
