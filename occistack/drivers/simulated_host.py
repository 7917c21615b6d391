"""A simulated host on libvirt's test driver: a real libvirt compute driver over a hypervisor
that lives in memory, with the fake network and storage beside it.

The embedded default's in-process agents can run on it (``occistack.drivers = libvirt-test``),
so the whole path to libvirt -- domain XML, the bulk state listing of reconciliation, libvirt's
own refusals -- is exercised without a hypervisor. Their secondary storage is real: template
images are downloaded, checksummed and stored in a local directory (storage/directory.py).
libvirt gives every ``test:///<file>`` connection a fresh copy of the node the file describes, so
each simulated host gets a node file of its own, with the host's CPUs and memory.

Given a state directory (the embedded default's ``var/simulated-hosts``), each host keeps its
node there, one directory per host, written after every command its agent ran and reloaded by
the next server (simulated_state.py): the guests survive a restart in the state they were in.
Without one (tests, benchmarks) the nodes live in a temporary directory and end with it.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree as ET

from occistack.drivers.base import DriverError, GuestSpec, HostDrivers
from occistack.drivers.fake import FakeNetworkDriver
from occistack.drivers.libvirt.compute import LibvirtComputeDriver
from occistack.drivers.libvirt.domain import Disk
from occistack.drivers.simulated_state import SavedNode
from occistack.drivers.storage.directory import DirectorySecondaryStorage, SimulatedHostStorage

log = logging.getLogger(__name__)

#: The storage pool of every simulated node (in memory, like the rest of the node).
POOL = "simulated"
#: The size of a simulated root volume: 6,400 fit in the test driver's fixed 100 GiB pool.
SIMULATED_VOLUME_MIB = 16


class SimulatedHosts:
    """The nodes of simulated hosts: kept in ``state_directory`` across restarts when one is
    given, else in a temporary directory removed by :meth:`close`."""

    def __init__(self, state_directory: str | Path | None = None,
                 secondary_root: str | Path | None = None) -> None:
        self.persistent = state_directory is not None
        self.directory = (Path(state_directory) if self.persistent
                          else Path(tempfile.mkdtemp(prefix="occistack-simulated-hosts-")))
        self.directory.mkdir(parents=True, exist_ok=True)
        self._saves: dict[str, Callable[[], None]] = {}
        #: host name → its compute driver, for migrations between simulated hosts.
        self._computes: dict[str, LibvirtComputeDriver] = {}
        #: where the hosts keep simulated NFS secondary storage (file:// stores are their own
        #: paths); shared by every simulated host, as a zone's NFS export is, and kept across
        #: restarts with their nodes. A host name never starts with a dot, so none clashes with it.
        self.secondary = DirectorySecondaryStorage(secondary_root or self.directory / ".nfs")

    def drivers(self, host_name: str, sockets: int = 2, cores_per_socket: int = 8, mhz: int = 2400,
                memory_mib: int = 65536):
        hardware = _hardware(host_name, sockets, cores_per_socket, mhz, memory_mib)
        saved = SavedNode(self.directory / host_name)
        if not saved.exists():
            saved.write_empty(hardware)
        network = FakeNetworkDriver()
        drivers = HostDrivers(None, None, network, None)

        def root_disk_for(guest: GuestSpec) -> Disk:
            # Every guest gets a (simulated) root volume, so that saving it as an image works
            # as on a real host; a guest deployed again reuses its volume.
            volume = f"{guest.name}-root"
            drivers.compute.connection.run(f"make the root disk of {guest.name}",
                                           lambda conn: _ensure_volume(conn, volume))
            return Disk(target="vda", bus="virtio", pool=POOL, volume=volume)

        def open_compute() -> LibvirtComputeDriver:
            compute = LibvirtComputeDriver(f"test://{saved.node_file}", interface_for=network.interface_for,
                                           storage_pool=POOL, root_disk_for=root_disk_for,
                                           simulated_peers=self._computes.get)
            compute.root_volume_maker = lambda volume: compute.connection.run(
                f"make volume {volume}", lambda conn: _ensure_volume(conn, volume))
            return compute

        try:
            drivers.compute = open_compute()
        except DriverError as error:
            saved.set_aside(str(error))
            saved.write_empty(hardware)
            drivers.compute = open_compute()
        self._computes[host_name] = drivers.compute
        drivers.storage = drivers.secondary = SimulatedHostStorage(
            self.secondary, guest_exists=lambda name: drivers.compute.state(name) != "absent")
        if self.persistent:
            saved.restore_drivers(drivers.storage, network)

            def save_state() -> None:
                saved.save(drivers.compute.connection.current, hardware, drivers.storage, network)

            drivers.save_state = self._saves[host_name] = save_state
        return drivers

    def forget(self, host_name: str, drivers=None) -> None:
        """A host that was deleted: its node goes with it (a host is deleted only when no
        compute is left on it)."""
        self._saves.pop(host_name, None)
        self._computes.pop(host_name, None)
        if drivers is not None:
            drivers.compute.close()
        shutil.rmtree(self.directory / host_name, ignore_errors=True)

    def close(self) -> None:
        """Save every node one last time (persistent), or remove them all (temporary)."""
        if not self.persistent:
            shutil.rmtree(self.directory, ignore_errors=True)
            return
        for host_name, save_state in list(self._saves.items()):
            try:
                save_state()
            except Exception:  # noqa: BLE001 - the other hosts are still saved
                log.exception("could not save the node of simulated host %s", host_name)


def _hardware(host_name: str, sockets: int, cores_per_socket: int, mhz: int, memory_mib: int) -> list[ET.Element]:
    """A node's CPUs, memory and (empty) storage pool, in the test driver's node format."""
    cpu = ET.Element("cpu")
    for tag, value in (("nodes", 1), ("sockets", sockets), ("cores", cores_per_socket), ("threads", 1),
                       ("active", sockets * cores_per_socket), ("mhz", mhz), ("model", "x86_64")):
        ET.SubElement(cpu, tag).text = str(value)
    memory = ET.Element("memory")
    memory.text = str(memory_mib * 1024)  # KiB
    pool = ET.Element("pool", type="dir")
    ET.SubElement(pool, "name").text = POOL
    ET.SubElement(pool, "capacity", unit="TiB").text = "100"
    ET.SubElement(pool, "available", unit="TiB").text = "100"
    ET.SubElement(ET.SubElement(pool, "target"), "path").text = f"/simulated/{host_name}"
    return [cpu, memory, pool]


def _ensure_volume(connection, name: str) -> None:
    pool = connection.storagePoolLookupByName(POOL)
    if name not in pool.listVolumes():
        volume = ET.Element("volume")
        ET.SubElement(volume, "name").text = name
        # Token-sized: libvirt's test driver gives every pool 100 GiB whatever the node file
        # says, and a simulated volume holds nothing; at 10 GiB a host was full at ten guests.
        ET.SubElement(volume, "capacity", unit="MiB").text = str(SIMULATED_VOLUME_MIB)
        ET.SubElement(ET.SubElement(volume, "target"), "format", type="qcow2")
        pool.createXML(ET.tostring(volume, encoding="unicode"), 0)
