"""The domain XML builder: parse what it renders and look at the elements libvirt will read."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from occistack.drivers.base import GuestSpec
from occistack.drivers.libvirt import (
    DirectBoot, Disk, Domain, Interface, LibvirtComputeDriver, parse_domain_devices, render_domain)


def rendered(domain: Domain) -> ET.Element:
    return ET.fromstring(render_domain(domain))


def test_the_basics_and_acpi():
    root = rendered(Domain(name="vm1", vcpus=2, memory_mib=512, uuid="6d1b0b8e-51b5-4a5e-9c0e-1f2a3b4c5d6e"))
    assert root.tag == "domain" and root.get("type") == "qemu"
    assert root.findtext("name") == "vm1"
    assert root.findtext("uuid") == "6d1b0b8e-51b5-4a5e-9c0e-1f2a3b4c5d6e"
    assert root.findtext("vcpu") == "2"
    memory = root.find("memory")
    assert (memory.text, memory.get("unit")) == ("512", "MiB")
    assert root.find("features/acpi") is not None, "without ACPI a guest cannot power itself off"
    os_type = root.find("os/type")
    assert (os_type.text, os_type.get("arch"), os_type.get("machine")) == ("hvm", "x86_64", "pc")
    assert root.find("os/boot").get("dev") == "hd"
    assert root.find("os/kernel") is None
    assert root.findtext("on_poweroff") == "destroy"


def test_no_uuid_lets_libvirt_choose_one():
    assert rendered(Domain(name="vm1", vcpus=1, memory_mib=64)).find("uuid") is None


def test_direct_kernel_boot():
    root = rendered(Domain(name="vm1", vcpus=1, memory_mib=64, boot=DirectBoot(
        kernel="/boot/vmlinuz", initrd="/boot/initrd.gz", cmdline="console=ttyS0 panic=-1")))
    assert root.findtext("os/kernel") == "/boot/vmlinuz"
    assert root.findtext("os/initrd") == "/boot/initrd.gz"
    assert root.findtext("os/cmdline") == "console=ttyS0 panic=-1"
    assert root.find("os/boot") is None


def test_serial_console_goes_to_a_log_file():
    root = rendered(Domain(name="vm1", vcpus=1, memory_mib=64, console_log="/var/log/occi/vm1.log"))
    serial = root.find("devices/serial")
    assert serial.get("type") == "file"
    assert serial.find("source").get("path") == "/var/log/occi/vm1.log"
    console = root.find("devices/console")
    assert console.get("type") == "file"
    assert console.find("target").get("type") == "serial"
    assert rendered(Domain(name="vm2", vcpus=1, memory_mib=64)).find("devices/serial") is None


def test_disks_from_a_pool_volume_a_file_and_a_read_only_cdrom():
    root = rendered(Domain(name="vm1", vcpus=1, memory_mib=64, disks=(
        Disk(target="vda", pool="primary", volume="vm1-root"),
        Disk(target="vdb", path="/srv/data.raw", format="raw"),
        Disk(target="hdc", bus="ide", path="/srv/config.iso", device="cdrom", format="raw", readonly=True))))
    root_disk, data, cdrom = root.findall("devices/disk")
    assert (root_disk.get("type"), root_disk.get("device")) == ("volume", "disk")
    assert root_disk.find("source").attrib == {"pool": "primary", "volume": "vm1-root"}
    assert root_disk.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    assert root_disk.find("driver").get("type") == "qcow2"
    assert root_disk.find("readonly") is None
    assert data.get("type") == "file" and data.find("source").get("file") == "/srv/data.raw"
    assert data.find("driver").get("type") == "raw"
    assert cdrom.get("device") == "cdrom" and cdrom.find("readonly") is not None
    assert cdrom.find("target").get("bus") == "ide"


def test_interfaces_with_vlan_and_openvswitch():
    root = rendered(Domain(name="vm1", vcpus=1, memory_mib=64, interfaces=(
        Interface(mac="52:54:00:00:00:01", bridge="br-public"),
        Interface(mac="52:54:00:00:00:02", bridge="ovs0", vlan=210, openvswitch=True, model="e1000"))))
    plain, tagged = root.findall("devices/interface")
    assert plain.get("type") == "bridge"
    assert plain.find("mac").get("address") == "52:54:00:00:00:01"
    assert plain.find("source").get("bridge") == "br-public"
    assert plain.find("vlan") is None and plain.find("virtualport") is None
    assert plain.find("model").get("type") == "virtio"
    assert tagged.find("vlan/tag").get("id") == "210"
    assert tagged.find("virtualport").get("type") == "openvswitch"
    assert tagged.find("model").get("type") == "e1000"


@pytest.mark.parametrize("make, message", [
    (lambda: Disk(target="vda"), "either pool and volume or a path"),
    (lambda: Disk(target="vda", path="/a", pool="p", volume="v"), "either pool and volume or a path"),
    (lambda: Disk(target="vda", path="/a", format="vmdk"), "format must be one of"),
    (lambda: Interface(mac="52:54:00:00:00:01", bridge="br0", vlan=4095), "outside 1-4094"),
    (lambda: Domain(name="vm1", vcpus=1, memory_mib=64, domain_type="xen"), "type must be one of"),
    (lambda: Domain(name="vm1", vcpus=0, memory_mib=64), "at least one vCPU"),
    (lambda: Domain(name="vm1", vcpus=1, memory_mib=64, disks=(Disk(target="vda", path="/a"),
                                                                 Disk(target="vda", path="/b"))), "repeat"),
])
def test_impossible_devices_are_refused_with_a_reason(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_parsing_back_disks_and_macs():
    domain = Domain(name="vm1", vcpus=1, memory_mib=64,
                    disks=(Disk(target="vda", pool="primary", volume="vm1-root"),
                           Disk(target="hdc", bus="ide", path="/srv/x.iso", device="cdrom", format="raw",
                                readonly=True)),
                    interfaces=(Interface(mac="52:54:00:00:00:01", bridge="br0"),
                                Interface(mac="52:54:00:00:00:02", bridge="br1", vlan=5)))
    devices = parse_domain_devices(render_domain(domain))
    assert devices.disks == domain.disks
    assert devices.macs == ("52:54:00:00:00:01", "52:54:00:00:00:02")


def test_the_driver_maps_a_guest_spec_through_its_hooks(tmp_path):
    driver = LibvirtComputeDriver(
        "test:///default", storage_pool="primary",
        interface_for=lambda network, mac: Interface(mac=mac, bridge="ovs0", vlan=int(network.split("-")[1]),
                                                     openvswitch=True),
        root_disk_for=lambda guest: Disk(target="vda", pool="primary", volume=f"{guest.name}-root"),
        direct_boot_for=lambda guest: DirectBoot(kernel="/k", initrd="/i", cmdline="console=ttyS0"),
        console_log_dir=tmp_path)
    try:
        spec = GuestSpec(name="vm9", cores=2, memory_mib=256, image="debian",
                         nics=(("52:54:00:00:00:09", "vlan-300"),), disks=(("data-1", "/dev/vdb"), ("old", "sdc")))
        root = ET.fromstring(render_domain(driver.domain_for(spec)))
    finally:
        driver.close()
    assert root.get("type") == "test"
    assert [disk.find("source").get("volume") for disk in root.findall("devices/disk")] == ["vm9-root", "data-1", "old"]
    assert [disk.find("target").attrib for disk in root.findall("devices/disk")][1:] == [
        {"dev": "vdb", "bus": "virtio"}, {"dev": "sdc", "bus": "scsi"}]
    assert root.find("devices/interface/vlan/tag").get("id") == "300"
    assert root.findtext("os/kernel") == "/k"
    assert root.find("devices/serial/source").get("path") == str(tmp_path / "vm9.log")
