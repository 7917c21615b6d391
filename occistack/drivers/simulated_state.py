"""What a simulated host remembers across restarts of the server that runs its agent.

libvirt's test driver keeps its node in memory and starts every connection from the node file
it is opened on, so a host simulated on it would come back empty after each restart and every
compute on it would be reported gone. A simulated host with a state directory therefore writes
its node back to disk after every command its agent ran, in the test driver's own node format:
the domains (with their run state, so a running guest is running again and a stopped one stays
stopped), the storage pool with its volumes. The next server opens the test driver on that
file. The in-memory storage and network drivers beside it (data volumes and their attachments,
guest networks and plugged NICs) are written as JSON next to it.

Each file is replaced atomically (written beside, then renamed): a server killed in the middle
leaves the previous state, never half of one.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Iterable
from xml.etree import ElementTree as ET

import libvirt

log = logging.getLogger(__name__)

#: The test driver's XML namespace for a domain's run state in a node file.
TEST_DOMAIN_NAMESPACE = "http://libvirt.org/schemas/domain/test/1.0"
ET.register_namespace("test", TEST_DOMAIN_NAMESPACE)


class SavedNode:
    """The state files of one simulated host, in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.node_file = directory / "node.xml"
        self.drivers_file = directory / "drivers.json"
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.node_file.exists()

    def write_empty(self, hardware: Iterable[ET.Element]) -> None:
        """A node with only its hardware (CPUs, memory, the empty storage pool)."""
        node = ET.Element("node")
        node.extend(copy.deepcopy(list(hardware)))
        self._replace(self.node_file, ET.tostring(node, encoding="unicode"))

    def save(self, connection, hardware: Iterable[ET.Element], storage, network) -> None:
        """The node as ``connection`` sees it now, and the fakes' state, written to disk."""
        with self._lock:
            self._replace(self.node_file, ET.tostring(current_node(connection, hardware), encoding="unicode"))
            drivers = {"storage": _state_of(storage), "network": _state_of(network)}
            self._replace(self.drivers_file, json.dumps(drivers, indent=1, sort_keys=True))

    def restore_drivers(self, storage, network) -> None:
        """Give the fakes back what :meth:`save` wrote of them (nothing when it wrote nothing)."""
        if not self.drivers_file.exists():
            return
        saved = json.loads(self.drivers_file.read_text())
        for driver, state in ((storage, saved.get("storage")), (network, saved.get("network"))):
            restore = getattr(driver, "restore_state", None)
            if state is not None and restore is not None:
                restore(state)

    def set_aside(self, reason: str) -> Path:
        """Move a node file that cannot be loaded out of the way (kept for a post-mortem)."""
        aside = self.node_file.with_name(f"node.unloadable-{time.strftime('%Y%m%dT%H%M%S')}.xml")
        os.replace(self.node_file, aside)
        log.error("the saved node %s cannot be loaded (%s); it is kept as %s and the host starts empty",
                  self.node_file, reason, aside)
        return aside

    def _replace(self, path: Path, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_text(text)
        os.replace(partial, path)


def current_node(connection, hardware: Iterable[ET.Element]) -> ET.Element:
    """The test driver's node file for what ``connection`` holds now. The hardware and the
    pool's definition come from ``hardware`` (not from libvirt: the pool's reported allocation
    would be counted again on top of its volumes' when the file is read)."""
    node = ET.Element("node")
    pools = {}
    for element in copy.deepcopy(list(hardware)):
        node.append(element)
        if element.tag == "pool":
            pools[element.findtext("name")] = element
    for pool in connection.listAllStoragePools():
        element = pools.get(pool.name())
        if element is None:
            continue  # only the pools the node was made with are kept
        for volume in pool.listAllVolumes():
            element.append(ET.fromstring(volume.XMLDesc(0)))
    for domain in connection.listAllDomains():
        element = ET.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))
        state, _reason = domain.state()
        ET.SubElement(element, f"{{{TEST_DOMAIN_NAMESPACE}}}runstate").text = str(state)
        if domain.hasManagedSaveImage(0):
            ET.SubElement(element, f"{{{TEST_DOMAIN_NAMESPACE}}}hasmanagedsave").text = "yes"
        node.append(element)
    return node


def _state_of(driver) -> dict | None:
    state_to_save = getattr(driver, "state_to_save", None)
    return state_to_save() if state_to_save is not None else None
