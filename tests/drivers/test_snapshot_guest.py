"""A volume snapshot proven on a real QEMU guest (TCG), through the host agent's command runner on
the real drivers -- libvirt's QEMU, a dir storage pool, secondary storage on nfs-ganesha:

the running guest writes a marker to its data volume; the volume is snapshotted *while the guest
runs* (an external overlay, committed back) into NFS; the guest overwrites the marker; the guest is
powered off, the volume reverted to the snapshot, the guest started again -- and at boot it reads
the first marker back.

The guest is a Debian kernel and a busybox initramfs (no disk image). Its PID 1 loads the virtio
block driver, prints what the data volume starts with, then obeys a "mailbox": a small raw
volume the test writes ``<sequence> <marker>`` into from the host and the guest polls with
O_DIRECT reads; each new order is written to the data volume (O_DIRECT, so it reaches the disk at once) and
acknowledged on the serial console. One guest, two boots.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import libvirt
import pytest

from occistack.drivers.base import HostDrivers
from occistack.drivers.fake import FakeNetworkDriver
from occistack.drivers.libvirt import DirectBoot, Disk, LibvirtComputeDriver
from occistack.drivers.libvirt.compute import disk_in_pool
from occistack.drivers.libvirt.snapshot import OVERLAY_SUFFIX
from occistack.drivers.storage.libvirt_pool import LibvirtPoolStorageDriver
from occistack.drivers.storage.secondary import NfsSecondaryStorage, NfsUrlSecondaryStorage
from occistack.drivers.storage.volumes import volume_xml
from occistack.hostagent import protocol
from occistack.hostagent.agent import CommandRunner
from occistack.hostagent.protocol import Command
from tests.conftest import missing_component
from tests.drivers.conftest import GUEST_PREFIX, QEMU_STOP_TIMEOUT
from tests.drivers.guest_image import GuestImageUnavailable, build_guest_image
from tests.drivers.test_real_host import wait_for_console

VIRTIO_MODULES = ("virtio_ring.ko", "virtio.ko", "virtio_pci_modern_dev.ko", "virtio_pci_legacy_dev.ko",
                  "virtio_pci.ko", "virtio_blk.ko")
SECTOR = 512
SNAPSHOT_INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for module in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    insmod /$module.ko
done
# The guest's kernel names its virtio disks in PCI order, not after libvirt's targets: the data
# volume (target vdb) is its vda, the mailbox (target vdc) its vdb.
while [ ! -b /dev/vdb ]; do sleep 0.2; done
held=$(dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\\000')
echo "SNAPTEST-DISK [$held]" > /dev/console
last=""
while true; do
    order=$(dd if=/dev/vdb bs=512 count=1 iflag=direct 2>/dev/null | tr -d '\\000')
    if [ -n "$order" ] && [ "$order" != "$last" ]; then
        last="$order"
        set -- $order
        printf '%s' "$2" | dd of=/dev/vda bs=512 count=1 conv=sync oflag=direct 2>/dev/null
        echo "SNAPTEST-WROTE $1 $2" > /dev/console
    fi
    sleep 0.3
done
"""


@pytest.fixture
def guest_image():
    try:
        return build_guest_image(SNAPSHOT_INIT, kernel_modules=VIRTIO_MODULES)
    except GuestImageUnavailable as error:
        missing_component(f"cannot build the test guest image: {error}")


def run(runner: CommandRunner, command):
    name, payload = protocol.encode_command(command)
    return runner.run(Command(1, name, payload))


@pytest.mark.slow
def test_a_marker_written_by_a_running_guest_comes_back_after_overwrite_and_revert(
        libvirtd, qemu_pool, nfs_export, guest_image, tmp_path):
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    prefix = f"{GUEST_PREFIX}{uuid.uuid4().hex[:6]}-snap"
    guest, data, mailbox = prefix, f"{prefix}-data", f"{prefix}-mailbox"
    default_disk = disk_in_pool(qemu_pool)

    def disk_for(volume: str, device: str) -> Disk:
        disk = default_disk(volume, device)
        return Disk(target=disk.target, bus=disk.bus, pool=disk.pool, volume=disk.volume,
                    format="raw" if volume == mailbox else disk.format)

    compute = LibvirtComputeDriver(
        running.uri, console_log_dir=tmp_path, disk_for=disk_for, stop_timeout=QEMU_STOP_TIMEOUT, poll_interval=0.1,
        direct_boot_for=lambda _spec: DirectBoot(kernel=str(guest_image.kernel), initrd=str(guest_image.initrd),
                                                 cmdline=guest_image.cmdline))
    storage = LibvirtPoolStorageDriver(running.uri, qemu_pool)
    runner = CommandRunner(HostDrivers(compute=compute, storage=storage, network=FakeNetworkDriver(),
                                       secondary=NfsUrlSecondaryStorage()))
    secondary = NfsSecondaryStorage(nfs_export.v3_url)
    destination = secondary.url_for(f"snapshots/{prefix}.qcow2")
    connection = libvirt.open(running.uri)
    console = compute.console_log_path(guest)
    try:
        run(runner, protocol.CreateVolume(data, 0.01))
        connection.storagePoolLookupByName(qemu_pool).createXML(volume_xml(mailbox, 1024 * 1024, "raw"), 0)
        mailbox_path = connection.storagePoolLookupByName(qemu_pool).storageVolLookupByName(mailbox).path()

        def order(sequence: int, marker: str) -> None:
            """Tell the guest to write ``marker``; wait until it says it did."""
            with open(mailbox_path, "r+b") as box:
                box.write(f"{sequence} {marker}".encode().ljust(SECTOR, b"\0"))
            wait_for_console(console, f"SNAPTEST-WROTE {sequence} {marker}", timeout=60)

        run(runner, protocol.DeployGuest(protocol.GuestDefinition(
            guest, cores=1, memory_mib=192, image="tiny", disks=((data, "vdb"), (mailbox, "vdc")))))
        assert wait_for_console(console, "SNAPTEST-DISK", timeout=120).endswith("SNAPTEST-DISK []")
        order(1, "MARKER-ONE")

        reported: list[int] = []
        runner.report_progress = reported.append
        saved = run(runner, protocol.SnapshotVolume(data, destination))  # the guest runs all along
        assert reported == [50] and saved["checksum"].startswith("sha256:")
        assert compute.state(guest) == "running"
        live = ET.fromstring(connection.lookupByName(guest).XMLDesc(0))
        vdb = next(disk for disk in live.iterfind("devices/disk") if disk.find("target").get("dev") == "vdb")
        assert vdb.find("backingStore/source") is None, "the overlay must be committed back and pivoted away"
        pool = connection.storagePoolLookupByName(qemu_pool)
        pool.refresh(0)
        assert not [name for name in pool.listVolumes() if name.startswith(prefix) and
                    (OVERLAY_SUFFIX in name or ".snapshot-" in name)], "nothing temporary may be left"
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json",
                                          str(nfs_export.directory / f"snapshots/{prefix}.qcow2")],
                                         check=True, capture_output=True, text=True).stdout)
        assert info["format"] == "qcow2" and "backing-filename" not in info

        order(2, "MARKER-TWO")  # after the pivot, the guest still writes to its volume

        run(runner, protocol.PowerGuest(guest, "poweroff"))
        run(runner, protocol.RevertVolume(data, destination, saved["checksum"]))
        console.write_text("")
        run(runner, protocol.PowerGuest(guest, "start"))
        started = time.monotonic()
        line = wait_for_console(console, "SNAPTEST-DISK", timeout=120)
        print(f"the guest read its disk {time.monotonic() - started:.1f} s after the start: {line.strip()}")
        assert line.strip().endswith("SNAPTEST-DISK [MARKER-ONE]")
    finally:
        try:
            run(runner, protocol.DestroyGuest(guest, volumes=(data, mailbox)))
        finally:
            for volume in (data, mailbox):
                storage.delete_volume(volume)
            secondary.delete(f"snapshots/{prefix}.qcow2")
            secondary.close()
            connection.close()
            compute.close()
            storage.close()
