"""Templates and ISOs registered through the admin API, end to end: the download job runs on
an agent of the demo zone, a ready template becomes an os_tpl mixin and a compute can be made
from it; a failed download leaves the template in error with the reason and unpublished; an ISO
is never an os_tpl."""

from __future__ import annotations

import itertools
import uuid

import pytest
from sqlalchemy import select

from occistack.model import UsageRecord
from tests.api.occi_face import (
    attributes,
    categories,
    entity_id,
    path_of,
)
from tests.occi import OS_TPL, TEXT, compute_body

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}-{uuid.uuid4().hex[:6]}"


def register(root, term: str, status: int = 201, **fields):
    body = {"term": term, "url": f"https://images.example.org/{term}.qcow2", "checksum": f"sha256:{SHA256}",
            "zone": "zone1", **fields}
    return root.post_json("/admin/templates", body, status=status)


def os_templates(client) -> dict[str, dict[str, str]]:
    """The os_tpl mixins the query interface offers the client, by term."""
    return {found["term"]: found for found in categories(client.get("/-/", headers=TEXT))
            if found["scheme"] == OS_TPL}


def test_a_registered_template_becomes_an_os_tpl_once_downloaded(world, root, client):
    term = unique("alma-")
    answer = register(root, term, title="AlmaLinux 9", os_family="linux", os_name="AlmaLinux", os_version="9",
                      min_memory_gib=0.5, extra_attributes={"eu.egi.fedcloud.appliance.appdb.id": "42"})
    created = answer.json
    # The answer is the row as the request wrote it; the job runs after the commit.
    assert (created["state"], created["format"], created["checksum"]) == ("downloading", "template",
                                                                          f"sha256:{SHA256}")
    assert answer.headers["Location"].endswith(f"/admin/templates/{created['id']}")
    shown = root.get(f"/admin/templates/{created['id']}").json
    assert (shown["state"], shown["size_gib"], shown["description"]) == ("ready", 2.0, None)
    destination = f"nfs://127.0.0.1/export/secondary/template/tmpl/{created['id']}/{term}.qcow2"
    assert world.drivers.storage.templates[destination] == (f"https://images.example.org/{term}.qcow2",
                                                            f"sha256:{SHA256}")
    published = os_templates(client)[term]
    assert (published["title"], published["location"]) == ("AlmaLinux 9", f"/os_tpl/{term}/")
    assert "eu.egi.fedcloud.appliance.appdb.id" in published["attributes"]

    vm = entity_id(path_of(client.post("/compute/", compute_body(template=term), headers=TEXT,
                                       status=201).headers["Location"]))
    rendering = client.get(f"/compute/{vm}", headers=TEXT).text
    assert attributes(rendering)["occi.compute.state"] == "active"
    assert f'Category: {term}; scheme="{OS_TPL}"; class="mixin"' in rendering

    refused = root.delete(f"/admin/templates/{created['id']}", status=409).json["error"]["message"]
    assert refused == f"template '{term}' is used by 1 compute"
    client.delete(f"/compute/{vm}", status=200)
    root.delete(f"/admin/templates/{created['id']}", status=200)
    assert term not in os_templates(client)
    root.get(f"/admin/templates/{created['id']}", status=404)


def test_a_failed_download_leaves_the_template_in_error_and_unpublished(world, root, client):
    term = unique("broken-")
    reason = f"checksum mismatch: expected sha256:{SHA256}, got sha256:{'0' * 64}"
    world.drivers.storage.failures.fail_next("download_template", reason)
    created = register(root, term).json
    shown = root.get(f"/admin/templates/{created['id']}").json
    assert (shown["state"], shown["description"]) == ("error", reason)
    assert term not in os_templates(client)
    message = client.post("/compute/", compute_body(template=term), headers=TEXT, status=400).text
    assert f"unknown os_tpl {OS_TPL}{term}" in message
    events = root.get("/admin/events", params={"resource": f"template:{created['id']}"}).json
    assert [(event["action"], event["state"], event["description"]) for event in events][0] == \
        ("template.register", "failed", reason)


def test_an_iso_is_never_an_os_tpl(world, root, client):
    term = unique("rescue-")
    created = register(root, term, format="iso", url="nfs://files.example.org/isos/rescue.iso").json
    shown = root.get(f"/admin/templates/{created['id']}").json
    assert (shown["state"], [copy["secondary_path"] for copy in shown["zones"]]) == (
        "ready", [f"iso/{created['id']}/{term}.iso"])
    assert term not in os_templates(client)
    assert [row["term"] for row in root.get("/admin/templates", params={"format": "iso"}).json].count(term) == 1
    assert term not in [row["term"] for row in root.get("/admin/templates", params={"format": "template"}).json]
    client.post("/compute/", compute_body(template=term), headers=TEXT, status=400)


@pytest.mark.parametrize("fields, status, message", [
    ({"checksum": "sha256:abc"}, 400, "a sha256 checksum has 64 hex digits; this one has 3"),
    ({"url": "ftp://files.example.org/x.qcow2"}, 400, "the image URL 'ftp://files.example.org/x.qcow2' is not usable"),
    ({"url": "file://otherhost/x.qcow2"}, 400, "names no file by its absolute path on this server"),
    ({"zone": "nowhere"}, 404, "no zone named 'nowhere'"),
    ({"extra_attributes": "eu.egi=1"}, 400, "field 'extra_attributes' must be a JSON object"),
    ({"format": "raw"}, 400, "the image format 'raw' is not one of the accepted values: template, iso"),
])
def test_bad_registrations_are_answered_with_the_reason(root, fields, status, message):
    answer = register(root, unique("bad-"), status=status, **fields)
    assert message in answer.json["error"]["message"]


def test_a_taken_term_is_a_conflict(root):
    assert "a template or ISO named 'cirros-0.6' already exists" in \
        register(root, "cirros-0.6", status=409).json["error"]["message"]


def test_the_format_filter_is_checked(root):
    answer = root.get("/admin/templates", params={"format": "qcow2"}, status=400)
    assert answer.json["error"]["message"] == "the format filter must be one of template, iso; got 'qcow2'"


def test_a_template_s_gib_count_in_usage_from_its_download_to_its_deletion(world, root):
    term = unique("usage-")
    created = register(root, term).json

    def intervals():
        with world.session_factory() as session:
            return [(row.description, row.size_gib, row.ended_at is None) for row in session.scalars(
                select(UsageRecord).where(UsageRecord.usage_type == "template", UsageRecord.description == term))]

    assert intervals() == [(term, 2.0, True)]  # ready in the demo zone's secondary storage
    root.delete(f"/admin/templates/{created['id']}", status=200)
    assert intervals() == [(term, 2.0, False)]
