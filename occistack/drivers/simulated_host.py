"""A simulated host on libvirt's test driver: a real libvirt compute driver over a hypervisor
that lives in memory, with the fake network and storage beside it.

The embedded default's in-process agents can run on it (``occistack.drivers = libvirt-test``),
so the whole path to libvirt -- domain XML, the bulk state listing of reconciliation, libvirt's
own refusals -- is exercised without a hypervisor. Their secondary storage is real: template
images are downloaded, checksummed and stored in a local directory (storage/directory.py). libvirt gives every ``test:///<file>``
connection a fresh copy of the node the file describes, so each simulated host gets a node file
of its own, with the host's CPUs and memory.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

from .base import GuestSpec, HostDrivers
from .fake import FakeNetworkDriver
from .libvirt.compute import LibvirtComputeDriver
from .libvirt.domain import Disk
from .storage.directory import DirectorySecondaryStorage, SimulatedHostStorage

#: The storage pool of every simulated node (in memory, like the rest of the node).
POOL = "simulated"
#: The size of a simulated root volume: 6,400 fit in the test driver's fixed 100 GiB pool.
SIMULATED_VOLUME_MIB = 16


class SimulatedHosts:
    """Node files for simulated hosts, in a directory removed by :meth:`close`."""

    def __init__(self, secondary_root: str | Path | None = None) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="occistack-simulated-hosts-"))
        #: where the hosts keep simulated NFS secondary storage (file:// stores are their own
        #: paths); shared by every simulated host, as a zone's NFS export is.
        self.secondary = DirectorySecondaryStorage(secondary_root or self.directory / "secondary")

    def drivers(self, host_name: str, sockets: int = 2, cores_per_socket: int = 8, mhz: int = 2400,
                memory_mib: int = 65536):
        node = ET.Element("node")
        cpu = ET.SubElement(node, "cpu")
        for tag, value in (("nodes", 1), ("sockets", sockets), ("cores", cores_per_socket), ("threads", 1),
                           ("active", sockets * cores_per_socket), ("mhz", mhz), ("model", "x86_64")):
            ET.SubElement(cpu, tag).text = str(value)
        ET.SubElement(node, "memory").text = str(memory_mib * 1024)  # KiB
        pool = ET.SubElement(node, "pool", type="dir")
        ET.SubElement(pool, "name").text = POOL
        ET.SubElement(pool, "capacity", unit="TiB").text = "100"
        ET.SubElement(pool, "available", unit="TiB").text = "100"
        ET.SubElement(ET.SubElement(pool, "target"), "path").text = f"/simulated/{host_name}"
        path = self.directory / f"{host_name}.xml"
        ET.ElementTree(node).write(path)
        network = FakeNetworkDriver()
        drivers = HostDrivers(None, None, network)

        def root_disk_for(guest: GuestSpec) -> Disk:
            # Every guest gets a (simulated) root volume, so that saving it as an image works
            # as on a real host; a guest deployed again reuses its volume.
            volume = f"{guest.name}-root"
            drivers.compute.connection.run(f"make the root disk of {guest.name}",
                                           lambda conn: _ensure_volume(conn, volume))
            return Disk(target="vda", bus="virtio", pool=POOL, volume=volume)

        drivers.compute = LibvirtComputeDriver(f"test://{path}", interface_for=network.interface_for,
                                               storage_pool=POOL, root_disk_for=root_disk_for)
        drivers.storage = SimulatedHostStorage(self.secondary,
                                               guest_exists=lambda name: drivers.compute.state(name) != "absent")
        return drivers

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


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
