"""The storage driver contract, run against the fake, a libvirt dir pool on the real libvirtd
(qemu:///system) and -- for what libvirt's test driver can do -- test:///default; then what
only real storage shows (qcow2 backing files, flattening, templates in the pool) and secondary
storage on a real NFS server (nfs-ganesha) spoken to over the NFS protocol (libnfs).

Live attach/detach uses a diskless QEMU guest sitting in SeaBIOS. It has no OS to acknowledge
a virtio unplug, so the detach tests use a SCSI device (sdb), which QEMU removes at once; a
virtio attach (vdb) is checked for appearing only.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import libvirt
import pytest

from occistack.drivers.base import DriverError, GuestNotFound, RootDiskBuilder, SecondaryStorageDriver, StorageDriver
from occistack.drivers.fake import FakeStorageDriver
from occistack.drivers.storage.directory import DirectorySecondaryStorage
from occistack.drivers.storage.libvirt_pool import LibvirtPoolStorageDriver
from occistack.drivers.storage.secondary import NfsSecondaryStorage, NfsUrlSecondaryStorage, download_template
from occistack.drivers.storage.volumes import DirPool
from occistack.drivers.storage.volumes import GIB
from tests.conftest import missing_component
from tests.drivers.conftest import GUEST_PREFIX, TEST_POOL, TEST_URI

MIB = 1024 ** 2
IMAGE = b"occistack template\n" * 4096  # 76 KiB, served over HTTP
IMAGE_SHA256 = "sha256:" + hashlib.sha256(IMAGE).hexdigest()
WRONG_SHA256 = "sha256:" + "0" * 64


def approx_gib(size_gib: float):
    """Sizes are rounded up to whole sectors: equal to within a MiB."""
    return pytest.approx(size_gib, abs=1 / 1024)


# --- backends --------------------------------------------------------------------------------

@dataclass
class StorageBackend:
    kind: str
    driver: StorageDriver
    can_resize: bool = True
    can_attach: bool = True
    guest_xml: object = None  # guest name -> its live domain XML (QEMU only)
    running_guest: str | None = None
    prefix: str = field(default_factory=lambda: f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-")
    made: list[str] = field(default_factory=list)

    def volume(self, suffix: str, size_gib: float = 0.01) -> str:
        name = self.prefix + suffix
        self.driver.create_volume(name, size_gib)
        self.made.append(name)
        return name

    def size(self, name: str) -> float:
        return self.driver.volume_size_gib(name)


@pytest.fixture(scope="module")
def qemu_storage(libvirtd, tmp_path_factory):
    """A storage driver on a dir pool of its own in a temp directory; the pool is destroyed,
    deleted and undefined after the module."""
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    pool = f"{GUEST_PREFIX}storage-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    driver = LibvirtPoolStorageDriver(running.uri, pool,
                                      pool_definition=DirPool(str(tmp_path_factory.mktemp("pool"))),
                                      detach_timeout=10.0, poll_interval=0.05)
    try:
        yield driver
    finally:
        def remove(conn) -> None:
            found = conn.storagePoolLookupByName(pool)
            found.refresh(0)
            for volume in found.listAllVolumes():
                volume.delete(0)
            found.destroy()
            found.delete(0)
            found.undefine()
        driver._run(f"remove storage pool {pool}", remove)
        driver.close()


@pytest.fixture(scope="module")
def qemu_guest(libvirtd, qemu_storage):
    """A running diskless QEMU guest (64 MiB, SeaBIOS, no OS) to plug disks into."""
    connection = libvirt.open(libvirtd[0].uri)
    name = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-storage-guest"
    domain = connection.defineXML(
        f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features>"
        "<devices><memballoon model='none'/></devices></domain>")
    domain.create()
    try:
        yield name, lambda _guest: connection.lookupByName(name).XMLDesc(0)
    finally:
        if domain.isActive():
            domain.destroy()
        domain.undefine()
        connection.close()


@pytest.fixture(params=["fake", "libvirt-test", "libvirt-qemu"])
def storage(request):
    yield from _storage_backend(request)


@pytest.fixture(params=["libvirt-test", "libvirt-qemu"])
def real_storage(request):
    yield from _storage_backend(request)


def _storage_backend(request):
    kind = request.param
    if kind == "fake":
        fake = FakeStorageDriver(guest_exists=lambda name: name == "fake-guest", image_exists=lambda _name: False)
        backend = StorageBackend(kind, fake, running_guest="fake-guest")
        yield backend
        return
    if kind == "libvirt-test":
        driver = LibvirtPoolStorageDriver(TEST_URI, TEST_POOL)
        # The test driver's volumes are not files: it can neither resize nor hot-plug them.
        backend = StorageBackend(kind, driver, can_resize=False, can_attach=False, running_guest="test")
    else:
        guest, guest_xml = request.getfixturevalue("qemu_guest")
        backend = StorageBackend(kind, request.getfixturevalue("qemu_storage"),
                                 running_guest=guest, guest_xml=guest_xml)
    try:
        yield backend
    finally:
        if backend.can_attach:
            for name in backend.made:
                backend.driver.detach(backend.running_guest, name)
        for name in backend.made:
            backend.driver.delete_volume(name)
        if kind == "libvirt-test":
            driver.close()


def refused_as_unsupported(storage: StorageBackend, ability: str, operation) -> bool:
    """Whether the backend lacks ``ability`` -- after checking that it says so clearly."""
    if getattr(storage, ability):
        return False
    with pytest.raises(DriverError, match="does not support"):
        operation()
    return True


# --- the contract ------------------------------------------------------------------------------

def test_a_created_volume_has_its_size(storage):
    name = storage.volume("data", 0.5)
    assert storage.size(name) == approx_gib(0.5)


def test_creating_a_volume_twice_is_refused(storage):
    name = storage.volume("data")
    with pytest.raises(DriverError, match="already exists"):
        storage.driver.create_volume(name, 0.02)
    assert storage.size(name) == approx_gib(0.01), "the refused create must leave the volume alone"


def test_resize_grows_and_refuses_to_shrink(storage):
    name = storage.volume("data", 0.25)
    if refused_as_unsupported(storage, "can_resize", lambda: storage.driver.resize_volume(name, 0.5)):
        return
    storage.driver.resize_volume(name, 0.5)
    assert storage.size(name) == approx_gib(0.5)
    with pytest.raises(DriverError, match="cannot shrink"):
        storage.driver.resize_volume(name, 0.25)
    assert storage.size(name) == approx_gib(0.5)


def test_resizing_an_unknown_volume_is_refused(storage):
    with pytest.raises(DriverError, match="no volume named"):
        storage.driver.resize_volume(storage.prefix + "absent", 1)


def test_delete_is_idempotent(storage):
    name = storage.volume("data")
    storage.driver.delete_volume(name)
    storage.driver.delete_volume(name)
    with pytest.raises(DriverError, match="no volume named"):
        storage.size(name)


def test_attaching_to_an_unknown_guest_is_refused(storage):
    name = storage.volume("data")
    with pytest.raises(GuestNotFound):
        storage.driver.attach(storage.prefix + "no-such-guest", name, "vdb")


def _live_targets(storage: StorageBackend) -> dict[str, str]:
    """target dev → bus of the running guest's live disks (the fake has no XML: its records)."""
    if storage.kind == "fake":
        return {record["device"]: "virtio" for record in storage.driver.volumes.values()
                if record["attached_to"] == storage.running_guest}
    root = ET.fromstring(storage.guest_xml(storage.running_guest))
    return {target.get("dev"): target.get("bus") for target in root.iterfind("devices/disk/target")}


def test_attach_and_detach_a_running_guest(storage):
    name = storage.volume("data")
    if refused_as_unsupported(storage, "can_attach", lambda: storage.driver.attach(storage.running_guest, name, "sdb")):
        return
    storage.driver.attach(storage.running_guest, name, "sdb")
    assert "sdb" in _live_targets(storage)
    storage.driver.detach(storage.running_guest, name)
    assert "sdb" not in _live_targets(storage)
    storage.driver.detach(storage.running_guest, name)  # not attached any more: fine
    storage.driver.delete_volume(name)


def test_a_virtio_volume_appears_live_as_its_device(storage):
    name = storage.volume("data")
    if refused_as_unsupported(storage, "can_attach", lambda: storage.driver.attach(storage.running_guest, name, "vdc")):
        return
    storage.driver.attach(storage.running_guest, name, "vdc")
    targets = _live_targets(storage)
    assert targets.get("vdc") == "virtio"
    # Not detached here: the OS-less guest would never acknowledge a virtio unplug. The fixture's
    # detach below waits in vain, so the volume is dropped from its clean-up list and the guest,
    # which dies with the module, takes the disk with it.
    storage.made.remove(name)


def test_attaching_the_same_volume_twice_is_refused(storage):
    name = storage.volume("data")
    if refused_as_unsupported(storage, "can_attach", lambda: storage.driver.attach(storage.running_guest, name, "sdd")):
        return
    storage.driver.attach(storage.running_guest, name, "sdd")
    with pytest.raises(DriverError, match="already attached"):
        storage.driver.attach(storage.running_guest, name, "sde")
    with pytest.raises(DriverError, match="attached"):
        storage.driver.delete_volume(name)


def test_download_template_with_the_right_checksum(storage, image_server, nfs_export, templates):
    destination = templates.url_for(f"{storage.prefix}good.img")
    size_gib = _downloader(storage, templates).download_template(image_server.url("image"), IMAGE_SHA256, destination)
    if storage.kind == "fake":
        return  # the fake records the download and reports a fixed size; nothing to read back
    assert size_gib == pytest.approx(len(IMAGE) / GIB)
    assert b"".join(templates.read_chunks(f"{storage.prefix}good.img")) == IMAGE


def test_download_template_with_a_wrong_checksum(real_storage, image_server, nfs_export, templates):
    # Not on the fake: it downloads nothing, so it has no digest to compare.
    storage = real_storage
    destination = templates.url_for(f"{storage.prefix}bad.img")
    with pytest.raises(DriverError) as refused:
        _downloader(storage, templates).download_template(image_server.url("image"), WRONG_SHA256, destination)
    assert WRONG_SHA256 in str(refused.value) and IMAGE_SHA256 in str(refused.value)
    assert not [name for name in os.listdir(nfs_export.directory) if "bad.img" in name]


def test_a_removed_template_image_is_gone_from_secondary_storage(storage, image_server, nfs_export, templates):
    destination = templates.url_for(f"{storage.prefix}removed.img")
    driver = _downloader(storage, templates)
    driver.download_template(image_server.url("image"), IMAGE_SHA256, destination)
    driver.remove_from_secondary(destination)
    driver.remove_from_secondary(destination)  # absent: not an error
    if storage.kind == "fake":
        assert destination not in driver.templates
        return
    assert not templates.exists(f"{storage.prefix}removed.img")


def test_removal_without_a_mounted_secondary_storage_finds_the_export(real_storage, image_server, nfs_export,
                                                                       templates):
    # As an agent does it: from the URL alone, mounting the deepest directory there is.
    storage = real_storage
    templates.download_template(image_server.url("image"), IMAGE_SHA256, f"{storage.prefix}deep/alone.img")
    NfsUrlSecondaryStorage().remove_from_secondary(templates.url_for(f"{storage.prefix}deep/alone.img"))
    assert not templates.exists(f"{storage.prefix}deep/alone.img")


def _downloader(storage: StorageBackend, templates: NfsSecondaryStorage) -> SecondaryStorageDriver:
    """The secondary storage a host with this backend reaches: the fake's own; on a real host,
    the NFS export each destination names, as the agent's wiring gives it."""
    if isinstance(storage.driver, SecondaryStorageDriver):
        return storage.driver
    return NfsUrlSecondaryStorage()


# --- real storage: qcow2 backing files, flattened images, templates in the pool -------------------

def _qemu_img_info(path: str) -> dict:
    try:
        result = subprocess.run(["qemu-img", "info", "--output=json", "-U", path],
                                capture_output=True, text=True, check=True, timeout=30)
    except FileNotFoundError:
        missing_component("qemu-img is not installed (apt-get install qemu-utils)")
    return json.loads(result.stdout)


def _volume_path(driver: LibvirtPoolStorageDriver, name: str) -> str:
    return driver._run("find a volume", lambda conn: driver._pool(conn).storageVolLookupByName(name).path())


@pytest.fixture
def template_file(tmp_path):
    """A small qcow2 image with some data, and its sha256 checksum."""
    raw, image = tmp_path / "t.raw", tmp_path / "t.qcow2"
    raw.write_bytes(os.urandom(256 * 1024) + b"\0" * (8 * MIB - 256 * 1024))
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(image)], check=True)
    return image, "sha256:" + hashlib.sha256(image.read_bytes()).hexdigest()


def test_a_template_root_disk_is_a_qcow2_overlay_and_a_snapshot_flattens_it(qemu_storage, template_file):
    driver, (image, checksum) = qemu_storage, template_file
    template = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-template"
    uploads = []
    original_upload = driver._upload
    driver._upload = lambda *args: (uploads.append(args), original_upload(*args))[1]
    try:
        assert driver.ensure_template(template, str(image), checksum) == template
        assert driver.ensure_template(template, str(image), checksum) == template
    finally:
        del driver._upload
    assert len(uploads) == 1, "the second ensure_template must reuse the template"
    template_info = _qemu_img_info(_volume_path(driver, template))
    assert template_info["format"] == "qcow2" and template_info["virtual-size"] == 8 * MIB

    guest = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-vm"
    assert isinstance(driver, RootDiskBuilder)
    root = driver.prepare_root_disk(guest, template, 0.5)
    assert root == driver.root_disk_of(guest)  # what the agent deletes with the guest
    info = _qemu_img_info(_volume_path(driver, root))
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == _volume_path(driver, template)
    assert info["virtual-size"] == GIB // 2
    with pytest.raises(DriverError, match="smaller than template"):
        driver.prepare_root_disk(f"{GUEST_PREFIX}tiny-vm", template, 0.001)

    image_name = f"{root}-saved"
    driver.copy_volume_as_image(root, image_name)
    saved = _qemu_img_info(_volume_path(driver, image_name))
    assert saved["format"] == "qcow2" and "backing-filename" not in saved
    assert saved["virtual-size"] == GIB // 2
    for name in (image_name, root, template):
        driver.delete_volume(name)


def test_a_template_with_a_wrong_checksum_leaves_no_volume(qemu_storage, template_file):
    image, _checksum = template_file
    template = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-template"
    with pytest.raises(DriverError, match="checksum mismatch"):
        qemu_storage.ensure_template(template, str(image), WRONG_SHA256)
    left = qemu_storage._run("list volumes", lambda conn: qemu_storage._pool(conn).listVolumes())
    assert not [name for name in left if name.startswith(template)]


def test_a_template_comes_from_secondary_storage(qemu_storage, templates, template_file):
    image, checksum = template_file
    name = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-from-nfs"
    templates.put(f"{name}.qcow2", image)
    qemu_storage.ensure_template(name, templates.url_for(f"{name}.qcow2"), checksum)
    assert _qemu_img_info(_volume_path(qemu_storage, name))["format"] == "qcow2"
    qemu_storage.delete_volume(name)
    templates.delete(f"{name}.qcow2")


def test_copying_an_unknown_image_to_secondary_storage_is_refused(storage):
    with pytest.raises(DriverError, match="no (image|volume) named"):
        storage.driver.export_image(storage.prefix + "never-saved", "nfs://127.0.0.1/nowhere/never-saved.qcow2")


def test_an_image_copied_to_secondary_storage_is_a_template_again(qemu_storage, templates, template_file):
    """What a save does after the compute driver's snapshot: the image volume streams out of
    libvirt into NFS, checksummed on the way; any host can then make it a template again."""
    image, checksum = template_file
    name = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-saved"
    qemu_storage.ensure_template(name, str(image), checksum)
    path = f"saved/{name}.qcow2"
    copied, size_gib = qemu_storage.export_image(name, templates.url_for(path))
    stored = b"".join(templates.read_chunks(path))
    assert copied == "sha256:" + hashlib.sha256(stored).hexdigest()
    assert size_gib == pytest.approx(len(stored) / GIB)
    again = f"{name}-again"
    qemu_storage.ensure_template(again, templates.url_for(path), copied)
    info = _qemu_img_info(_volume_path(qemu_storage, again))
    assert info["format"] == "qcow2" and info["virtual-size"] == 8 * MIB
    for volume in (again, name):
        qemu_storage.delete_volume(volume)
    templates.delete(path)
    with pytest.raises(DriverError):
        qemu_storage.export_image(name, templates.url_for(path))
    assert not templates.exists(path) and not [n for n in templates.list("saved") if name in n]


# --- secondary storage on NFS -------------------------------------------------------------------

class _ImageServer:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def image_server():
    server = _ImageServer({"image": IMAGE})
    yield server
    server.close()


@pytest.fixture(scope="module")
def templates(nfs_export):
    storage = NfsSecondaryStorage(nfs_export.v3_url)
    yield storage
    storage.close()


def test_a_template_registered_by_url_lands_on_nfs_verified(templates, image_server, nfs_export, tmp_path):
    # Through the module-level download, which finds the export itself: the destination's
    # directories do not exist yet.
    destination = templates.url_for("registered/2026/tiny.img")
    size_gib = download_template(image_server.url("image"), IMAGE_SHA256, destination)
    assert size_gib == pytest.approx(len(IMAGE) / GIB)
    templates.get("registered/2026/tiny.img", tmp_path / "back.img")
    assert (tmp_path / "back.img").read_bytes() == IMAGE
    assert (nfs_export.directory / "registered/2026/tiny.img").read_bytes() == IMAGE
    assert templates.list("registered/2026") == ["tiny.img"]


@dataclass
class SecondaryBackend:
    """One secondary storage implementation: the storage, the local directory its root is,
    a maker of another one on the same root (with options), and a destination outside it."""

    kind: str
    storage: object
    directory: object
    make: object
    outside: str


@pytest.fixture(params=["nfs", "directory"])
def secondary(request, tmp_path):
    """Secondary storage on the NFS server, and in a local directory (the embedded default's
    simulated hosts): the same tests run on both."""
    if request.param == "nfs":
        export = request.getfixturevalue("nfs_export")
        yield SecondaryBackend("nfs", request.getfixturevalue("templates"), export.directory,
                               lambda **options: NfsSecondaryStorage(export.v3_url, **options),
                               "nfs://other-server/somewhere/x.img")
        return
    root = tmp_path / "secondary"
    storage = DirectorySecondaryStorage(root)
    yield SecondaryBackend("directory", storage, root, lambda **options: DirectorySecondaryStorage(root, **options),
                           "file:///somewhere/else/x.img")


def test_secondary_storage_removes_through_its_contract(secondary, image_server):
    # What an agent calls (SecondaryStorageDriver), on every implementation: absent is no error.
    assert isinstance(secondary.storage, SecondaryStorageDriver)
    destination = secondary.storage.url_for(f"removed/{uuid.uuid4().hex[:6]}/tiny.img")
    secondary.storage.download_template(image_server.url("image"), IMAGE_SHA256, destination)
    assert secondary.storage.exists(destination)
    secondary.storage.remove_from_secondary(destination)
    secondary.storage.remove_from_secondary(destination)
    assert not secondary.storage.exists(destination)


def test_a_wrong_checksum_leaves_nothing_behind(secondary, image_server):
    with pytest.raises(DriverError, match="checksum mismatch") as refused:
        secondary.storage.download_template(image_server.url("image"), WRONG_SHA256, "wrong/tiny.img")
    assert IMAGE_SHA256.split(":")[1] in str(refused.value)
    assert os.listdir(secondary.directory / "wrong") == []


def test_a_download_lands_verified_and_reports_its_progress(secondary, image_server):
    seen: list[tuple[int, int | None]] = []
    destination = secondary.storage.url_for(f"progress/{uuid.uuid4().hex[:6]}/tiny.img")
    size_gib = secondary.storage.download_template(image_server.url("image"), IMAGE_SHA256, destination,
                                                   progress=lambda done, total: seen.append((done, total)))
    assert size_gib == pytest.approx(len(IMAGE) / GIB)
    assert seen and seen[-1] == (len(IMAGE), len(IMAGE))
    assert [done for done, _total in seen] == sorted(done for done, _total in seen)
    relative = secondary.storage.relative(destination)
    assert b"".join(secondary.storage.read_chunks(relative)) == IMAGE
    assert (secondary.directory / relative).read_bytes() == IMAGE
    secondary.storage.delete(relative)


def test_an_unknown_algorithm_is_refused_before_downloading(secondary, image_server):
    before = len(image_server.requests)
    with pytest.raises(DriverError, match="sha256, sha512, sha1, md5"):
        secondary.storage.download_template(image_server.url("image"), "crc32:deadbeef", "x/tiny.img")
    assert len(image_server.requests) == before


def test_other_algorithms_and_storage_sources(secondary, image_server):
    storage = secondary.storage
    storage.download_template(image_server.url("image"), "md5:" + hashlib.md5(IMAGE).hexdigest(), "algos/a.img")
    storage.download_template(storage.url_for("algos/a.img"), "sha512:" + hashlib.sha512(IMAGE).hexdigest(),
                              "algos/b.img")
    assert storage.size("algos/b.img") == len(IMAGE)
    storage.delete("algos/a.img")
    storage.delete("algos/b.img")


def test_a_download_over_the_size_limit_is_refused(secondary, image_server):
    limited = secondary.make(max_bytes=1000)
    try:
        with pytest.raises(DriverError, match="limit"):
            limited.download_template(image_server.url("image"), IMAGE_SHA256, "limited/tiny.img")
        assert limited.list("limited") == []
    finally:
        limited.close()


def test_a_missing_http_file_is_a_driver_error(secondary, image_server):
    with pytest.raises(DriverError, match="404"):
        secondary.storage.download_template(image_server.url("absent"), IMAGE_SHA256, "missing/tiny.img")


def test_put_get_list_delete(secondary, tmp_path):
    storage = secondary.storage
    payload = os.urandom(300 * 1024)
    (tmp_path / "in").write_bytes(payload)
    assert storage.put("round/any/blob", tmp_path / "in") == len(payload)
    assert storage.list("round/any") == ["blob"]
    assert storage.size("round/any/blob") == len(payload)
    storage.get("round/any/blob", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == payload
    storage.delete("round/any/blob")
    storage.delete("round/any/blob")  # absent: fine
    assert storage.list("round/any") == []
    with pytest.raises(DriverError, match="no file"):
        storage.size("round/any/blob")


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_put_get_list_delete_round_trip(nfs_export, tmp_path, version):
    storage = NfsSecondaryStorage(nfs_export.v3_url if version == "v3" else nfs_export.v4_url)
    payload = os.urandom(300 * 1024)
    (tmp_path / "in").write_bytes(payload)
    try:
        assert storage.put(f"round/{version}/blob", tmp_path / "in") == len(payload)
        assert storage.list(f"round/{version}") == ["blob"]
        assert storage.size(f"round/{version}/blob") == len(payload)
        storage.get(f"round/{version}/blob", tmp_path / "out")
        assert (tmp_path / "out").read_bytes() == payload
        storage.delete(f"round/{version}/blob")
        storage.delete(f"round/{version}/blob")  # absent: fine
        assert storage.list(f"round/{version}") == []
        with pytest.raises(DriverError, match="no file"):
            storage.size(f"round/{version}/blob")
    finally:
        storage.close()


def test_a_destination_outside_the_storage_is_refused(secondary):
    with pytest.raises(DriverError, match="not inside"):
        secondary.storage.relative(secondary.outside)
