"""The driver contracts. Arguments are plain values, never ORM rows: a host has no database."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


class DriverError(Exception):
    """A backend refused or failed an operation; the message is fit for a state message."""


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


class ComputeDriver(abc.ABC):
    @abc.abstractmethod
    def deploy(self, guest: GuestSpec) -> None:
        """Define the guest and boot it."""

    @abc.abstractmethod
    def power(self, name: str, operation: str) -> None:
        """One of start, stop, poweroff, reboot, reset, suspend."""

    @abc.abstractmethod
    def state(self, name: str) -> str:
        """running, stopped, suspended or absent."""

    @abc.abstractmethod
    def destroy(self, name: str) -> None:
        """Stop the guest if needed and remove its definition; absent guests are not an error."""

    @abc.abstractmethod
    def snapshot(self, name: str, image: str) -> None:
        """Save the guest's root disk as a new image named ``image``."""


class StorageDriver(abc.ABC):
    @abc.abstractmethod
    def create_volume(self, name: str, size_gib: float) -> None: ...

    @abc.abstractmethod
    def resize_volume(self, name: str, size_gib: float) -> None: ...

    @abc.abstractmethod
    def delete_volume(self, name: str) -> None:
        """Absent volumes are not an error."""

    @abc.abstractmethod
    def attach(self, guest: str, volume: str, device: str) -> None: ...

    @abc.abstractmethod
    def detach(self, guest: str, volume: str) -> None: ...

    @abc.abstractmethod
    def download_template(self, url: str, checksum: str, destination: str) -> float:
        """Download the image at ``url`` (http, https or nfs) into secondary storage at
        ``destination`` (``nfs://server/export/path/file``) and verify it against ``checksum``
        (``<algorithm>:<hex>``); the image's size in GiB. A mismatch is a DriverError naming the
        expected and the actual digest, and leaves nothing at ``destination``. (Issue 5's NFS
        storage driver implements it for real.)"""


class NetworkDriver(abc.ABC):
    @abc.abstractmethod
    def create_network(self, name: str, vlan: int | None) -> None:
        """Make the network exist on this host. Idempotent, as an agent re-implements its
        networks whenever a guest needs one; the same name with another VLAN is an error."""

    @abc.abstractmethod
    def delete_network(self, name: str) -> None:
        """Absent networks are not an error."""

    @abc.abstractmethod
    def plug(self, guest: str, network: str, mac: str) -> None: ...

    @abc.abstractmethod
    def unplug(self, guest: str, mac: str) -> None: ...
