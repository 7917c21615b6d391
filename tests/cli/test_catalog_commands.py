"""``occistack template``, ``occistack iso`` and ``occistack affinity-group`` against a real
database: registering writes the template and its download job, a worker (with the agents of
the demo hosts) carries the download out, and refusals print ``error: …`` and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from occistack.drivers.fake import FakeDrivers
from occistack.model import Job, make_engine
from occistack.model.session import make_session_factory
from occistack.plane.runtime import ManagementPlane, PlaneSettings

SHA1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
URL = "https://cloud-images.example.org/ubuntu-22.04.qcow2"


@pytest.fixture
def demo(occistack):
    occistack("demo")
    return occistack


def run_the_jobs(db_url: str, drivers: FakeDrivers | None = None) -> None:
    """What ``occistack worker`` and the hosts' agents do, until nothing is left."""
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        plane = ManagementPlane(make_session_factory(engine), PlaneSettings(worker="none", local_agent_hosts=("*",)),
                                lambda _name: drivers or FakeDrivers())
        plane.settle()
    finally:
        engine.dispose()


def test_a_template_is_registered_then_downloaded_by_a_worker(demo, db_url):
    out = demo("template", "register", "ubuntu-22.04", "--url", URL, "--checksum", SHA1, "--zone", "zone1",
               "--title", "Ubuntu 22.04", "--os-family", "linux", "--os-name", "Ubuntu", "--os-version", "22.04",
               "--min-memory-gib", "1", "--attribute", "eu.egi.fedcloud.appliance.appdb.id=77").stdout
    assert out.startswith("registered template ubuntu-22.04 (id ")
    assert out.endswith("; a worker will download it into secondary storage secondary1 of zone zone1\n")
    [registered] = [row for row in demo.json("template", "list") if row["term"] == "ubuntu-22.04"]
    [copy] = registered["zones"]
    assert (registered["state"], registered["checksum"], copy["zone"], copy["secondary_storage"], copy["state"]) == \
        ("downloading", f"sha1:{SHA1}", "zone1", "secondary1", "pending")
    assert registered["extra_attributes"] == {"eu.egi.fedcloud.appliance.appdb.id": "77"}
    engine = make_engine({"sqlalchemy.url": db_url})
    with make_session_factory(engine)() as session:
        job = session.scalar(select(Job).where(Job.operation == "download_template"))
        assert (job.state, job.arguments["template_id"]) == ("queued", registered["id"])
    engine.dispose()

    drivers = FakeDrivers()
    run_the_jobs(db_url, drivers)
    [ready] = [row for row in demo.json("template", "list") if row["term"] == "ubuntu-22.04"]
    assert (ready["state"], ready["size_gib"]) == ("ready", 2.0)
    assert list(drivers.storage.templates) == [
        f"nfs://127.0.0.1/export/secondary/template/tmpl/{registered['id']}/ubuntu-22.04.qcow2"]
    table = demo("template", "list").stdout.splitlines()
    assert table[0].split()[:5] == ["ID", "TERM", "STATE", "ZONES", "SIZE_GIB"]
    assert any(line.split()[1:4] == ["ubuntu-22.04", "ready", "zone1:ready"] for line in table[1:])
    shown = demo("template", "show", "ubuntu-22.04").stdout
    assert "copies:" in shown and any(line.split()[:3] == ["zone1", "ready", "100"] for line in shown.splitlines())
    assert demo("template", "delete", "ubuntu-22.04").stdout == "removed template ubuntu-22.04\n"
    assert "ubuntu-22.04" not in [row["term"] for row in demo.json("template", "list")]


def test_a_failed_download_shows_in_the_list(demo, db_url):
    demo("template", "register", "broken", "--url", URL, "--checksum", f"sha1:{SHA1}", "--zone", "zone1")
    drivers = FakeDrivers()
    drivers.storage.failures.fail_next("download_template", "HTTP 404 from cloud-images.example.org")
    run_the_jobs(db_url, drivers)
    [broken] = [row for row in demo.json("template", "list") if row["term"] == "broken"]
    assert (broken["state"], broken["description"]) == ("error", "HTTP 404 from cloud-images.example.org")


def test_isos_are_listed_and_deleted_apart_from_templates(demo, db_url):
    out = demo("iso", "register", "gparted", "--url", "nfs://files.example.org/isos/gparted.iso", "--checksum",
               "d41d8cd98f00b204e9800998ecf8427e", "--zone", "zone1").stdout
    assert out.startswith("registered ISO gparted (id ")
    run_the_jobs(db_url)
    [iso] = demo.json("iso", "list")
    assert (iso["term"], iso["state"], iso["format"], iso["checksum"]) == \
        ("gparted", "ready", "iso", "md5:d41d8cd98f00b204e9800998ecf8427e")
    assert "gparted" not in [row["term"] for row in demo.json("template", "list")]
    assert demo.refused("template", "delete", "gparted").startswith("no template named 'gparted'; templates are: ")
    assert demo("iso", "delete", "gparted").stdout == "removed ISO gparted\n"
    assert demo.json("iso", "list") == []


def test_refused_registrations_change_nothing(demo):
    assert demo.refused("template", "register", "x1", "--url", URL, "--checksum", "sha256:1234", "--zone",
                        "zone1") == "a sha256 checksum has 64 hex digits; this one has 4"
    assert demo.refused("template", "register", "x1", "--url", URL, "--checksum", SHA1, "--zone", "zone9") == \
        "no zone named 'zone9'; zones are: zone1"
    assert demo.refused("template", "register", "debian-12", "--url", URL, "--checksum", SHA1, "--zone",
                        "zone1") == "a template or ISO named 'debian-12' already exists"
    assert demo.refused("iso", "register", "x1", "--url", "ftp://example.org/x.iso", "--checksum", SHA1,
                        "--zone", "zone1").startswith("the image URL 'ftp://example.org/x.iso' is not usable")
    assert "is not NAME=VALUE" in demo("template", "register", "x1", "--url", URL, "--checksum", SHA1, "--zone",
                                       "zone1", "--attribute", "novalue", status=2).stderr
    assert "x1" not in [row["term"] for row in demo.json("template", "list")]
    assert demo.json("iso", "list") == []


def test_a_private_template_belongs_to_a_project(demo):
    demo("template", "register", "lab-image", "--url", URL, "--checksum", SHA1, "--zone", "zone1",
         "--project", "demo")
    [private] = [row for row in demo.json("template", "list") if row["term"] == "lab-image"]
    assert private["project_id"] is not None


def test_affinity_groups_of_a_project(demo):
    out = demo("affinity-group", "create", "--project", "demo", "web", "--kind", "anti-affinity",
               "--description", "the web servers").stdout
    assert out.startswith("created host anti-affinity group web in project demo (id ")
    demo("affinity-group", "create", "--project", "demo", "db", "--kind", "affinity")
    groups = demo.json("affinity-group", "list", "--project", "demo")
    assert [(g["name"], g["kind"], g["members"], g["project"]) for g in groups] == \
        [("db", "host affinity", 0, "demo"), ("web", "host anti-affinity", 0, "demo")]
    assert demo.refused("affinity-group", "create", "--project", "demo", "web", "--kind", "affinity") == \
        "an affinity group named 'web' already exists in this project"
    assert demo.refused("affinity-group", "create", "--project", "nobody", "web", "--kind", "affinity") == \
        "no project named 'nobody'; projects are: demo"
    assert "Invalid value for '--kind'" in demo("affinity-group", "create", "--project", "demo", "x",
                                                "--kind", "sticky", status=2).stderr
    table = demo("affinity-group", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "PROJECT", "NAME", "KIND", "MEMBERS", "DESCRIPTION"]
    assert demo("affinity-group", "delete", "--project", "demo", "web").stdout == \
        "removed affinity group web of project demo\n"
    assert demo.refused("affinity-group", "delete", "--project", "demo", "web") == \
        "no affinity group named 'web' in this project; its affinity groups are: db"


def _second_zone(demo) -> None:
    """zone2 with its own secondary storage and one host (its agent runs with the worker)."""
    demo("zone", "create", "zone2", "--guest-cidr", "10.3.0.0/16")
    demo("pod", "create", "--zone", "zone2", "pod2", "--cidr", "10.0.2.0/24", "--gateway", "10.0.2.1")
    demo("cluster", "create", "--zone", "zone2", "--pod", "pod2", "cluster2", "--hypervisor", "KVM")
    demo("host", "add", "--zone", "zone2", "--pod", "pod2", "--cluster", "cluster2", "host3", "--address",
         "10.0.2.21", "--cpu-cores", "16", "--cpu-mhz", "2400", "--memory-mib", "65536")
    demo("secondary-storage", "add", "--zone", "zone2", "secondary2", "--url", "nfs://10.0.2.5/export/secondary",
         "--capacity-gib", "100")


def test_a_template_is_copied_to_another_zone_and_a_failed_copy_retried(demo, db_url):
    _second_zone(demo)
    demo("template", "register", "alma-9", "--url", URL, "--checksum", SHA1, "--zone", "zone1")
    run_the_jobs(db_url)
    assert demo("template", "copy", "alma-9", "--zone", "zone2").stdout == \
        "copying template alma-9 to zone zone2; a worker will download it there (see `list`)\n"
    assert demo.refused("template", "copy", "alma-9", "--zone", "zone2") == \
        "template 'alma-9' already has a copy in zone 'zone2' (pending)"
    drivers = FakeDrivers()
    drivers.storage.failures.fail_next("download_template", "cannot download: connection refused")
    run_the_jobs(db_url, drivers)
    [listed] = [row for row in demo.json("template", "list") if row["term"] == "alma-9"]
    copies = {copy["zone"]: copy for copy in listed["zones"]}
    assert listed["state"] == "ready"  # one zone has it: it is published
    assert (copies["zone1"]["state"], copies["zone2"]["state"], copies["zone2"]["state_message"]) == \
        ("ready", "error", "cannot download: connection refused")
    table = demo("template", "list").stdout
    assert "zone1:ready zone2:error" in table
    assert demo.refused("template", "retry", "alma-9", "--zone", "zone1").startswith(
        "template 'alma-9' has no failed copy to retry (copies: zone1: ready)")
    assert demo("template", "retry", "alma-9").stdout == "downloading alma-9 again in 1 zone (see `list`)\n"
    drivers = FakeDrivers()
    run_the_jobs(db_url, drivers)
    shown = demo.json("template", "show", "alma-9")
    assert [(copy["zone"], copy["state"], copy["progress"]) for copy in shown["zones"]] == \
        [("zone1", "ready", 100), ("zone2", "ready", 100)]
    # zone2's host fetched it from its URL into zone2's own secondary storage.
    [(destination, (source, _checksum))] = drivers.storage.templates.items()
    assert destination.startswith("nfs://10.0.2.5/export/secondary/template/tmpl/")
    assert source == URL
    assert demo("template", "delete", "alma-9").stdout == "removed template alma-9\n"
