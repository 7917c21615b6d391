"""Private templates shared with other projects (updateTemplatePermissions) through the admin
API, seen through the OCCI face: the project it is shared with finds it among its os_tpl
mixins and makes computes from it, a third project does not, and unsharing hides it again at
once while the computes made from it keep running."""

from __future__ import annotations

import pytest

from tests.api.occi_face import attributes, categories, entity_id, path_of
from tests.api.test_template_registration import register, unique
from tests.occi import OS_TPL, TEXT, compute_body


def os_tpl_terms(client) -> set[str]:
    return {found["term"] for found in categories(client.get("/-/", headers=TEXT)) if found["scheme"] == OS_TPL}


def project_of(client) -> str:
    # World.new_project_user names the project after its user.
    return client.user_name


@pytest.fixture
def owner(world):
    return world.client("owner")


@pytest.fixture
def private(root, owner) -> dict:
    """A ready template private to ``owner``'s project."""
    made = register(root, unique("private-"), public=False, project=project_of(owner)).json
    assert root.get(f"/admin/templates/{made['id']}").json["state"] == "ready"
    return made


def share(root, template: dict, project: str, status: int = 200, action: str = "share"):
    return root.post_json(f"/admin/templates/{template['id']}/actions/{action}", {"project": project}, status=status)


def test_a_shared_template_is_offered_to_that_project_only_until_unshared(world, root, owner, private):
    friend, stranger = world.client("friend"), world.client("stranger")
    term = private["term"]
    assert term in os_tpl_terms(owner)
    assert term not in os_tpl_terms(friend)  # read now, so the catalog of friend is cached

    shared = share(root, private, project_of(friend)).json
    assert shared["shared_with"] == [project_of(friend)]
    assert root.get(f"/admin/templates/{private['id']}").json["shared_with"] == [project_of(friend)]
    assert term in os_tpl_terms(friend)
    assert term not in os_tpl_terms(stranger)
    vm = entity_id(path_of(friend.post("/compute/", compute_body(template=term), headers=TEXT,
                                       status=201).headers["Location"]))
    assert attributes(friend.get(f"/compute/{vm}", headers=TEXT).text)["occi.compute.state"] == "active"
    refused = stranger.post("/compute/", compute_body(template=term), headers=TEXT, status=400)
    assert "offers no such template" in refused.text
    # The template stays its owner's: the project it was shared with cannot remove it.
    removal = friend.delete("/-/", params=f'Category: {term}; scheme="{OS_TPL}"; class="mixin"',
                            headers={"Content-Type": "text/plain"}, status=403)
    assert "shared with your project by another project" in removal.text

    unshared = share(root, private, project_of(friend), action="unshare").json
    assert unshared["shared_with"] == []
    assert term not in os_tpl_terms(friend)
    assert term in os_tpl_terms(owner)
    rendering = friend.get(f"/compute/{vm}", headers=TEXT).text
    assert attributes(rendering)["occi.compute.state"] == "active"
    assert f'Category: {term}; scheme="{OS_TPL}"; class="mixin"' in rendering
    friend.post("/compute/", compute_body(template=term), headers=TEXT, status=400)
    friend.delete(f"/compute/{vm}", status=200)


def test_a_template_shared_with_several_projects_lists_them_by_name(world, root, private):
    first, second = world.client("first"), world.client("second")
    share(root, private, project_of(second))
    share(root, private, project_of(first))
    assert root.get(f"/admin/templates/{private['id']}").json["shared_with"] == sorted(
        [project_of(first), project_of(second)])
    listed = {found["id"]: found for found in root.get("/admin/templates").json}
    assert listed[private["id"]]["shared_with"] == sorted([project_of(first), project_of(second)])


def test_sharing_refusals_say_what_is_wrong(world, root, owner, private):
    friend = world.client("friend")
    public = register(root, unique("public-")).json
    message = share(root, public, project_of(friend), status=409).json["error"]["message"]
    assert "is public" in message
    message = share(root, private, project_of(owner), status=400).json["error"]["message"]
    assert f"belongs to project {project_of(owner)!r}" in message
    share(root, private, "no-such-project", status=404)
    root.post_json("/admin/templates/999999/actions/share", {"project": project_of(friend)}, status=404)
    message = share(root, private, project_of(friend), status=409, action="unshare").json["error"]["message"]
    assert "is not shared with" in message
    share(root, private, project_of(friend))
    message = share(root, private, project_of(friend), status=409).json["error"]["message"]
    assert "already shared" in message
    root.post_json(f"/admin/templates/{private['id']}/actions/share", {}, status=400)
    iso = register(root, unique("iso-"), format="iso", public=False, project=project_of(owner)).json
    message = share(root, iso, project_of(friend), status=400).json["error"]["message"]
    assert "ISO" in message


def test_only_the_administrator_shares(member, private, world):
    friend = world.client("friend")
    member.post_json(f"/admin/templates/{private['id']}/actions/share", {"project": project_of(friend)},
                     status=403)


def test_deleting_a_shared_template_ends_its_shares(world, root, private):
    friend = world.client("friend")
    share(root, private, project_of(friend))
    assert private["term"] in os_tpl_terms(friend)
    root.delete(f"/admin/templates/{private['id']}", status=200)
    assert private["term"] not in os_tpl_terms(friend)
