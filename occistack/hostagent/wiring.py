"""The drivers of a real host, assembled from the agent's ``[drivers]`` configuration.

One libvirt connection serves compute and storage. The compute driver's hooks decide how a
guest's definition becomes devices: its NICs go where the network driver says (an OVS bridge
with the network's VLAN tag, or a Linux bridge per VLAN), its root disk is the volume the
storage driver made from its template, a kernel-and-initramfs template boots directly, and
every guest gets a NoCloud config drive with its contextualization.
"""

from __future__ import annotations

from pathlib import Path

from occistack.drivers.base import ConfigDriveBuilder, DhcpDriver, GuestSpec, HostDrivers, RootDiskBuilder, \
    SecondaryStorageDriver
from occistack.drivers.config_drive import Contextualization, write_config_drive
from occistack.drivers.fake import FakeNetworkDriver, FakeStorageDriver
from occistack.drivers.libvirt.compute import LibvirtComputeDriver
from occistack.drivers.libvirt.domain import DirectBoot, Disk
from occistack.hostagent.config import DriverConfig


class ConfigDrives(ConfigDriveBuilder):
    """One config drive image per guest, in a directory libvirt (QEMU) can read."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def path_of(self, guest: str) -> Path:
        return self.directory / f"{guest}-config.iso"

    def disks_for(self, guest: GuestSpec) -> tuple[Disk, ...]:
        """Written now, as the guest is defined: its contextualization as it is at this deploy."""
        path = write_config_drive(Contextualization(guest.name, guest.hostname, guest.user_data,
                                                    guest.ssh_public_key), self.path_of(guest.name))
        # IDE: the one bus every machine type and every guest kernel has a driver for.
        return (Disk(target="hdc", bus="ide", path=str(path), device="cdrom", format="raw", readonly=True),)

    def remove(self, guest: str) -> None:
        self.path_of(guest).unlink(missing_ok=True)

    def write(self, guest: GuestSpec) -> None:
        self.disks_for(guest)


def root_disk_in(pool: str):
    def root_disk_for(guest: GuestSpec) -> Disk | None:
        return Disk(target="vda", bus="virtio", pool=pool, volume=guest.root_volume) if guest.root_volume else None
    return root_disk_for


def direct_boot_for(guest: GuestSpec) -> DirectBoot | None:
    if guest.direct_boot is None:
        return None
    kernel, initrd, cmdline = guest.direct_boot
    return DirectBoot(kernel, initrd, cmdline)


def libvirt_host_drivers(config: DriverConfig) -> HostDrivers:
    work = Path(config.work_dir)
    network = _network_driver(config, work)
    config_drives = ConfigDrives(work / "config-drives")
    compute = LibvirtComputeDriver(
        config.libvirt_uri, domain_type=config.domain_type, interface_for=network.interface_for,
        storage_pool=config.pool, root_disk_for=root_disk_in(config.pool), direct_boot_for=direct_boot_for,
        extra_disks_for=config_drives.disks_for, console_log_dir=work / "consoles",
        stop_timeout=float(config.stop_timeout), migration_uri=config.migration_uri)
    storage = _storage_driver(config, compute)
    dhcp = network if isinstance(network, DhcpDriver) else None
    if dhcp is not None:
        dhcp.restore_dhcp()  # DHCP servers of networks implemented before a restart
    return HostDrivers(compute, storage, network, _secondary_storage(storage),
                       root_disks=storage if isinstance(storage, RootDiskBuilder) else None,
                       dhcp=dhcp, config_drives=config_drives)


def _secondary_storage(storage) -> SecondaryStorageDriver:
    """The zone's NFS export a command's destination names; the fake storage is its own."""
    if isinstance(storage, SecondaryStorageDriver):
        return storage
    from occistack.drivers.storage.secondary import NfsUrlSecondaryStorage

    return NfsUrlSecondaryStorage()


def _network_driver(config: DriverConfig, work: Path):
    if config.network == "ovs":
        from occistack.drivers.network.dhcp import DhcpService
        from occistack.drivers.network.ovs import OvsNetworkDriver

        return OvsNetworkDriver(config.ovs_bridge, config.uplink or None, config.ovs_db_socket,
                                config.ovs_datapath, nic_model=config.nic_model, dhcp=DhcpService(work / "dhcp"),
                                switch_netns=config.switch_netns or None)
    if config.network == "linux-bridge":
        from occistack.drivers.network.linux_bridge import LinuxBridgeNetworkDriver

        if not config.uplink:
            raise ValueError("[drivers] network = linux-bridge needs uplink (the interface that carries the VLANs)")
        return LinuxBridgeNetworkDriver(config.uplink, work / "linux-bridge-networks.json",
                                        nic_model=config.nic_model)
    return FakeNetworkDriver()


def _storage_driver(config: DriverConfig, compute: LibvirtComputeDriver):
    if config.storage == "pool":
        from occistack.drivers.storage.libvirt_pool import LibvirtPoolStorageDriver
        from occistack.drivers.storage.volumes import DirPool

        definition = DirPool(config.pool_path) if config.pool_path else None
        return LibvirtPoolStorageDriver(compute.connection, config.pool, pool_definition=definition)
    return FakeStorageDriver(guest_exists=lambda name: compute.state(name) != "absent")
