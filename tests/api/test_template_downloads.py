"""Templates really downloaded by the embedded default's simulated hosts (``libvirt-test``), in a
two-zone cloud: over http (with progress) and from file:// URLs, checksummed into a directory
per zone's secondary storage; unreachable URLs and bad checksums end in error with the reason and
are retried; a copy in a second zone has its own state; a compute of a zone without a copy is
refused; the query interface lists each os_tpl's zones."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import transaction
from sqlalchemy import select
from webtest import TestApp

from occistack.demo_images import build_image
from occistack.model import AgentCommand, Job, TemplateCopy
from occistack.model import OsTemplate as OsTemplateRow
from occistack.model.session import get_tm_session
from occistack.plane import admin
from occistack.api.orchestration import server_plane
from tests.conftest import basic, close_app, make_app, running_app, SettlingTestApp
from tests.factories import ProjectFactory, UserFactory
from tests.api.occi_face import attributes
from tests.occi import OS_TPL, TEXT, compute_body

ZONES = "http://occistack.local/occi/infrastructure/availability_zone#"
INFRA = "http://schemas.ogf.org/occi/infrastructure#"
MIB = 1024 * 1024


class Client(SettlingTestApp, TestApp):
    pass


class ImageServer:
    """Serves bytes over http on 127.0.0.1; ``hold`` pauses a file's body after its first
    ``hold_after`` bytes until ``release()``."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.gate = threading.Event()
        self.gate.set()
        self.hold_after: int | None = None
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                split = server.hold_after if server.hold_after is not None else len(body)
                self.wfile.write(body[:split])
                self.wfile.flush()
                server.gate.wait(20)
                self.wfile.write(body[split:])

            def log_message(self, *_args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _second_zone(session) -> None:
    """zone2: a pod, a cluster, a host (its in-process agent starts with the server), primary
    storage, its own secondary storage and a public IP range."""
    admin.create_zone(session, name="zone2", guest_cidr="10.3.0.0/16")
    admin.create_pod(session, zone="zone2", name="pod2", cidr="10.0.2.0/24", gateway="10.0.2.1")
    admin.create_cluster(session, zone="zone2", pod="pod2", name="cluster2")
    admin.add_host(session, zone="zone2", pod="pod2", cluster="cluster2", name="host3", address="10.0.2.21",
                   cpu_cores=16, cpu_mhz=2400, memory_mib=65536)
    admin.add_storage_pool(session, zone="zone2", pod="pod2", cluster="cluster2", name="primary2",
                           protocol="filesystem", path="/srv/primary2", capacity_gib=500)
    admin.add_secondary_storage(session, zone="zone2", name="secondary2", url="nfs://10.0.2.5/export/secondary",
                                capacity_gib=100)
    # Its public range gives it a shared public network, which a compute created without links joins.
    admin.add_ip_range(session, zone="zone2", purpose="public", first="198.51.100.10", last="198.51.100.50",
                       gateway="198.51.100.1", prefix_length=24)
    UserFactory(session=session, name="root", password="root", role="admin",
                project_id=ProjectFactory(session=session, name="admins").id)


@pytest.fixture
def cloud(db_url, demo_data, session_factory, tmp_path):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        _second_zone(get_tm_session(session_factory, manager))
    application = make_app(db_url, **{"occistack.drivers": "libvirt-test"})
    server = ImageServer()
    try:
        yield SimpleNamespace(
            app=application, sessions=application.registry["occistack.session_factory"], server=server,
            root=Client(application, extra_environ={"HTTP_AUTHORIZATION": basic("root", "root")}),
            user=Client(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")}),
            images=tmp_path / "images")
    finally:
        server.close()
        close_app(application)


def register(cloud, url: str, checksum: str, status: int = 201, **fields) -> dict:
    term = fields.pop("term", f"img-{uuid.uuid4().hex[:8]}")
    return cloud.root.post_json("/admin/templates", {"term": term, "url": url, "checksum": checksum,
                                                     "zone": "zone1", **fields}, status=status).json


def shown(cloud, template_id: int) -> dict:
    return cloud.root.get(f"/admin/templates/{template_id}").json


def copies(cloud, template_id: int) -> dict[str, dict]:
    return {copy["zone"]: copy for copy in shown(cloud, template_id)["zones"]}


def stored_file(cloud, template_id: int, zone: str) -> bytes:
    """The bytes of a zone's copy, as the simulated hosts' secondary storage holds them."""
    copy = copies(cloud, template_id)[zone]
    store_url = {"zone1": "nfs://127.0.0.1/export/secondary", "zone2": "nfs://10.0.2.5/export/secondary"}[zone]
    storage = next(iter(server_plane(cloud.app.registry).drivers.by_host.values())).storage.secondary
    return storage.local_path(f"{store_url}/{copy['secondary_path']}").read_bytes()


def os_tpl_zones(client) -> dict[str, str]:
    """term → the zones /-/ says the os_tpl is available in (the JSON rendering's default of
    its occistack.os_tpl.zones attribute)."""
    discovery = client.get("/-/", headers={"Accept": "application/occi+json"}).json
    return {mixin["term"]: mixin["attributes"]["occistack.os_tpl.zones"]["default"]
            for mixin in discovery["mixins"] if mixin["scheme"] == OS_TPL}


def test_an_http_template_downloads_with_progress_and_becomes_ready(cloud):
    payload = os.urandom(3 * MIB)
    cloud.server.files["big.qcow2"] = payload
    cloud.server.hold_after, _ = MIB + MIB // 2, cloud.server.gate.clear()
    answer: dict = {}
    registering = threading.Thread(target=lambda: answer.update(register(
        cloud, cloud.server.url("big.qcow2"), "sha256:" + hashlib.sha256(payload).hexdigest(), term="big")))
    registering.start()
    seen = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with cloud.sessions() as session:
            copy = session.scalar(select(TemplateCopy).where(TemplateCopy.state == "downloading",
                                                             TemplateCopy.progress > 0))
            if copy is not None:
                seen = (copy.state, copy.progress)
                break
        time.sleep(0.05)
    # The body stopped after half of it: the copy says so while it waits for the rest.
    assert seen is not None and 0 < seen[1] < 100, seen
    plain = TestApp(cloud.app, extra_environ={"HTTP_AUTHORIZATION": basic("root", "root")})
    [during] = [row for row in plain.get("/admin/templates").json if row["term"] == "big"]
    assert during["state"] == "downloading"
    assert [(copy["zone"], copy["state"], 0 < copy["progress"] < 100) for copy in during["zones"]] == \
        [("zone1", "downloading", True)]
    cloud.server.gate.set()
    registering.join(30)
    assert not registering.is_alive()
    done = shown(cloud, answer["id"])
    assert (done["state"], done["size_gib"]) == ("ready", pytest.approx(len(payload) / 1024 ** 3))
    assert [(copy["zone"], copy["state"], copy["progress"]) for copy in done["zones"]] == [("zone1", "ready", 100)]
    assert stored_file(cloud, answer["id"], "zone1") == payload


def test_a_file_url_template_is_ready_and_boots_a_compute(cloud):
    image = build_image(cloud.images, "tiny")
    created = register(cloud, image.url, image.checksum, term="tiny-file")
    assert shown(cloud, created["id"])["state"] == "ready"
    assert stored_file(cloud, created["id"], "zone1") == image.path.read_bytes()
    location = cloud.user.post("/compute/", compute_body(template="tiny-file"), headers=TEXT,
                               status=201).headers["Location"]
    path = "/" + location.split("/", 3)[3]
    assert attributes(cloud.user.get(path, headers=TEXT).text)["occi.compute.state"] == "active"
    with cloud.sessions() as session:
        deploy = session.scalar(select(AgentCommand).join(Job, AgentCommand.job_id == Job.id)
                                .where(Job.entity_id == path.rsplit("/", 1)[1],
                                       AgentCommand.name == "deploy_guest"))
        assert deploy.payload["root_disk"]["source"] == \
            f"nfs://127.0.0.1/export/secondary/template/tmpl/{created['id']}/tiny-file.qcow2"


def test_an_unreachable_url_ends_in_error_with_the_reason(cloud):
    refused = ImageServer()
    url = refused.url("gone.qcow2")
    refused.close()  # nothing listens on that port any more
    created = register(cloud, url, "sha256:" + "1" * 64)
    found = shown(cloud, created["id"])
    assert found["state"] == "error"
    assert f"cannot download {url}" in found["description"] and "refused" in found["description"].lower()
    assert copies(cloud, created["id"])["zone1"]["state_message"] == found["description"]
    assert created["term"] not in os_tpl_zones(cloud.user)


def test_a_checksum_mismatch_ends_in_error_and_a_retry_after_the_fix_works(cloud):
    good = build_image(cloud.images, "fixed")
    cloud.server.files["fixed.qcow2"] = b"not the image that was announced"
    created = register(cloud, cloud.server.url("fixed.qcow2"), good.checksum)
    failed = shown(cloud, created["id"])
    assert failed["state"] == "error" and "checksum mismatch" in failed["description"]
    assert good.checksum.split(":")[1] in failed["description"]
    assert copies(cloud, created["id"])["zone1"]["state"] == "error"
    cloud.server.files["fixed.qcow2"] = good.path.read_bytes()  # the site fixed its image server
    retried = cloud.root.post_json(f"/admin/templates/{created['id']}/actions/retry", {"zone": "zone1"}).json
    assert retried["id"] == created["id"]
    assert (shown(cloud, created["id"])["state"], copies(cloud, created["id"])["zone1"]["state"]) == \
        ("ready", "ready")
    assert stored_file(cloud, created["id"], "zone1") == good.path.read_bytes()
    again = cloud.root.post_json(f"/admin/templates/{created['id']}/actions/retry", {}, status=409).json
    assert "has no failed copy to retry (copies: zone1: ready)" in again["error"]["message"]


def test_a_copy_in_a_second_zone_has_its_own_state_and_deploys_there(cloud):
    image = build_image(cloud.images, "zoned")
    created = register(cloud, image.url, image.checksum, term="zoned")
    assert os_tpl_zones(cloud.user)["zoned"] == "zone1"
    body = compute_body(f'Category: zone2; scheme="{ZONES}"; class="mixin"', template="zoned")
    refused = cloud.user.post("/compute/", body, headers=TEXT, status=409).text
    assert "OS template 'zoned' is not available in zone 'zone2': it is available in zone zone1" in refused

    copied = cloud.root.post_json(f"/admin/templates/{created['id']}/actions/copy", {"zone": "zone2"}).json
    # The answer is written before the job runs: zone2's copy starts pending, zone1's stays ready.
    assert [(copy["zone"], copy["state"], copy["progress"]) for copy in copied["zones"]] == \
        [("zone1", "ready", 100), ("zone2", "pending", 0)]
    zones = copies(cloud, created["id"])
    assert (zones["zone1"]["state"], zones["zone2"]["state"]) == ("ready", "ready")
    assert zones["zone2"]["secondary_storage"] == "secondary2" and zones["zone2"]["progress"] == 100
    assert stored_file(cloud, created["id"], "zone2") == image.path.read_bytes()
    assert os_tpl_zones(cloud.user)["zoned"] == "zone1,zone2"
    conflict = cloud.root.post_json(f"/admin/templates/{created['id']}/actions/copy", {"zone": "zone2"},
                                    status=409).json
    assert "already has a copy in zone 'zone2' (ready)" in conflict["error"]["message"]

    location = cloud.user.post("/compute/", body, headers=TEXT, status=201).headers["Location"]
    vm = location.rsplit("/", 1)[1]
    with cloud.sessions() as session:
        deploy = session.scalar(select(AgentCommand).join(Job, AgentCommand.job_id == Job.id)
                                .where(Job.entity_id == vm, AgentCommand.name == "deploy_guest"))
        assert deploy.payload["root_disk"]["source"].startswith("nfs://10.0.2.5/export/secondary/")
    cloud.user.delete(f"/compute/{vm}", status=200)
    cloud.root.delete(f"/admin/templates/{created['id']}", status=200)
    storage = next(iter(server_plane(cloud.app.registry).drivers.by_host.values())).storage.secondary
    for store in ("nfs://127.0.0.1/export/secondary", "nfs://10.0.2.5/export/secondary"):
        assert not storage.local_path(f"{store}/template/tmpl/{created['id']}/zoned.qcow2").exists()
    assert "zoned" not in os_tpl_zones(cloud.user)


def test_a_compute_that_names_no_zone_goes_where_its_template_is(cloud):
    """Neither an availability zone nor a link decides the zone: placement chooses among the
    zones holding the template, not the first zone of the cloud (which lacks it)."""
    image = build_image(cloud.images, "only-in-zone2")
    register(cloud, image.url, image.checksum, term="only2", zone="zone2")
    assert os_tpl_zones(cloud.user)["only2"] == "zone2"
    location = cloud.user.post("/compute/", compute_body(template="only2"), headers=TEXT, status=201).headers["Location"]
    vm = location.rsplit("/", 1)[1]
    assert 'occi.compute.state="active"' in cloud.user.get(f"/compute/{vm}", headers=TEXT).text
    # Its network is the one of the zone it went to: zone2's public network.
    assert "/network/public-zone2" in cloud.user.get(f"/compute/{vm}", headers=TEXT).text


def test_the_demo_templates_are_built_locally_and_downloaded_at_start(db_url, session_factory, tmp_path):
    """`make setup`'s seeding (occistack.demo.directory): tiny images built in images/, a zone
    whose secondary storage is the directory secondary/, the templates registered by file://
    URL and checksum; the simulated hosts download them when the server starts."""
    from occistack.demo import DEMO_TEMPLATES, seed_demo

    manager = transaction.TransactionManager(explicit=True)
    with manager:
        summary = seed_demo(get_tm_session(session_factory, manager), directory=tmp_path)
    assert f"secondary storage secondary1 ({(tmp_path / 'secondary').as_uri()})" in summary.created
    terms = [term for term, *_rest in DEMO_TEMPLATES]
    with session_factory() as session:
        rows = session.scalars(select(TemplateCopy).order_by(TemplateCopy.template_id)).all()
        assert [row.state for row in rows] == ["pending"] * len(terms)
    with running_app(db_url, **{"occistack.drivers": "libvirt-test"}) as application:
        server_plane(application.registry).plane.settle()
        user = Client(application, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
        discovery = user.get("/-/", headers={"Accept": "application/occi+json"}).json
        published = {mixin["term"]: mixin["attributes"]["occistack.os_tpl.zones"]["default"]
                     for mixin in discovery["mixins"] if mixin["scheme"] == OS_TPL}
        assert {term: published.get(term) for term in terms} == {term: "zone1" for term in terms}
        for term in terms:
            built = build_image(tmp_path / "images", term)  # already there: the same bytes
            with session_factory() as session:
                template_id = session.scalar(select(TemplateCopy.template_id).join(
                    OsTemplateRow, OsTemplateRow.id == TemplateCopy.template_id).where(OsTemplateRow.term == term))
            stored = tmp_path / "secondary" / "template" / "tmpl" / str(template_id) / f"{term}.qcow2"
            assert stored.read_bytes() == built.path.read_bytes()
            assert built.checksum == "sha256:" + hashlib.sha256(stored.read_bytes()).hexdigest()
        location = user.post("/compute/", compute_body(template="cirros-0.6"), headers=TEXT,
                             status=201).headers["Location"]
        path = "/" + location.split("/", 3)[3]
        assert attributes(user.get(path, headers=TEXT).text)["occi.compute.state"] == "active"


def test_a_saved_template_without_a_url_is_copied_from_its_zone_s_secondary_storage(cloud):
    location = cloud.user.post("/compute/", compute_body(template="cirros-0.6"), headers=TEXT,
                               status=201).headers["Location"]
    path = "/" + location.split("/", 3)[3]
    cloud.user.post(f"{path}?action=save", "\n".join([
        'Category: save; scheme="http://schemas.ogf.org/occi/infrastructure/compute/action#"; class="action"',
        'X-OCCI-Attribute: name="saved-here"']), headers=TEXT, status=200)
    with cloud.sessions() as session:
        saved = session.scalar(select(OsTemplateRow).where(OsTemplateRow.term == "saved-here"))
        saved_id, checksum, url = saved.id, saved.checksum, saved.image_url
    assert url is None and shown(cloud, saved_id)["state"] == "ready"
    here = stored_file(cloud, saved_id, "zone1")
    assert checksum == "sha256:" + hashlib.sha256(here).hexdigest()
    cloud.root.post_json(f"/admin/templates/{saved_id}/actions/copy", {"zone": "zone2"})
    assert copies(cloud, saved_id)["zone2"]["state"] == "ready"
    assert stored_file(cloud, saved_id, "zone2") == here
