"""In-memory drivers that honour the contracts exactly, for tests and the embedded default.

They keep state like a real backend would (a stopped guest cannot be suspended, a volume cannot
be attached twice), so the orchestrator's handling of backend refusals is exercised too. Tests
make a backend fail on purpose with :meth:`FailureSwitch.fail_next`.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Callable

from occistack.drivers.base import (
    POWER_MOVES, ComputeDriver, DriverError, GuestNotFound, GuestSpec, HostDrivers, InvalidGuestState,
    NetworkDriver, SecondaryStorageDriver, StorageDriver)
from occistack.drivers.libvirt.domain import Interface
from occistack.drivers.storage.checksums import parse_checksum


@dataclass
class FailureSwitch:
    """Makes the next call of a named operation raise DriverError with a given message."""

    _pending: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, operation: str, message: str, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` fail with ``message``."""
        with self._lock:
            self._pending.setdefault(operation, []).extend([message] * times)

    def check(self, operation: str) -> None:
        with self._lock:
            pending = self._pending.get(operation)
            message = pending.pop(0) if pending else None
        if message is not None:
            raise DriverError(message)


class FakeComputeDriver(ComputeDriver):
    def __init__(self) -> None:
        self.guests: dict[str, dict] = {}
        self.images: set[str] = set()
        self.failures = FailureSwitch()
        self._lock = threading.Lock()
        #: host name → the compute fake of that host, for migrations (set by whoever makes the
        #: fakes of several hosts; None: this fake knows no other host).
        self.peers: Callable[[str], FakeComputeDriver | None] = lambda _host: None
        #: (guest, target host, live, copy_storage) of every migration carried out, in order.
        self.migrations: list[tuple[str, str, bool, bool]] = []

    def deploy(self, guest: GuestSpec) -> None:
        self.failures.check("deploy")
        with self._lock:
            if guest.name in self.guests:
                raise DriverError(f"a guest named {guest.name} is already defined")
            self.guests[guest.name] = {"spec": guest, "state": "running"}

    def power(self, name: str, operation: str) -> None:
        self.failures.check(operation)
        if operation not in POWER_MOVES:
            raise DriverError(f"unknown power operation {operation!r}")
        allowed_from, result = POWER_MOVES[operation]
        with self._lock:
            guest = self._guest(name)
            if guest["state"] not in allowed_from:
                raise InvalidGuestState(f"cannot {operation} guest {name} while it is {guest['state']}")
            guest["state"] = result

    def state(self, name: str) -> str:
        with self._lock:
            guest = self.guests.get(name)
            return guest["state"] if guest else "absent"

    def destroy(self, name: str) -> None:
        self.failures.check("destroy")
        with self._lock:
            self.guests.pop(name, None)

    def snapshot(self, name: str, image: str) -> None:
        self.failures.check("snapshot")
        with self._lock:
            self._guest(name)
            if image in self.images:
                raise DriverError(f"an image named {image} already exists")
            self.images.add(image)

    def guest_states(self) -> dict[str, str]:
        with self._lock:
            return {name: guest["state"] for name, guest in self.guests.items()}

    def migrate(self, name: str, target_host: str, target_address: str, *, live: bool = True,
                copy_storage: bool = False) -> None:
        self.failures.check("migrate")
        target = self.peers(target_host)
        if target is None:
            raise DriverError(f"cannot reach host {target_host} ({target_address}) to move guest {name} there")
        with self._lock:
            guest = self._guest(name)
            if live and guest["state"] not in ("running", "stopped"):
                raise InvalidGuestState(f"cannot migrate guest {name} while it is {guest['state']}")
            self.migrations.append((name, target_host, live, copy_storage))
            if target is self:
                return  # one fake standing for every host: the guest is where it goes
            del self.guests[name]
        with target._lock:
            if name in target.guests:
                with self._lock:
                    self.guests[name] = guest
                raise DriverError(f"host {target_host} already has a guest named {name}")
            target.guests[name] = guest

    def host_facts(self) -> dict[str, object]:
        return {"cpu_sockets": 1, "cpu_cores": 16, "cpu_mhz": 2400, "memory_mib": 65536,
                "hypervisor": "simulated", "hypervisor_version": None}

    def _guest(self, name: str) -> dict:
        try:
            return self.guests[name]
        except KeyError:
            raise GuestNotFound(f"no guest named {name}") from None


class FakeStorageDriver(StorageDriver, SecondaryStorageDriver):
    """A host's primary storage and the secondary storage it reaches, in memory: one fake for
    both, so that a test finds a host's volumes and the zone's templates in one place."""

    #: what every fake download reports as the image's size.
    TEMPLATE_SIZE_GIB = 2.0

    def __init__(self, guest_exists: Callable[[str], bool] = lambda _name: True,
                 image_exists: Callable[[str], bool] = lambda _name: True,
                 guest_running: Callable[[str], bool] = lambda _name: False) -> None:
        #: whether the host has a guest, or a saved image, of that name, and whether a guest
        #: runs (FakeDrivers asks its compute fake).
        self.guest_exists = guest_exists
        self.image_exists = image_exists
        self.guest_running = guest_running
        #: name → size_gib, attached_to (guest or None), device, and ``data``: what a guest
        #: wrote on it (text, see write/read), which snapshots copy and reverts restore.
        self.volumes: dict[str, dict] = {}
        #: destination → (data, size_gib) of every snapshot copied to secondary storage.
        self.snapshots: dict[str, tuple[str, float]] = {}
        #: destination → (url, checksum) of every image downloaded into secondary storage.
        self.templates: dict[str, tuple[str, str]] = {}
        #: destination → (image, checksum) of every saved image copied to secondary storage.
        self.exported: dict[str, tuple[str, str]] = {}
        self.failures = FailureSwitch()
        self._lock = threading.Lock()

    def create_volume(self, name: str, size_gib: float) -> None:
        self.failures.check("create_volume")
        with self._lock:
            if name in self.volumes:
                raise DriverError(f"a volume named {name} already exists")
            self.volumes[name] = {"size_gib": size_gib, "attached_to": None, "data": ""}

    def resize_volume(self, name: str, size_gib: float) -> None:
        self.failures.check("resize_volume")
        with self._lock:
            volume = self._volume(name)
            if size_gib < volume["size_gib"]:
                raise DriverError(f"volume {name} cannot shrink from {volume['size_gib']} to {size_gib} GiB")
            volume["size_gib"] = size_gib

    def delete_volume(self, name: str) -> None:
        self.failures.check("delete_volume")
        with self._lock:
            volume = self.volumes.get(name)
            if volume and volume["attached_to"]:
                raise DriverError(f"volume {name} is attached to {volume['attached_to']}")
            self.volumes.pop(name, None)

    def attach(self, guest: str, volume: str, device: str) -> None:
        self.failures.check("attach")
        if not self.guest_exists(guest):
            raise GuestNotFound(f"no guest named {guest}")
        with self._lock:
            record = self._volume(volume)
            if record["attached_to"]:
                raise DriverError(f"volume {volume} is already attached to {record['attached_to']}")
            record["attached_to"] = guest
            record["device"] = device

    def detach(self, guest: str, volume: str) -> None:
        self.failures.check("detach")
        with self._lock:
            record = self.volumes.get(volume)
            if record and record["attached_to"] == guest:
                record["attached_to"] = None

    def export_image(self, image: str, destination: str) -> tuple[str, float]:
        self.failures.check("export_image")
        if not self.image_exists(image):
            raise DriverError(f"no image named {image} on this host")
        checksum = "sha256:" + hashlib.sha256(f"{image} at {destination}".encode()).hexdigest()
        with self._lock:
            self.exported[destination] = (image, checksum)
        return checksum, self.TEMPLATE_SIZE_GIB

    def download_template(self, url: str, checksum: str, destination: str, progress=None) -> float:
        self.failures.check("download_template")
        parse_checksum(checksum)  # a malformed checksum is refused as the real driver refuses it
        with self._lock:
            self.templates[destination] = (url, checksum)
        if progress is not None:
            progress(1, 1)
        return self.TEMPLATE_SIZE_GIB

    def remove_from_secondary(self, destination: str) -> None:
        self.failures.check("remove_from_secondary")
        with self._lock:
            self.templates.pop(destination, None)
            self.exported.pop(destination, None)
            self.snapshots.pop(destination, None)

    # --- snapshots -----------------------------------------------------------------------------

    def write(self, name: str, data: str) -> None:
        """What a guest writing to the volume would leave on it (tests' stand-in for a disk)."""
        with self._lock:
            self._volume(name)["data"] = data

    def read(self, name: str) -> str:
        with self._lock:
            return self._volume(name).get("data", "")

    def snapshot_volume(self, name: str, destination: str, taken=None) -> tuple[str, float]:
        self.failures.check("snapshot_volume")
        with self._lock:
            volume = self._volume(name)
            data, size_gib = volume.get("data", ""), volume["size_gib"]
        if taken is not None:
            taken()
        self.failures.check("export_snapshot")
        return self._store_snapshot(destination, data, size_gib)

    def revert_volume(self, name: str, source: str, checksum: str) -> None:
        self.failures.check("revert_volume")
        data, size_gib = self._load_snapshot(source, checksum)
        with self._lock:
            volume = self._volume(name)
            holder = volume["attached_to"]
            if holder and self.guest_running(holder):
                raise DriverError(f"volume {name} is in use by running guest {holder}; stop it or detach the "
                                  "volume first")
            volume["data"], volume["size_gib"] = data, max(volume["size_gib"], size_gib)

    def create_volume_from(self, name: str, size_gib: float, source: str, checksum: str) -> None:
        self.failures.check("create_volume")
        data, stored_size = self._load_snapshot(source, checksum)
        with self._lock:
            if name in self.volumes:
                raise DriverError(f"a volume named {name} already exists")
            self.volumes[name] = {"size_gib": max(size_gib, stored_size), "attached_to": None, "data": data}

    def _store_snapshot(self, destination: str, data: str, size_gib: float) -> tuple[str, float]:
        """Keep the copy at ``destination``; its checksum and stored GiB (a simulated host
        writes a real file instead)."""
        with self._lock:
            self.snapshots[destination] = (data, size_gib)
        return _snapshot_checksum(data, size_gib), len(data.encode()) / 1024 ** 3

    def _load_snapshot(self, source: str, checksum: str) -> tuple[str, float]:
        with self._lock:
            found = self.snapshots.get(source)
        if found is None:
            raise DriverError(f"no snapshot at {source}")
        if _snapshot_checksum(*found) != checksum:
            raise DriverError(f"checksum mismatch for {source}: expected {checksum}, "
                              f"got {_snapshot_checksum(*found)}")
        return found

    def volume_size_gib(self, name: str) -> float:
        with self._lock:
            return self._volume(name)["size_gib"]

    def state_to_save(self) -> dict:
        """The volumes and their attachments, as JSON values (a simulated host saves them)."""
        with self._lock:
            return {"volumes": {name: dict(volume) for name, volume in self.volumes.items()}}

    def restore_state(self, state: dict) -> None:
        with self._lock:
            self.volumes = {name: dict(volume) for name, volume in state.get("volumes", {}).items()}

    def _volume(self, name: str) -> dict:
        try:
            return self.volumes[name]
        except KeyError:
            raise DriverError(f"no volume named {name}") from None


def _snapshot_checksum(data: str, size_gib: float) -> str:
    return "sha256:" + hashlib.sha256(f"{size_gib!r}:{data}".encode()).hexdigest()


class FakeNetworkDriver(NetworkDriver):
    def __init__(self) -> None:
        self.networks: dict[str, dict] = {}
        self.ports: dict[str, tuple[str, str]] = {}  # mac -> (guest, network)
        #: mac -> (address, hostname) the management plane allocated, as a DHCP server would serve
        self.addresses: dict[str, tuple[str | None, str | None]] = {}
        self.failures = FailureSwitch()
        self._lock = threading.Lock()

    def create_network(self, name: str, vlan: int | None) -> None:
        self.failures.check("create_network")
        with self._lock:
            existing = self.networks.get(name)
            if existing is not None and existing["vlan"] != vlan:
                raise DriverError(f"network {name} exists with VLAN {existing['vlan']}, not {vlan}")
            self.networks[name] = {"vlan": vlan}

    def delete_network(self, name: str) -> None:
        self.failures.check("delete_network")
        with self._lock:
            if any(network == name for _guest, network in self.ports.values()):
                raise DriverError(f"network {name} still has ports")
            self.networks.pop(name, None)

    def plug(self, guest: str, network: str, mac: str, address: str | None = None,
             hostname: str | None = None) -> None:
        self.failures.check("plug")
        with self._lock:
            if network not in self.networks:
                raise DriverError(f"no network named {network}")
            if mac in self.ports:
                raise DriverError(f"MAC {mac} is already plugged")
            self.ports[mac] = (guest, network)
            self.addresses[mac] = (address, hostname)

    def interface_for(self, network: str, mac: str) -> Interface:
        with self._lock:
            if network not in self.networks:
                raise DriverError(f"no network named {network}")
            return Interface(mac=mac, bridge=network, vlan=self.networks[network]["vlan"])

    def unplug(self, guest: str, mac: str) -> None:
        self.failures.check("unplug")
        with self._lock:
            if self.ports.get(mac, (None,))[0] == guest:
                del self.ports[mac]
                self.addresses.pop(mac, None)

    def state_to_save(self) -> dict:
        """The networks, plugged NICs and their addresses, as JSON values."""
        with self._lock:
            return {"networks": {name: dict(network) for name, network in self.networks.items()},
                    "ports": {mac: list(port) for mac, port in self.ports.items()},
                    "addresses": {mac: list(address) for mac, address in self.addresses.items()}}

    def restore_state(self, state: dict) -> None:
        with self._lock:
            self.networks = {name: dict(network) for name, network in state.get("networks", {}).items()}
            self.ports = {mac: tuple(port) for mac, port in state.get("ports", {}).items()}
            self.addresses = {mac: tuple(address) for mac, address in state.get("addresses", {}).items()}


@dataclass
class FakeDrivers(HostDrivers):
    """One of each fake, as the embedded default and the tests wire them: the storage fake is
    the host's secondary storage too; no optional capability (a fake guest needs no root disk,
    DHCP server or config drive)."""

    compute: FakeComputeDriver = field(default_factory=FakeComputeDriver)
    storage: FakeStorageDriver = field(default_factory=FakeStorageDriver)
    network: FakeNetworkDriver = field(default_factory=FakeNetworkDriver)
    secondary: SecondaryStorageDriver | None = None

    def __post_init__(self) -> None:
        if self.secondary is None:
            self.secondary = self.storage
        # Like a real host, storage attaches only to guests the hypervisor has.
        self.storage.guest_exists = lambda name: name in self.compute.guests
        self.storage.image_exists = lambda name: name in self.compute.images
        self.storage.guest_running = lambda name: self.compute.state(name) == "running"
