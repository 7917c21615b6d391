"""The driver contracts. Arguments are plain values, never ORM rows: a host has no database."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Callable


class DriverError(Exception):
    """A backend refused or failed an operation; the message is fit for a state message."""


class GuestNotFound(DriverError):
    """The hypervisor knows no guest of that name."""


class InvalidGuestState(DriverError):
    """The operation is not possible in the guest's current state (suspend a stopped guest)."""


#: The power operations every compute driver accepts: operation → (the states it may start
#: from, the state it leaves the guest in). From any other state it is refused with
#: InvalidGuestState. ``hibernate`` saves the memory to disk and stops the guest; ``start``
#: restores it.
POWER_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({"stopped", "suspended"}), "running"),
    "stop": (frozenset({"running"}), "stopped"),
    "poweroff": (frozenset({"running", "suspended"}), "stopped"),
    "reboot": (frozenset({"running"}), "running"),
    "reset": (frozenset({"running"}), "running"),
    "suspend": (frozenset({"running"}), "suspended"),
    "hibernate": (frozenset({"running", "suspended"}), "stopped"),
}


@dataclass(frozen=True, slots=True)
class GuestSpec:
    """What a hypervisor needs to define a guest."""

    name: str
    cores: int
    memory_mib: int
    image: str
    architecture: str = "x64"
    hostname: str | None = None
    user_data: str | None = None
    ssh_public_key: str | None = None
    nics: tuple[tuple[str, str], ...] = field(default=())  # (mac, network name)
    disks: tuple[tuple[str, str], ...] = field(default=())  # (volume name, device)
    #: the guest's own root disk volume, made from its template by the host's storage driver.
    root_volume: str | None = None
    #: (kernel, initrd, command line) host files to boot from instead of a disk, for templates
    #: that are a kernel and an initramfs (appliances, and the project's own test guests).
    direct_boot: tuple[str, str | None, str | None] | None = None


class ComputeDriver(abc.ABC):
    @abc.abstractmethod
    def deploy(self, guest: GuestSpec) -> None:
        """Define the guest and boot it."""

    @abc.abstractmethod
    def power(self, name: str, operation: str) -> None:
        """One of the operations in POWER_MOVES (start, stop, poweroff, reboot, reset, suspend,
        hibernate). An unknown guest raises GuestNotFound, an operation its state does not allow
        InvalidGuestState, an unknown operation DriverError."""

    @abc.abstractmethod
    def state(self, name: str) -> str:
        """running, stopped, suspended or absent."""

    @abc.abstractmethod
    def destroy(self, name: str) -> None:
        """Stop the guest if needed and remove its definition; absent guests are not an error."""

    @abc.abstractmethod
    def snapshot(self, name: str, image: str) -> None:
        """Save the guest's root disk as a new image named ``image``."""

    def migrate(self, name: str, target_host: str, target_address: str, *, live: bool = True,
                copy_storage: bool = False) -> None:
        """Move the guest to the host ``target_host`` (reached at ``target_address``), where it
        ends in the state it had here and is defined no more here. ``live``: a running guest
        keeps running while its memory is copied (it never reboots); else a running guest is
        shut down, moved and started there, a stopped one moved as it is. ``copy_storage``: its
        disks are on this host's own storage and are copied along; otherwise both hosts reach
        them. An unknown guest is GuestNotFound; when the move fails, the guest is still here,
        in the state it had."""
        raise DriverError(f"{type(self).__name__} cannot move guests to other hosts")

    def guest_states(self) -> dict[str, str]:
        """Every guest this host knows, name → state (as :meth:`state` would say), read in a
        number of backend calls that does not grow with the number of guests -- the agent's
        reconciliation runs it on hosts with hundreds of guests."""
        raise DriverError(f"{type(self).__name__} cannot list its guests")

    def host_facts(self) -> dict[str, object]:
        """The host's CPUs, memory and hypervisor, as the hypervisor reports them, under the names
        the agent's registration uses (hostagent.protocol.HostFacts; a driver cannot import it):
        ``cpu_sockets``, ``cpu_cores`` (logical CPUs guests are scheduled on), ``cpu_mhz``,
        ``memory_mib``, ``hypervisor`` (e.g. QEMU, KVM) and ``hypervisor_version`` (dotted)."""
        raise DriverError(f"{type(self).__name__} cannot describe its host")


class StorageDriver(abc.ABC):
    @abc.abstractmethod
    def create_volume(self, name: str, size_gib: float) -> None:
        """A new empty volume; an existing name is a DriverError."""

    @abc.abstractmethod
    def resize_volume(self, name: str, size_gib: float) -> None:
        """Grow the volume; shrinking is a DriverError saying it "cannot shrink"."""

    @abc.abstractmethod
    def delete_volume(self, name: str) -> None:
        """Absent volumes are not an error; an attached one is refused."""

    @abc.abstractmethod
    def attach(self, guest: str, volume: str, device: str) -> None:
        """Attach to the guest (live if it runs) as ``device`` (vdb, sdb…). An unknown guest is
        GuestNotFound; a volume attached anywhere already is a DriverError."""

    @abc.abstractmethod
    def detach(self, guest: str, volume: str) -> None:
        """A volume not attached to the guest is not an error."""

    def volume_size_gib(self, name: str) -> float:
        """The volume's capacity; an unknown volume is a DriverError."""
        raise DriverError(f"{type(self).__name__} cannot tell volume sizes")

    def export_image(self, image: str, destination: str) -> tuple[str, float]:
        """Copy the image volume ``image`` (a guest's disk saved on this host, see
        ComputeDriver.snapshot) to secondary storage at ``destination``
        (``nfs://server/export/path/file``), hashing it on the way, so that every host of the
        zone can make root disks from it; its checksum (``sha256:<hex>``) and its size in GiB.
        An unknown image is a DriverError; a failed copy leaves nothing at ``destination``.
        (Primary storage's: it reads a volume only this host has.)"""
        raise DriverError(f"{type(self).__name__} cannot copy images to secondary storage")

    # --- snapshots: point-in-time copies of volumes in secondary storage ---------------------
    # Optional abilities: a driver without them says so with a DriverError ("cannot ...").

    def snapshot_volume(self, name: str, destination: str,
                        taken: Callable[[], None] | None = None) -> tuple[str, float]:
        """Copy the volume ``name`` as it is at one point in time into secondary storage at
        ``destination`` (an nfs:// or file:// URL): its checksum (``sha256:<hex>``) and the GiB
        stored. A volume a running guest uses is copied without stopping the guest -- crash
        consistent, or quiesced where the guest runs an agent that can freeze its file
        systems -- and afterwards the guest's disk chain is what it was before (no overlay
        left). The copy is standalone: a volume backed by a template is flattened.
        ``taken()`` is called once the point in time is captured, before the copy to secondary
        storage starts. An unknown volume is a DriverError; a failed snapshot leaves nothing at
        ``destination`` and nothing behind on the host."""
        raise DriverError(f"{type(self).__name__} cannot take snapshots of volumes")

    def revert_volume(self, name: str, source: str, checksum: str) -> None:
        """Overwrite the volume ``name`` with the snapshot at ``source`` (verified against
        ``checksum``, a mismatch refused before anything changes); the volume keeps its name and
        never shrinks. A volume a running guest uses is refused with a DriverError saying it is
        "in use" -- stop the guest or detach the volume first."""
        raise DriverError(f"{type(self).__name__} cannot revert volumes to snapshots")

    def create_volume_from(self, name: str, size_gib: float, source: str, checksum: str) -> None:
        """A new volume ``name`` holding the snapshot at ``source`` (verified against
        ``checksum``), grown to ``size_gib`` where the snapshot is smaller; an existing name is
        a DriverError."""
        raise DriverError(f"{type(self).__name__} cannot make volumes from snapshots")


class SecondaryStorageDriver(abc.ABC):
    """A zone's secondary storage, where template images are kept for every host of the zone
    (NFS, or a directory for simulated hosts), as a host reaches it."""

    @abc.abstractmethod
    def download_template(self, url: str, checksum: str, destination: str,
                          progress: Callable[[int, int | None], None] | None = None) -> float:
        """Download the image at ``url`` (http, https, nfs or file) into secondary storage at
        ``destination`` (``nfs://server/export/path/file``, or ``file:///path`` for a local
        directory) and verify it against ``checksum`` (``<algorithm>:<hex>``); the image's size
        in GiB. A mismatch is a DriverError naming the expected and the actual digest, and leaves
        nothing at ``destination``. ``progress(bytes done, bytes in all or None)`` is called as
        the bytes come in."""

    @abc.abstractmethod
    def remove_from_secondary(self, destination: str) -> None:
        """Remove the file at ``destination`` (``nfs://server/export/path/file``) from secondary
        storage: a deleted template's image. An absent file is not an error."""


class RootDiskBuilder(abc.ABC):
    """Makes guests' root disks from templates in the host's primary storage (a host without
    one boots guests from the image the compute driver names)."""

    @abc.abstractmethod
    def ensure_template(self, template_name: str, source: str, checksum: str) -> str:
        """The template volume ``template_name``, copied into primary storage from ``source`` (a
        file or URL of secondary storage) on first use and verified against ``checksum``; later
        calls find it and copy nothing. Its name."""

    @abc.abstractmethod
    def prepare_root_disk(self, guest_name: str, template_volume: str, size_gib: float) -> str:
        """A root disk for ``guest_name`` made from ``template_volume``, of ``size_gib`` (not
        smaller than the template); its volume name, :meth:`root_disk_of` the guest."""

    @abc.abstractmethod
    def root_disk_of(self, guest_name: str) -> str:
        """The name of the root disk volume :meth:`prepare_root_disk` makes for the guest."""


class NetworkDriver(abc.ABC):
    @abc.abstractmethod
    def create_network(self, name: str, vlan: int | None) -> None:
        """Make the network exist on this host. Idempotent, as an agent re-implements its
        networks whenever a guest needs one; the same name with another VLAN is an error."""

    @abc.abstractmethod
    def delete_network(self, name: str) -> None:
        """Absent networks are not an error; a network with NICs still plugged is refused."""

    @abc.abstractmethod
    def plug(self, guest: str, network: str, mac: str, address: str | None = None,
             hostname: str | None = None) -> None:
        """Connect the guest's NIC ``mac`` to ``network``. An unknown network and a MAC already
        plugged are errors. ``address`` (and ``hostname``) are what the management plane
        allocated to the NIC; a driver that serves DHCP on the network hands them out."""

    @abc.abstractmethod
    def unplug(self, guest: str, mac: str) -> None:
        """A MAC that is not plugged for ``guest`` is not an error."""


class DhcpDriver(abc.ABC):
    """Serves DHCP on the guest networks this host implements: the host is the network's
    virtual router, handing out the addresses the management plane allocated (see
    NetworkDriver.plug)."""

    @abc.abstractmethod
    def configure_dhcp(self, network: str, cidr: str, server_address: str, gateway: str | None = None) -> None:
        """Serve DHCP on ``network`` (subnet ``cidr``) from ``server_address``, announcing
        ``gateway``. Idempotent: a network served already is served as asked now."""

    @abc.abstractmethod
    def restore_dhcp(self) -> None:
        """Start again the DHCP servers of the networks served before the agent restarted."""


class ConfigDriveBuilder(abc.ABC):
    """Writes each guest's NoCloud config drive (its contextualization) as it is defined; the
    compute driver attaches it. The agent removes a guest's drive with the guest."""

    @abc.abstractmethod
    def remove(self, guest: str) -> None:
        """The guest's drive is gone; an absent one is not an error."""

    def write(self, guest: GuestSpec) -> None:
        """Write the guest's drive now, without defining the guest: it arrives from another
        host by migration, its definition naming the drive where the source host keeps it."""
        raise DriverError(f"{type(self).__name__} cannot write a drive for an arriving guest")


@dataclass
class HostDrivers:
    """One host's drivers, as an agent runs them: the three every host has, where it reaches
    its zone's secondary storage, and the optional capabilities, None where the host has not
    got them -- the agent checks the member, nothing else:

    ``root_disks``: makes root disks from templates (else guests boot from the compute
    driver's image); ``dhcp``: serves DHCP on guest networks with a subnet (usually the network
    driver itself); ``config_drives``: where guests' NoCloud drives are written;
    ``save_state``: called after every command the agent ran, by hosts whose backend forgets
    its state when the process ends -- a simulated host writes its node to disk."""

    compute: ComputeDriver
    storage: StorageDriver
    network: NetworkDriver
    secondary: SecondaryStorageDriver
    root_disks: RootDiskBuilder | None = None
    dhcp: DhcpDriver | None = None
    config_drives: ConfigDriveBuilder | None = None
    save_state: Callable[[], None] | None = None
