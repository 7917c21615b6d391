"""Users in several projects: the admin API's memberships, and OCCI requests that name the
project they work in with X-Auth-Project-Id (HTTP Basic here; tests/federation has the
Keystone tokens scoped to a member's project)."""

from __future__ import annotations

import pytest

from tests.api.admin_client import AdminClient, error_of
from tests.occi import compute_body, locations_of

TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}


@pytest.fixture
def two_projects(world, root):
    """A user at home in one project and member of a second one (whose own user is ``owner``)."""
    user = world.client("wanderer")
    owner = world.client("owner")
    home = root.get("/admin/users", params={"project": user.user_name}).json[0]
    second = root.get("/admin/users", params={"project": owner.user_name}).json[0]
    membership = root.post_json("/admin/memberships", {"user": user.user_name, "project": owner.user_name},
                                status=201).json
    return user, owner, home, second, membership


def in_project(project: str) -> dict[str, str]:
    return {**TEXT, "X-Auth-Project-Id": project}


def test_a_request_works_in_the_project_it_names(two_projects):
    user, owner, home, second, membership = two_projects
    assert membership["role"] == "member" and membership["project"] == owner.user_name and membership["user"] == user.user_name
    made_there = user.post("/compute/", compute_body(), headers=in_project(owner.user_name), status=201)
    location = made_there.headers["Location"]
    # The owner of the project sees it; the user's home project does not hold it.
    assert location in locations_of(owner.get("/compute/", headers=TEXT).text)
    assert location not in locations_of(user.get("/compute/", headers=TEXT).text)
    assert location in locations_of(user.get("/compute/", headers=in_project(owner.user_name)).text)
    # By id too.
    assert location in locations_of(user.get("/compute/", headers=in_project(str(second["project_id"]))).text)


def test_without_the_header_a_request_works_in_the_home_project(two_projects):
    user, owner, home, _, _ = two_projects
    made = user.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"]
    assert made in locations_of(user.get("/compute/", headers=in_project(user.user_name)).text)
    assert made not in locations_of(owner.get("/compute/", headers=TEXT).text)


def test_a_project_the_user_holds_no_role_in_is_403_naming_theirs(world, two_projects):
    user, owner, _, _, _ = two_projects
    stranger = world.client("stranger")
    response = user.get("/compute/", headers=in_project(stranger.user_name), status=403)
    assert f"holds no role in project {stranger.user_name!r}" in response.text
    assert user.user_name in response.text and owner.user_name in response.text


def test_a_membership_taken_away_closes_the_project_at_once(root, two_projects):
    user, owner, _, _, membership = two_projects
    user.get("/compute/", headers=in_project(owner.user_name), status=200)
    root.delete(f"/admin/memberships/{membership['id']}", status=200)
    user.get("/compute/", headers=in_project(owner.user_name), status=403)
    user.get("/compute/", headers=TEXT, status=200)


def test_the_role_held_in_the_named_project_is_the_role_of_the_request(world, root, two_projects):
    user, owner, _, _, membership = two_projects
    root.patch_json(f"/admin/memberships/{membership['id']}", {"role": "admin"}, status=200)
    # An admin there: the admin API opens to this request (it did not at home, as a member).
    as_user = AdminClient(world.wsgi_app, extra_environ=user.extra_environ)
    as_user.get("/admin/zones", status=403)
    as_user.get("/admin/zones", headers={"X-Auth-Project-Id": owner.user_name}, status=200)


def test_memberships_through_the_admin_api(world, root, two_projects):
    user, owner, home, second, membership = two_projects
    listed = root.get("/admin/memberships", params={"user": user.user_name}).json
    assert [entry["id"] for entry in listed] == [membership["id"]]
    assert root.get("/admin/memberships", params={"project": owner.user_name}).json == listed
    assert root.get(f"/admin/memberships/{membership['id']}").json == membership
    duplicate = root.post_json("/admin/memberships", {"user": user.user_name, "project": owner.user_name},
                               expect_errors=True)
    assert "already holds the role 'member'" in error_of(duplicate, 409)
    at_home = root.post_json("/admin/memberships", {"user": user.user_name, "project": user.user_name},
                             expect_errors=True)
    assert "is the home project of user" in error_of(at_home, 409)
    bad_role = root.patch_json(f"/admin/memberships/{membership['id']}", {"role": "owner"}, expect_errors=True)
    assert "admin, member, reader" in error_of(bad_role, 400)
    unknown = root.post_json("/admin/memberships", {"user": "nobody-at-all", "project": owner.user_name},
                             expect_errors=True)
    assert "nobody-at-all" in error_of(unknown, 404)
    events = root.get("/admin/events", params={"resource_type": "membership"}).json
    assert any(event["action"] == "membership.add" for event in events)


def test_removing_the_project_removes_its_memberships(root, world, two_projects):
    user, _, _, _, _ = two_projects
    extra = root.post_json("/admin/projects", {"name": f"extra-{user.user_name}"}, status=201).json
    added = root.post_json("/admin/memberships", {"user": user.user_name, "project": extra["id"]}, status=201).json
    user.get("/compute/", headers=in_project(extra["name"]), status=200)
    root.delete(f"/admin/projects/{extra['id']}", status=200)
    root.get(f"/admin/memberships/{added['id']}", status=404)
    user.get("/compute/", headers=in_project(extra["name"]), status=403)


def test_a_project_in_a_disabled_domain_is_closed_to_its_members(world, root):
    user = world.client("visitor")
    domain = root.post_json("/admin/domains", {"name": f"closed-{user.user_name}"}, status=201).json
    project = root.post_json("/admin/projects", {"name": f"in-{domain['name']}", "domain": domain["id"]},
                             status=201).json
    root.post_json("/admin/memberships", {"user": user.user_name, "project": project["id"]}, status=201)
    user.get("/compute/", headers=in_project(project["name"]), status=200)
    root.post(f"/admin/domains/{domain['id']}/actions/disable", status=200)
    refused = user.get("/compute/", headers=in_project(project["name"]), status=403)
    assert f"holds no role in project {project['name']!r}" in refused.text
    user.get("/compute/", headers=TEXT, status=200)  # their home project is elsewhere, and open
    root.post(f"/admin/domains/{domain['id']}/actions/enable", status=200)
    user.get("/compute/", headers=in_project(project["name"]), status=200)
