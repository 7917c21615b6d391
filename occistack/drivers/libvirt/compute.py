"""The compute driver on libvirt: QEMU/KVM hosts in production, the ``test:///`` driver in the
embedded default and the tests.

How a :class:`GuestSpec` turns into devices is the agent's business, not the driver's, so the
constructor takes small hooks: which bridge (and VLAN, OVS port) a network's NIC goes on, where a
named volume lives, the root disk, an optional direct kernel boot. The defaults suit a host with
one Linux bridge per network and one storage pool.
"""

from __future__ import annotations

import logging
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

import libvirt

from occistack.drivers.base import (
    POWER_MOVES, ComputeDriver, DriverError, GuestNotFound, GuestSpec, InvalidGuestState)
from occistack.drivers.libvirt.connection import Connection, Opener
from occistack.drivers.libvirt.domain import DirectBoot, Disk, Domain, Interface, render_domain
from occistack.drivers.libvirt.migration import move_cold, move_live
from occistack.drivers.libvirt.snapshot import copy_root_disk

log = logging.getLogger(__name__)

#: libvirt's domain states in the contract's words. A guest shutting down is still running; a
#: crashed one is stopped (on_crash=destroy ends it); PM-suspended (S3) counts as suspended.
STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: "running",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "running",
    libvirt.VIR_DOMAIN_PAUSED: "suspended",
    libvirt.VIR_DOMAIN_SHUTDOWN: "running",
    libvirt.VIR_DOMAIN_SHUTOFF: "stopped",
    libvirt.VIR_DOMAIN_CRASHED: "stopped",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "suspended",
}

_BUS_BY_PREFIX = {"vd": "virtio", "sd": "scsi", "hd": "ide", "xvd": "xen"}


def bridge_named_after_network(network: str, mac: str) -> Interface:
    """The default NIC mapping: a virtio NIC on a Linux bridge named like the network."""
    return Interface(mac=mac, bridge=network)


def disk_in_pool(pool: str) -> Callable[[str, str], Disk]:
    """The default volume mapping: volume ``name`` of storage pool ``pool`` as qcow2, on the bus
    its device name implies (vdb → virtio, sdb → scsi)."""
    def resolve(volume: str, device: str) -> Disk:
        target = device.removeprefix("/dev/")
        bus = next((bus for prefix, bus in _BUS_BY_PREFIX.items() if target.startswith(prefix)), "virtio")
        return Disk(target=target, bus=bus, pool=pool, volume=volume)
    return resolve


def _no_root_disk(_guest: GuestSpec) -> Disk | None:
    return None


def _no_direct_boot(_guest: GuestSpec) -> DirectBoot | None:
    return None


class LibvirtComputeDriver(ComputeDriver):
    def __init__(self, uri: str = "qemu:///system", *,
                 domain_type: str | None = None,
                 interface_for: Callable[[str, str], Interface] = bridge_named_after_network,
                 disk_for: Callable[[str, str], Disk] | None = None,
                 storage_pool: str = "default",
                 root_disk_for: Callable[[GuestSpec], Disk | None] = _no_root_disk,
                 direct_boot_for: Callable[[GuestSpec], DirectBoot | None] = _no_direct_boot,
                 extra_disks_for: Callable[[GuestSpec], tuple[Disk, ...]] = lambda _guest: (),
                 console_log_dir: str | Path | None = None,
                 stop_timeout: float = 120.0,
                 migration_uri: str = "qemu+tcp://{address}/system",
                 simulated_peers: Callable[[str], LibvirtComputeDriver | None] | None = None,
                 poll_interval: float = 0.25,
                 opener: Opener = libvirt.open) -> None:
        """Open ``uri``. ``domain_type`` defaults to ``test`` on test URIs, else ``qemu`` (TCG;
        pass ``kvm`` on hosts with hardware virtualisation). ``disk_for(volume, device)`` maps
        GuestSpec.disks (default: the volume in ``storage_pool``). ``console_log_dir`` gets one
        ``<guest>.log`` per guest with its serial console. ``extra_disks_for`` adds disks the
        agent makes for a guest (its config drive). ``stop`` waits ``stop_timeout`` seconds
        for a graceful shutdown before forcing the guest off. ``migration_uri`` is how this
        host's libvirtd reaches another host's (``{address}``: the target's address) when it
        moves a guest there, peer to peer; the memory (and disks) go over plain TCP to that
        address. ``simulated_peers`` (host name → that host's driver) stands in for it where
        the hypervisor is libvirt's test driver, which cannot migrate: the guest's definition is
        written on the peer's node, in the state it had, and removed here. ``opener`` opens the connection
        (``libvirt.open``; tests and benchmarks wrap it)."""
        self.uri = uri
        self.domain_type = domain_type or ("test" if uri.startswith("test:") else "qemu")
        self.interface_for = interface_for
        self.disk_for = disk_for or disk_in_pool(storage_pool)
        self.root_disk_for = root_disk_for
        self.direct_boot_for = direct_boot_for
        self.extra_disks_for = extra_disks_for
        self.console_log_dir = Path(console_log_dir) if console_log_dir else None
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.migration_uri = migration_uri
        self.simulated_peers = simulated_peers
        #: makes a volume of this node's pool (a simulated host's root disks), for arrivals.
        self.root_volume_maker: Callable[[str], None] | None = None
        self._opener = opener
        self.connection = Connection(uri, opener)
        self.hypervisor = self.connection.run(f"ask {uri} for its hypervisor type", lambda conn: conn.getType())
        self._undefine_flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
        if self.hypervisor != "TEST":  # the test driver refuses the NVRAM flag as unsupported
            self._undefine_flags |= libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        # One lock per guest name (striped, so memory stays bounded): the check-then-act steps
        # of deploy, power and destroy must not interleave for one guest.
        self._guest_locks = [threading.RLock() for _ in range(64)]

    def close(self) -> None:
        self.connection.close()

    # --- the contract ---------------------------------------------------------------------

    def deploy(self, guest: GuestSpec) -> None:
        domain = self.domain_for(guest)
        with self._locked(guest.name):
            if self.state(guest.name) != "absent":
                raise DriverError(f"a guest named {guest.name} is already defined")
            if self.console_log_dir is not None:
                self.console_log_dir.mkdir(parents=True, exist_ok=True)
            self.connection.run(f"define guest {guest.name}",
                                lambda conn: conn.defineXML(render_domain(domain)))
            try:
                self._act(guest.name, "start guest {name}", lambda dom: dom.create())
            except DriverError:
                # A guest that cannot boot must not stay behind half-created; if even that
                # fails, the caller still hears why the start failed, the leftover is logged.
                try:
                    self._act(guest.name, "remove the unbootable guest {name}",
                              lambda dom: dom.undefineFlags(self._undefine_flags))
                except DriverError as cleanup_error:
                    log.error("%s", cleanup_error)
                raise

    def domain_for(self, guest: GuestSpec) -> Domain:
        """The domain a GuestSpec becomes, through the constructor's hooks."""
        root = self.root_disk_for(guest)
        disks = (((root,) if root else ()) + tuple(self.disk_for(volume, device) for volume, device in guest.disks)
                 + tuple(self.extra_disks_for(guest)))
        return Domain(
            name=guest.name, vcpus=guest.cores, memory_mib=guest.memory_mib, domain_type=self.domain_type,
            machine=None if self.domain_type == "test" else "pc",
            boot=self.direct_boot_for(guest), disks=disks,
            interfaces=tuple(self.interface_for(network, mac) for mac, network in guest.nics),
            console_log=str(self.console_log_path(guest.name)) if self.console_log_dir else None)

    def console_log_path(self, name: str) -> Path | None:
        return self.console_log_dir / f"{name}.log" if self.console_log_dir else None

    def power(self, name: str, operation: str) -> None:
        if operation not in POWER_MOVES:
            raise DriverError(f"unknown power operation {operation!r}; expected one of "
                              f"{', '.join(sorted(POWER_MOVES))}")
        allowed_from, _result = POWER_MOVES[operation]
        with self._locked(name):
            raw_state = self._raw_state(name, f"{operation} guest {{name}}")
            current = STATE_NAMES.get(raw_state, "running")
            # Checked here rather than left to libvirt: its drivers disagree on how they refuse
            # (the test driver says "internal error"), and the contract wants one answer.
            if current not in allowed_from:
                raise InvalidGuestState(f"cannot {operation} guest {name} while it is {current}")
            getattr(self, f"_{operation}")(name, raw_state)

    def state(self, name: str) -> str:
        try:
            return STATE_NAMES.get(self._raw_state(name), "running")
        except GuestNotFound:
            return "absent"

    def destroy(self, name: str) -> None:
        with self._locked(name):
            try:
                self._act(name, "stop guest {name} for removal", self._force_off)
                self._act(name, "remove guest {name}", lambda dom: dom.undefineFlags(self._undefine_flags))
            except GuestNotFound:
                pass  # already gone: destroying is idempotent

    def snapshot(self, name: str, image: str) -> None:
        def copy(conn) -> str:
            return copy_root_disk(conn, conn.lookupByName(name), name, image,
                                  live_overlay=self.hypervisor == "QEMU")
        with self._locked(name):
            path = self.connection.run(f"save guest {name} as image {image}", copy)
        log.info("saved the root disk of guest %s as image %s (%s)", name, image, path)

    def migrate(self, name: str, target_host: str, target_address: str, *, live: bool = True,
                copy_storage: bool = False) -> None:
        peer_uri = self.migration_uri.format(address=target_address)
        if self.simulated_peers is not None:
            return self._move_to_simulated_peer(name, target_host)
        with self._locked(name):
            current = STATE_NAMES.get(self._raw_state(name, f"migrate guest {{name}} to {target_host}"), "running")
            if current == "suspended":
                raise InvalidGuestState(f"cannot migrate guest {name} while it is suspended; resume or stop it first")
            if live and current == "running":
                move_live(self.connection, name, peer_uri, target_address, copy_storage)
            else:
                move_cold(self.connection, self._opener, self.power, self._undefine_flags, name, peer_uri,
                          copy_storage, restart=current == "running")
        log.info("moved guest %s to host %s (%s, %s)", name, target_host, "live" if live else "cold",
                 "disks copied" if copy_storage else "shared storage")

    def _move_to_simulated_peer(self, name: str, target_host: str) -> None:
        peer = self.simulated_peers(target_host)
        if peer is None:
            raise DriverError(f"cannot reach simulated host {target_host} to move guest {name} there")
        with self._locked(name):
            state = self.state(name)
            if state == "absent":
                raise GuestNotFound(f"no guest named {name}")
            if peer.state(name) != "absent":
                raise DriverError(f"host {target_host} already has a guest named {name}")
            definition = self._act(name, "read the definition of guest {name}",
                                   lambda dom: dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            peer.receive_definition(name, definition, start=state == "running")
            self._act(name, "forget guest {name} after its move", self._force_off)
            self._act(name, "forget guest {name} after its move", lambda dom: dom.undefineFlags(self._undefine_flags))

    def receive_definition(self, name: str, definition: str, start: bool) -> None:
        """A simulated migration's arrival: define the guest here (its disks made in this
        node's pool, where a real migration would have copied or shared them), started if it ran."""
        for volume in ET.fromstring(definition).findall("./devices/disk[@type='volume']/source"):
            if volume.get("volume") and self.root_volume_maker is not None:
                self.root_volume_maker(volume.get("volume"))
        self.connection.run(f"define arriving guest {name}", lambda conn: conn.defineXML(definition))
        if start:
            self._act(name, "start arriving guest {name}", lambda dom: dom.create())

    def guest_states(self) -> dict[str, str]:
        # One call for every domain, however many there are: the stats records carry the state,
        # and a domain object's name() is answered from the client side, without a round trip.
        records = self.connection.run(
            f"list the guests of {self.uri}",
            lambda conn: conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE))
        return {domain.name(): STATE_NAMES.get(stats.get("state.state"), "running")
                for domain, stats in records}

    def host_facts(self) -> dict[str, object]:
        def read(conn) -> dict[str, object]:
            _model, memory_mib, cpus, mhz, nodes, sockets_per_node, _cores, _threads = conn.getInfo()
            version = conn.getVersion()
            return {
                "cpu_sockets": nodes * sockets_per_node, "cpu_cores": cpus, "cpu_mhz": mhz,
                "memory_mib": memory_mib,
                # libvirt calls QEMU with and without KVM "QEMU"; the domain type tells them apart.
                "hypervisor": "KVM" if self.domain_type == "kvm" else conn.getType(),
                "hypervisor_version": f"{version // 1_000_000}.{version // 1000 % 1000}.{version % 1000}",
            }
        return self.connection.run(f"describe the host behind {self.uri}", read)

    # --- power operations (the state was checked by power()) ---------------------------------

    def _start(self, name: str, raw_state: int) -> None:
        if raw_state == libvirt.VIR_DOMAIN_PAUSED:
            self._act(name, "resume guest {name}", lambda dom: dom.resume())
        elif raw_state == libvirt.VIR_DOMAIN_PMSUSPENDED:
            self._act(name, "wake guest {name}", lambda dom: dom.pMWakeup(0))
        else:  # create() also restores a hibernated (managed-saved) guest
            self._act(name, "start guest {name}", lambda dom: dom.create())

    def _stop(self, name: str, _raw_state: int) -> None:
        self._act(name, "shut down guest {name}", lambda dom: dom.shutdown())
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline:
            if self.state(name) != "running":
                return
            time.sleep(self.poll_interval)
        log.warning("guest %s did not shut down within %.1f s (no ACPI support in the guest?); "
                    "forcing it off", name, self.stop_timeout)
        self._act(name, "force guest {name} off", self._force_off)

    def _poweroff(self, name: str, _raw_state: int) -> None:
        self._act(name, "power off guest {name}", lambda dom: dom.destroy())

    def _reboot(self, name: str, _raw_state: int) -> None:
        self._act(name, "reboot guest {name}", lambda dom: dom.reboot(0))

    def _reset(self, name: str, _raw_state: int) -> None:
        self._act(name, "reset guest {name}", lambda dom: dom.reset(0))

    def _suspend(self, name: str, _raw_state: int) -> None:
        self._act(name, "suspend guest {name}", lambda dom: dom.suspend())

    def _hibernate(self, name: str, _raw_state: int) -> None:
        # managedSave writes the memory next to the definition; the next create() restores it.
        # Connections without it answer VIR_ERR_NO_SUPPORT, translated into a clear DriverError.
        self._act(name, "hibernate guest {name}", lambda dom: dom.managedSave(0))

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _force_off(domain) -> None:
        if domain.isActive():
            domain.destroy()

    def _raw_state(self, name: str, action: str = "read the state of guest {name}") -> int:
        state, _reason = self._act(name, action, lambda dom: dom.state())
        return state

    def _act(self, name: str, action: str, operation: Callable):
        """``operation(domain)`` on the guest ``name``; ``action`` (with ``{name}``) says what is
        being done, for the error message."""
        return self.connection.run(action.format(name=name),
                                   lambda conn: operation(conn.lookupByName(name)))

    def _locked(self, name: str) -> threading.RLock:
        return self._guest_locks[hash(name) % len(self._guest_locks)]
