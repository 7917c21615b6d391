"""The storage contract's snapshots (snapshot_volume, revert_volume, create_volume_from), run
against the fake and a libvirt dir pool on the real libvirtd with secondary storage on a real NFS
server (nfs-ganesha); libvirt's test driver, whose volumes are not files, says it cannot.

A guest's writes are stood in for: on the fake by its ``write``/``read``, on QEMU's qcow2
volumes by ``qemu-img`` writing and reading the first bytes of the disk. A volume attached to
the running diskless guest is snapshotted live (an external overlay, committed back): the
guest's live disk must be the volume itself again afterwards, and no overlay may be left.
"""

from __future__ import annotations

import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from occistack.drivers.base import DriverError
from occistack.drivers.libvirt.snapshot import OVERLAY_SUFFIX
from occistack.drivers.storage.directory import DirectorySecondaryStorage, SimulatedHostStorage
from tests.drivers.test_storage_contract import (  # noqa: F401 - fixtures used by name
    StorageBackend,
    _storage_backend,
    _volume_path,
    approx_gib,
    qemu_guest,
    qemu_storage,
    templates,
)

SECTOR = 512


@pytest.fixture(params=["fake", "libvirt-test", "libvirt-qemu"])
def storage(request):
    yield from _storage_backend(request)


def _destination(storage: StorageBackend, request, suffix: str) -> str:
    if storage.kind == "fake":
        return f"nfs://secondary.example/snapshots/{storage.prefix}{suffix}"
    return request.getfixturevalue("templates").url_for(f"snapshots/{storage.prefix}{suffix}")


def write(storage: StorageBackend, volume: str, text: str, tmp_path) -> None:
    if storage.kind == "fake":
        storage.driver.write(volume, text)
        return
    raw = tmp_path / f"{uuid.uuid4().hex[:6]}.raw"
    raw.write_bytes(text.encode().ljust(SECTOR, b"\0"))
    subprocess.run(["qemu-img", "convert", "-n", "-f", "raw", "-O", "qcow2", str(raw),
                    _volume_path(storage.driver, volume)], check=True, capture_output=True, timeout=60)


def read(storage: StorageBackend, volume: str, tmp_path) -> str:
    if storage.kind == "fake":
        return storage.driver.read(volume)
    raw = tmp_path / f"{uuid.uuid4().hex[:6]}.out"
    subprocess.run(["qemu-img", "dd", "-f", "qcow2", "-O", "raw", f"bs={SECTOR}", "count=1",
                    f"if={_volume_path(storage.driver, volume)}", f"of={raw}"],
                   check=True, capture_output=True, timeout=60)
    return raw.read_bytes().rstrip(b"\0").decode()


def unsupported(storage: StorageBackend, request) -> bool:
    """libvirt's test driver cannot stream volumes: it must say so, and leave nothing behind."""
    if storage.kind != "libvirt-test":
        return False
    name = storage.volume("data")
    with pytest.raises(DriverError, match="does not support"):
        storage.driver.snapshot_volume(name, "nfs://secondary.example/snapshots/x.qcow2")
    assert [volume for volume in storage.driver._run("list", lambda conn: storage.driver._pool(conn).listVolumes())
            if volume.startswith(name + ".")] == []
    return True


def test_revert_brings_back_what_the_volume_held_when_it_was_snapshotted(storage, request, tmp_path):
    if unsupported(storage, request):
        return
    name = storage.volume("data")
    write(storage, name, "MARKER-BEFORE", tmp_path)
    taken: list[bool] = []
    checksum, stored_gib = storage.driver.snapshot_volume(name, _destination(storage, request, "a.qcow2"),
                                                          taken=lambda: taken.append(True))
    assert taken == [True]
    assert checksum.startswith("sha256:") and len(checksum) == len("sha256:") + 64
    assert 0 <= stored_gib < 0.01
    write(storage, name, "MARKER-AFTER!", tmp_path)
    assert read(storage, name, tmp_path) == "MARKER-AFTER!"
    storage.driver.revert_volume(name, _destination(storage, request, "a.qcow2"), checksum)
    assert read(storage, name, tmp_path) == "MARKER-BEFORE"
    assert storage.size(name) == approx_gib(0.01)


def test_a_volume_made_from_a_snapshot_holds_its_data_at_the_size_asked(storage, request, tmp_path):
    if unsupported(storage, request):
        return
    name = storage.volume("data")
    write(storage, name, "MARKER-COPY", tmp_path)
    destination = _destination(storage, request, "b.qcow2")
    checksum, _stored = storage.driver.snapshot_volume(name, destination)
    copy = storage.prefix + "copy"
    storage.driver.create_volume_from(copy, 0.02, destination, checksum)
    storage.made.append(copy)
    assert read(storage, copy, tmp_path) == "MARKER-COPY"
    assert storage.size(copy) == approx_gib(0.02)
    with pytest.raises(DriverError, match="already exists"):
        storage.driver.create_volume_from(copy, 0.02, destination, checksum)


def test_a_wrong_checksum_changes_nothing(storage, request, tmp_path):
    if unsupported(storage, request):
        return
    name = storage.volume("data")
    write(storage, name, "MARKER-ONE", tmp_path)
    destination = _destination(storage, request, "c.qcow2")
    storage.driver.snapshot_volume(name, destination)
    write(storage, name, "MARKER-TWO", tmp_path)
    with pytest.raises(DriverError, match="mismatch"):
        storage.driver.revert_volume(name, destination, "sha256:" + "0" * 64)
    assert read(storage, name, tmp_path) == "MARKER-TWO"


def test_a_snapshot_of_an_unknown_volume_is_refused(storage, request):
    if unsupported(storage, request):
        return
    with pytest.raises(DriverError, match="no volume named"):
        storage.driver.snapshot_volume(storage.prefix + "absent", _destination(storage, request, "d.qcow2"))


def test_a_running_guests_volume_is_snapshotted_live_and_cannot_be_reverted(storage, request, tmp_path):
    if unsupported(storage, request):
        return
    name = storage.volume("data")
    write(storage, name, "MARKER-LIVE", tmp_path)
    storage.driver.attach(storage.running_guest, name, "sdb")
    destination = _destination(storage, request, "e.qcow2")
    checksum, _stored = storage.driver.snapshot_volume(name, destination)
    if storage.kind == "libvirt-qemu":
        live = ET.fromstring(storage.guest_xml(storage.running_guest))
        disk = next(d for d in live.iterfind("devices/disk") if d.find("target").get("dev") == "sdb")
        assert disk.find("backingStore/source") is None, "the overlay must be committed back"
        assert _volume_path(storage.driver, name) in ET.tostring(disk, encoding="unicode") or \
            disk.find("source").get("volume") == name
        leftovers = storage.driver._run("list", lambda conn: storage.driver._pool(conn).listVolumes())
        assert not [volume for volume in leftovers if OVERLAY_SUFFIX in volume or volume.startswith(name + ".")]
    copy = storage.prefix + "live-copy"
    storage.driver.create_volume_from(copy, 0.01, destination, checksum)
    storage.made.append(copy)
    assert read(storage, copy, tmp_path) == "MARKER-LIVE"
    if storage.kind == "fake":
        storage.driver.guest_running = lambda guest: guest == storage.running_guest
    with pytest.raises(DriverError, match="in use"):
        storage.driver.revert_volume(name, destination, checksum)
    storage.driver.detach(storage.running_guest, name)
    storage.driver.revert_volume(name, destination, checksum)  # detached: fine


def test_a_simulated_hosts_snapshot_is_a_real_file_another_simulated_host_restores(tmp_path):
    secondary = DirectorySecondaryStorage(tmp_path / "secondary")
    first, second = SimulatedHostStorage(secondary), SimulatedHostStorage(secondary)
    first.create_volume("vol-a", 1.0)
    first.write("vol-a", "SIMULATED")
    destination = "nfs://secondary.example/export/snapshots/1/7.qcow2"
    checksum, _stored = first.snapshot_volume("vol-a", destination)
    assert secondary.local_path(destination).is_file()
    second.create_volume_from("vol-b", 2.0, destination, checksum)
    assert (second.read("vol-b"), second.volume_size_gib("vol-b")) == ("SIMULATED", 2.0)
    with pytest.raises(DriverError, match="mismatch"):
        second.revert_volume("vol-b", destination, "sha256:" + "0" * 64)
    second.remove_from_secondary(destination)
    assert not secondary.local_path(destination).exists()
