"""EGI accounting: APEL cloud records made from the usage intervals and the computes' owners,
written field by field in the v0.4 message format, and read back from the dirq queue ssmsend
sends from."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from dirq.QueueSimple import QueueSimple

from occistack.model import FederatedUser
from occistack.plane import accounting as apel
from occistack.plane.admin.cases import accounting
from occistack.plane.admin.cases.accounting import AccountingRequest
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import InvalidRequest
from occistack.plane.limits import SiteLimits
from occistack.plane.placement.service import PlacementService
from occistack.plane.usage import close_usage, open_usage, record_compute_owner
from tests.factories import ProjectFactory, UserFactory, VirtualMachineFactory

T0 = datetime(2026, 2, 1, 8, 0)
DN = "/DC=org/DC=terena/O=EGI/CN=Alice Example"
FQAN = "/fedcloud.egi.eu/Role=VMManager/Capability=NULL"


def epoch(moment: datetime) -> str:
    return str(int(moment.replace(tzinfo=timezone.utc).timestamp()))


@pytest.fixture
def ctx(session):
    services = PlaneServices(dispatcher=None, placement=PlacementService(), password_min_length=8,
                             sealer=None, limits=SiteLimits())
    return PlaneContext(session, None, services)


@pytest.fixture
def computes(session):
    """A federated user's compute that lived 08:00-11:00, running 08:10-09:00 and 10:00-11:00,
    with a public address; a local user's compute running since 09:00; one that ended before."""
    project = ProjectFactory(session=session, name="fedcloud")
    alice = UserFactory(session=session, name="alice", project_id=project.id)
    session.add(FederatedUser(user_id=alice.id, method="x509", issuer="/DC=org/CN=CA", subject=DN, fqan=FQAN))
    local = UserFactory(session=session, name="bob", project_id=project.id)
    session.flush()
    done = VirtualMachineFactory(session=session, project_id=project.id, title="worker\nnode 1", cores=2,
                                 memory_gib=4.0)
    record_compute_owner(session, done, alice.id, 20.0)
    open_usage(session, "vm_allocated", done.id, project.id, cores=2, memory_gib=4.0, description="debian-12",
               offering="small", at=T0)
    open_usage(session, "vm_running", done.id, project.id, cores=2, memory_gib=4.0, at=T0 + timedelta(minutes=10))
    close_usage(session, "vm_running", done.id, at=T0 + timedelta(hours=1))
    open_usage(session, "vm_running", done.id, project.id, cores=2, memory_gib=4.0, at=T0 + timedelta(hours=2))
    open_usage(session, "public_ip", "nic-9", project.id, description="192.0.2.9", compute_id=done.id,
               at=T0 + timedelta(minutes=5))
    close_usage(session, ("vm_running", "vm_allocated", "public_ip"), done.id, at=T0 + timedelta(hours=3))
    close_usage(session, "public_ip", "nic-9", at=T0 + timedelta(hours=3))
    running = VirtualMachineFactory(session=session, project_id=project.id, title=None, hostname="web")
    record_compute_owner(session, running, local.id, None)
    open_usage(session, "vm_allocated", running.id, project.id, cores=1, memory_gib=0.5, description="alpine",
               at=T0 + timedelta(hours=1))
    open_usage(session, "vm_running", running.id, project.id, cores=1, memory_gib=0.5, at=T0 + timedelta(hours=1))
    gone = VirtualMachineFactory(session=session, project_id=project.id)
    open_usage(session, "vm_allocated", gone.id, project.id, cores=1, memory_gib=1.0, at=T0 - timedelta(days=3))
    close_usage(session, "vm_allocated", gone.id, at=T0 - timedelta(days=2))
    session.flush()
    return done, running, gone


def request(**extra) -> AccountingRequest:
    return AccountingRequest(**{"start": T0, "end": T0 + timedelta(hours=4), "site_name": "CESGA",
                                "cloud_compute_service": "occistack.cesga.es", **extra})


def fields_of(record_text: str) -> list[tuple[str, str]]:
    return [tuple(line.split(": ", 1)) for line in record_text.strip().splitlines()]


def test_a_message_is_the_header_then_records_with_double_percent_between(ctx, computes):
    records = accounting.cloud_records(ctx, request())
    text = apel.message(records)
    lines = text.splitlines()
    assert lines[0] == "APEL-cloud-message: v0.4" and text.endswith("\n")
    assert lines.count("%%") == len(records) - 1 == 1
    for part in "\n".join(lines[1:]).split("\n%%\n"):
        assert [name for name, _ in fields_of(part)] == list(apel.FIELDS)
    assert [record.vm_uuid for record in records] == [computes[0].id, computes[1].id]  # not the one gone before


def test_every_field_of_a_completed_compute(ctx, computes):
    done = computes[0]
    (record, _) = accounting.cloud_records(ctx, request())
    written = dict(fields_of("\n".join(apel.record_lines(record))))
    assert written == {
        "RecordCreateTime": epoch(record.record_create_time),
        "VMUUID": done.id,
        "SiteName": "CESGA",
        "CloudComputeService": "occistack.cesga.es",
        "MachineName": "worker node 1",  # one line per field, whatever the title holds
        "LocalUserId": "alice",
        "LocalGroupId": "fedcloud",
        "GlobalUserName": DN,
        "FQAN": FQAN,
        "Status": "completed",
        "StartTime": epoch(T0),
        "EndTime": epoch(T0 + timedelta(hours=3)),
        "SuspendDuration": str(3 * 3600 - (50 + 60) * 60),
        "WallDuration": str((50 + 60) * 60),
        "CpuDuration": "NULL",
        "CpuCount": "2",
        "NetworkType": "NULL",
        "NetworkInbound": "NULL",
        "NetworkOutbound": "NULL",
        "PublicIPCount": "1",
        "Memory": "4096",
        "Disk": "20",
        "BenchmarkType": "NULL",
        "Benchmark": "NULL",
        "StorageRecordId": "NULL",
        "ImageId": "debian-12",
        "CloudType": "occistack",
    }


def test_a_running_compute_counts_up_to_the_window_s_end(ctx, computes):
    (_, record) = accounting.cloud_records(ctx, request(end=T0 + timedelta(hours=2, minutes=30)))
    written = dict(fields_of("\n".join(apel.record_lines(record))))
    assert (written["Status"], written["EndTime"], written["WallDuration"], written["SuspendDuration"]) == (
        "started", "NULL", str(90 * 60), "0")
    assert (written["LocalUserId"], written["GlobalUserName"], written["FQAN"]) == ("bob", "NULL", "NULL")
    assert (written["MachineName"], written["Memory"], written["Disk"], written["ImageId"]) == (
        "web", "512", "NULL", "alpine")


def test_a_stopped_compute_is_stopped_and_its_stop_counts_as_suspended(ctx, computes):
    (record, _) = accounting.cloud_records(ctx, request(end=T0 + timedelta(hours=1, minutes=30)))
    assert (record.status, record.wall_duration, record.suspend_duration) == ("stopped", 50 * 60, 40 * 60)


def test_many_records_go_in_several_messages(ctx, computes):
    records = accounting.cloud_records(ctx, request())
    texts = apel.messages(records, per_message=1)
    assert len(texts) == 2 and all(text.startswith("APEL-cloud-message: v0.4\n") for text in texts)
    assert all("%%" not in text for text in texts)


def test_published_messages_read_back_from_the_dirq_queue(ctx, computes, tmp_path):
    outgoing = tmp_path / "outgoing"
    done = accounting.publish_accounting(ctx, request(directory=str(outgoing)))
    assert (done.records, done.messages) == (2, 1)
    queue = QueueSimple(str(outgoing))  # as ssmsend opens it
    texts = []
    for name in queue:
        assert queue.lock(name)
        texts.append(queue.get(name).decode("utf-8"))  # dirq hands back the bytes it stored
        queue.remove(name)
    assert len(texts) == 1
    lines = texts[0].splitlines()
    assert lines[0] == "APEL-cloud-message: v0.4"
    values = dict(line.split(": ", 1) for line in lines[1:] if line != "%%")
    assert values["VMUUID"] == computes[1].id and "FQAN: " + FQAN in lines


def test_settings_that_are_missing_are_named(ctx, computes):
    with pytest.raises(InvalidRequest, match="occistack.accounting.site_name"):
        accounting.cloud_records(ctx, request(site_name=" "))
    with pytest.raises(InvalidRequest, match="occistack.accounting.outgoing"):
        accounting.publish_accounting(ctx, request())
    with pytest.raises(InvalidRequest, match="after to"):
        accounting.cloud_records(ctx, request(start=T0 + timedelta(days=1)))
