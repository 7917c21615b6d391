"""Registering templates and ISOs: the checks, the row and the download job it writes, deletion;
and the download job itself, run by a real worker and in-process agents on fake drivers."""

from __future__ import annotations

import pytest
import transaction
from sqlalchemy import select

from occistack.drivers.fake import FakeDrivers
from occistack.model import EventRecord, Job, OsTemplate, SecondaryStorage
from occistack.model.session import get_tm_session
from occistack.model.states import HostStatus
from occistack.plane import admin
from occistack.plane.template_copies import charge_secondary_storage, copies_of
from occistack.plane.tenant.compute import find_template
from occistack.plane.caller import Caller
from occistack.plane.errors import Conflict, InvalidRequest, NotFound
from occistack.plane.jobs.queue import JobDispatcher
from occistack.plane.runtime import ManagementPlane, PlaneSettings

from tests.factories import ProjectFactory, VirtualMachineFactory
from tests.plane import admin_cloud
from tests.plane.plane_fixtures import add_host

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MD5 = "098f6bcd4621d373cade4e832627b4f6"
IMAGE = "https://images.example.org/debian-12-generic-amd64.qcow2"


def store(session, zone: str = "z1", name: str = "s1", url: str = "nfs://10.0.0.5/export/secondary"):
    return admin.add_secondary_storage(session, zone=zone, name=name, url=url, capacity_gib=500)


def register(session, term: str = "debian-12", **options):
    values = {"url": IMAGE, "checksum": f"sha256:{SHA256}", "zone": "z1", "dispatcher": JobDispatcher(), **options}
    return admin.register_template(session, term=term, **values)


def test_a_registered_template_waits_for_its_download_job(session):
    admin_cloud.rack(session)
    first = store(session)
    store(session, name="s2", url="nfs://10.0.0.6/export/secondary")
    template = register(session, title="Debian 12", os_family="linux", os_name="Debian", os_version="12",
                        min_memory_gib=0.5, extra_attributes={"eu.egi.fedcloud.appliance.appdb.id": "1234"})
    assert (template.state, template.format, template.project_id, template.image_url) == \
        ("downloading", "template", None, IMAGE)
    assert template.checksum == f"sha256:{SHA256}"
    # One copy, pending in the first secondary storage by id of the zone.
    [copy] = copies_of(session, template.id)
    assert (copy.secondary_storage_id, copy.state, copy.progress) == (first.id, "pending", 0)
    assert copy.secondary_path == f"template/tmpl/{template.id}/debian-12.qcow2"
    job = session.scalar(select(Job).where(Job.operation == "download_template"))
    assert (job.entity_id, job.arguments, job.state) == (
        f"template-copy:{copy.id}", {"template_id": template.id, "copy_id": copy.id}, "queued")
    event = session.scalar(select(EventRecord).where(EventRecord.action == "template.register"))
    assert event.state == "started" and "into secondary storage 's1' of zone 'z1'" in event.description


def test_an_iso_goes_to_the_iso_path_and_cannot_be_deployed(session):
    admin_cloud.rack(session)
    store(session)
    iso = register(session, "rescue", format="iso", url="nfs://files.example.org/isos/rescue.iso",
                   checksum=MD5)
    assert [copy.secondary_path for copy in copies_of(session, iso.id)] == [f"iso/{iso.id}/rescue.iso"]
    assert iso.checksum == f"md5:{MD5}"
    iso.state = "ready"
    owner = ProjectFactory(session=session)
    with pytest.raises(InvalidRequest, match="'rescue' is an ISO image, not an OS template"):
        find_template(session, Caller(1, "someone", owner.id), "rescue")
    assert [row.term for row in admin.list_templates(session, format="iso")] == ["rescue"]
    assert admin.list_templates(session, format="template") == []


@pytest.mark.parametrize("given, normalised", [
    (f"SHA256:{SHA256.upper()}", f"sha256:{SHA256}"),
    (SHA256, f"sha256:{SHA256}"),
    (MD5, f"md5:{MD5}"),
    ("a" * 40, "sha1:" + "a" * 40),
    ("b" * 128, "sha512:" + "b" * 128),
    (f"  md5:{MD5}  ", f"md5:{MD5}"),
])
def test_checksums_are_normalised(given, normalised):
    assert admin.normalise_checksum(given) == normalised


@pytest.mark.parametrize("checksum, message", [
    ("", "the checksum is missing"),
    ("crc32:abcd1234", "the checksum algorithm 'crc32' is not accepted; accepted: md5, sha1, sha256, sha512"),
    ("sha256:" + "a" * 63, "a sha256 checksum has 64 hex digits; this one has 63"),
    ("md5:" + "z" * 32, "is not hexadecimal"),
    ("a" * 50, "a bare checksum of 50 hex digits matches no accepted algorithm"),
])
def test_bad_checksums_are_refused(checksum, message):
    with pytest.raises(InvalidRequest, match=message):
        admin.normalise_checksum(checksum)


@pytest.mark.parametrize("options, error, message", [
    ({"term": "-debian"}, InvalidRequest, "the template term '-debian' is not a valid OCCI term"),
    ({"term": "a b"}, InvalidRequest, "is not a valid OCCI term"),
    ({"term": "small"}, Conflict, "the term 'small' is taken by the CRTP resource template of that name"),
    ({"url": "ftp://example.org/x.qcow2"}, InvalidRequest, "the image URL 'ftp://example.org/x.qcow2' is not usable"),
    ({"url": "https:///x.qcow2"}, InvalidRequest, "names no server or no file"),
    ({"url": ""}, InvalidRequest, "the image URL is missing"),
    ({"zone": "z9"}, NotFound, "no zone named 'z9'; zones are: z1"),
    ({"format": "vmdk"}, InvalidRequest, "the image format 'vmdk' is not one of the accepted values: template, iso"),
    ({"architecture": "arm"}, InvalidRequest, "architecture 'arm' is not one of the accepted values"),
    ({"min_cores": 0}, InvalidRequest, "the minimum number of cores must be at least 1"),
    ({"size_gib": -1}, InvalidRequest, "the size in GiB must be greater than 0"),
    ({"public": False}, InvalidRequest, "a private template belongs to one project: name it"),
    ({"project": "p"}, InvalidRequest, "a public template belongs to no project"),
    ({"extra_attributes": {"occi.compute.cores": 2}}, InvalidRequest, "is in the occi. namespace"),
    ({"extra_attributes": {"bad name": 1}}, InvalidRequest, "is not an OCCI attribute name"),
    ({"extra_attributes": {"eu.egi.x": [1]}}, InvalidRequest, "must be text, a number or true/false"),
])
def test_bad_registrations_are_refused(session, options, error, message):
    admin_cloud.rack(session)
    store(session)
    values = {"term": "debian-12", **options}
    with pytest.raises(error, match=message):
        register(session, **values)
    assert session.scalar(select(Job.id)) is None


def test_terms_are_unique_among_templates_and_isos(session):
    admin_cloud.rack(session)
    store(session)
    register(session, "debian-12")
    with pytest.raises(Conflict, match="a template or ISO named 'debian-12' already exists"):
        register(session, "debian-12", format="iso")


def test_a_zone_needs_enabled_secondary_storage(session):
    admin_cloud.rack(session)
    with pytest.raises(Conflict, match="zone 'z1' has no enabled secondary storage to download the template into"):
        register(session)
    store(session)
    admin.disable_secondary_storage(session, "s1", zone="z1")
    with pytest.raises(Conflict, match="has no enabled secondary storage"):
        register(session, format="iso")


def test_a_private_template_belongs_to_its_project(session):
    admin_cloud.rack(session)
    store(session)
    owner = ProjectFactory(session=session, name="science")
    template = register(session, public=False, project="science")
    assert template.project_id == owner.id


def test_a_template_in_use_cannot_be_deleted(session):
    admin_cloud.rack(session)
    store(session)
    template = register(session)
    for _ in range(3):
        VirtualMachineFactory(session=session, template_id=template.id)
    with pytest.raises(Conflict, match="^template 'debian-12' is used by 3 computes$"):
        admin.delete_template(session, "debian-12", dispatcher=JobDispatcher())
    with pytest.raises(NotFound, match="no ISO named 'debian-12'; there are no ISOs yet"):
        admin.delete_template(session, "debian-12", format="iso", dispatcher=JobDispatcher())


def test_deleting_gives_the_secondary_storage_back(session):
    admin_cloud.rack(session)
    the_store = store(session)
    template = register(session)
    [copy] = copies_of(session, template.id)
    template.state, template.size_gib, copy.state, copy.size_gib = "ready", 3.0, "ready", 3.0
    charge_secondary_storage(session, the_store.id, 3.0)
    admin.delete_template(session, template.id, dispatcher=JobDispatcher())
    session.expire_all()
    assert session.get(SecondaryStorage, the_store.id).used_gib == 0.0
    assert session.get(OsTemplate, template.id) is None
    assert session.scalar(select(EventRecord.description).where(EventRecord.action == "template.delete")) == \
        "template 'debian-12'"


# --- the download job, run by a worker and agents -------------------------------------------------

def _committed(session_factory, work):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        return work(get_tm_session(session_factory, manager))


def _plane(session_factory, drivers):
    plane = ManagementPlane(session_factory, PlaneSettings(worker="none", local_agent_hosts=("*",)),
                            lambda _name: drivers)
    return plane


def _registered(session_factory, **options) -> int:
    def work(session):
        store(session, zone="z")
        return register(session, zone="z", **options).id

    return _committed(session_factory, work)


def _template(session_factory, template_id):
    with session_factory() as session:
        return session.get(OsTemplate, template_id), session.scalar(select(SecondaryStorage.used_gib))


def test_the_download_makes_the_template_ready(session_factory):
    add_host(session_factory, "h1")
    template_id = _registered(session_factory)
    drivers = FakeDrivers()
    _plane(session_factory, drivers).settle()
    template, used = _template(session_factory, template_id)
    assert (template.state, template.size_gib, template.description) == ("ready", 2.0, None)
    destination = f"nfs://10.0.0.5/export/secondary/template/tmpl/{template_id}/debian-12.qcow2"
    assert drivers.storage.templates == {destination: (IMAGE, f"sha256:{SHA256}")}
    assert used == 2.0
    with session_factory() as session:
        events = session.scalars(select(EventRecord.state).where(EventRecord.action == "template.register")
                                 .order_by(EventRecord.id)).all()
    assert events == ["started", "completed"]


def test_a_failed_download_leaves_the_template_in_error_with_the_reason(session_factory):
    add_host(session_factory, "h1")
    template_id = _registered(session_factory)
    drivers = FakeDrivers()
    drivers.storage.failures.fail_next("download_template", f"checksum mismatch: expected sha256:{SHA256}")
    _plane(session_factory, drivers).settle()
    template, used = _template(session_factory, template_id)
    assert (template.state, template.description) == ("error", f"checksum mismatch: expected sha256:{SHA256}")
    assert used == 0.0
    with session_factory() as session:
        job = session.scalar(select(Job).where(Job.operation == "download_template"))
        assert job.state == "failed"


def test_no_up_host_in_the_zone_fails_the_download(session_factory):
    add_host(session_factory, "h1", status=HostStatus.DOWN)
    template_id = _registered(session_factory)
    ManagementPlane(session_factory, PlaneSettings(worker="none")).settle()
    template, _used = _template(session_factory, template_id)
    assert (template.state, template.description) == ("error", "no host of zone 'z' is up to download it")


def test_a_template_deleted_before_its_download_is_forgotten(session_factory):
    add_host(session_factory, "h1")
    template_id = _registered(session_factory)
    _committed(session_factory, lambda session: admin.delete_template(session, template_id,
                                                                                    dispatcher=JobDispatcher()))
    drivers = FakeDrivers()
    _plane(session_factory, drivers).settle()
    assert drivers.storage.templates == {}
    with session_factory() as session:
        assert session.scalar(select(Job.state).where(Job.operation == "download_template")) == "done"
        assert session.scalar(select(Job.state).where(Job.operation == "remove_template_image")) == "done"


def _deleted_after_download(session_factory, drivers) -> tuple[int, str]:
    add_host(session_factory, "h1")
    template_id = _registered(session_factory)
    plane = _plane(session_factory, drivers)
    plane.settle()
    destination = f"nfs://10.0.0.5/export/secondary/template/tmpl/{template_id}/debian-12.qcow2"
    assert destination in drivers.storage.templates
    _committed(session_factory, lambda session: admin.delete_template(session, template_id,
                                                                      dispatcher=JobDispatcher()))
    plane.settle()
    return template_id, destination


def _removal(session_factory) -> tuple[str, str, str]:
    with session_factory() as session:
        job = session.scalar(select(Job).where(Job.operation == "remove_template_image"))
        event = session.scalar(select(EventRecord).where(EventRecord.action == "template.image.remove"))
        return job.state, event.state, event.description


def test_a_deleted_template_s_image_leaves_secondary_storage(session_factory):
    drivers = FakeDrivers()
    _template_id, destination = _deleted_after_download(session_factory, drivers)
    assert destination not in drivers.storage.templates
    state, event, description = _removal(session_factory)
    assert (state, event) == ("done", "completed")
    assert description == "the image of 'debian-12' is gone from secondary storage 's1'"


def test_an_image_that_cannot_be_removed_is_named_in_a_failed_event(session_factory):
    drivers = FakeDrivers()
    drivers.storage.failures.fail_next("remove_from_secondary", "permission denied on the export")
    template_id, destination = _deleted_after_download(session_factory, drivers)
    assert destination in drivers.storage.templates
    state, event, description = _removal(session_factory)
    assert (state, event) == ("failed", "failed")
    assert description == (f"the image of 'debian-12' (template/tmpl/{template_id}/debian-12.qcow2) stays in "
                           "secondary storage: permission denied on the export")
