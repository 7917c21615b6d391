"""Fixtures for the driver tests: a real libvirtd for the session, and one backend per compute
driver for the contract suite (the fake, libvirt's test driver, QEMU under libvirtd).

Every guest a test creates is named ``occitest-<hex>-...`` and destroyed after the test. At the
end of the session this session's storage pool is removed; if no other test session is using
libvirtd by then, anything left named ``occitest-`` on qemu:///system is removed too, and the
daemons this session started are stopped (see tests/drivers/libvirtd.py for the sharing).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
import pytest

from occistack.drivers.base import ComputeDriver, GuestSpec
from occistack.drivers.fake import FakeComputeDriver
from occistack.drivers.libvirt import Disk, LibvirtComputeDriver
from tests.conftest import missing_component
from tests.drivers.libvirtd import LibvirtdUnavailable, start_libvirtd

GUEST_PREFIX = "occitest-"
TEST_URI = "test:///default"
TEST_POOL = "default-pool"  # the storage pool test:///default comes with
#: Per session, so that concurrent sessions never remove each other's volumes.
QEMU_POOL = f"{GUEST_PREFIX}pool-{os.getpid()}-{uuid.uuid4().hex[:6]}"
QEMU_POOL_PATH = Path("/var/tmp/occistack-test-pools") / QEMU_POOL
#: SeaBIOS ignores ACPI power buttons, so a graceful stop of the diskless QEMU guests always
#: ends in the forced poweroff; a short timeout keeps that path quick to test.
QEMU_STOP_TIMEOUT = 1.5
#: TCG guests that never boot an OS need very little memory; each still costs CPU.
GUEST_MEMORY_MIB = 64


@pytest.fixture(scope="session")
def libvirtd(tmp_path_factory):
    """qemu:///system answering; ``(None, reason)`` when libvirtd cannot run here."""
    try:
        running = start_libvirtd(tmp_path_factory.mktemp("libvirtd"))
    except LibvirtdUnavailable as error:
        yield None, str(error)
        return
    try:
        yield running, None
    finally:
        _remove_pool(running.uri, QEMU_POOL)
        running.release(sweep=lambda: _remove_test_leftovers(running.uri))


@pytest.fixture(scope="session")
def qemu_pool(libvirtd):
    """A dir storage pool on qemu:///system for the tests' root disks and images."""
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    connection = libvirt.open(running.uri)
    try:
        try:
            pool = connection.storagePoolLookupByName(QEMU_POOL)
        except libvirt.libvirtError:
            pool = connection.storagePoolDefineXML(
                f"<pool type='dir'><name>{QEMU_POOL}</name><target><path>{QEMU_POOL_PATH}</path>"
                "</target></pool>")
            pool.build(0)
        if not pool.isActive():
            pool.create(0)
        yield QEMU_POOL
    finally:
        connection.close()


def _remove_test_leftovers(uri: str) -> None:
    """Remove every test guest and pool on ``uri``, e.g. of a session that crashed."""
    connection = libvirt.open(uri)
    try:
        for domain in connection.listAllDomains():
            if domain.name().startswith(GUEST_PREFIX):
                if domain.isActive():
                    domain.destroy()
                domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        pools = [pool.name() for pool in connection.listAllStoragePools() if pool.name().startswith(GUEST_PREFIX)]
    finally:
        connection.close()
    for pool in pools:
        _remove_pool(uri, pool)


def _remove_pool(uri: str, name: str) -> None:
    connection = libvirt.open(uri)
    try:
        try:
            pool = connection.storagePoolLookupByName(name)
        except libvirt.libvirtError:
            return
        if pool.isActive():
            pool.refresh(0)
            for volume in pool.listAllVolumes():
                volume.delete(0)
            pool.destroy()
        pool.delete(0)
        pool.undefine()
    finally:
        connection.close()


@dataclass
class ComputeBackend:
    """A compute driver under test plus what the contract tests need around it."""

    kind: str
    driver: ComputeDriver
    pool: str | None = None  # where root disks and images live (libvirt backends)
    connection: object = None  # a raw libvirt connection for preparing volumes
    prefix: str = field(default_factory=lambda: f"{GUEST_PREFIX}{uuid.uuid4().hex[:8]}-")
    with_root_disk: set[str] = field(default_factory=set)
    volumes: list[str] = field(default_factory=list)

    def name(self, suffix: str) -> str:
        return self.prefix + suffix

    def spec(self, suffix: str, root_disk: bool = False) -> GuestSpec:
        name = self.name(suffix)
        if root_disk:
            self.with_root_disk.add(name)
            if self.connection is not None:
                self._create_volume(f"{name}-root")
        return GuestSpec(name=name, cores=1, memory_mib=GUEST_MEMORY_MIB, image="tiny")

    def deploy(self, suffix: str, state: str = "running", root_disk: bool = False) -> str:
        """Deploy a guest and bring it into ``state``; its name."""
        spec = self.spec(suffix, root_disk)
        self.driver.deploy(spec)
        if state == "suspended":
            self.driver.power(spec.name, "suspend")
        elif state == "stopped":
            self.driver.power(spec.name, "poweroff")
        return spec.name

    def root_disk_for(self, guest: GuestSpec) -> Disk | None:
        if guest.name not in self.with_root_disk:
            return None
        return Disk(target="vda", pool=self.pool, volume=f"{guest.name}-root")

    def image_exists(self, image: str) -> bool:
        if isinstance(self.driver, FakeComputeDriver):
            return image in self.driver.images
        pool = self.connection.storagePoolLookupByName(self.pool)
        pool.refresh(0)
        return image in pool.listVolumes()

    def track_volume(self, name: str) -> None:
        self.volumes.append(name)

    def _create_volume(self, name: str) -> None:
        pool = self.connection.storagePoolLookupByName(self.pool)
        pool.createXML(f"<volume><name>{name}</name><capacity unit='MiB'>1</capacity>"
                       "<target><format type='qcow2'/></target></volume>", 0)
        self.volumes.append(name)

    def clean_up(self) -> None:
        states = self.driver.guest_states()
        for name in states:
            if name.startswith(self.prefix):
                self.driver.destroy(name)
        if self.connection is not None:
            pool = self.connection.storagePoolLookupByName(self.pool)
            pool.refresh(0)
            present = set(pool.listVolumes())
            for volume in self.volumes:
                if volume in present:
                    pool.storageVolLookupByName(volume).delete(0)


@pytest.fixture(params=["fake", "libvirt-test", "libvirt-qemu"])
def backend(request, tmp_path):
    kind = request.param
    if kind == "fake":
        compute = ComputeBackend(kind, FakeComputeDriver())
        yield compute
        compute.clean_up()
        return
    if kind == "libvirt-test":
        uri, pool, stop_timeout = TEST_URI, TEST_POOL, 5.0
    else:
        running, reason = request.getfixturevalue("libvirtd")
        if running is None:
            missing_component(reason)
        uri, pool, stop_timeout = running.uri, request.getfixturevalue("qemu_pool"), QEMU_STOP_TIMEOUT
    connection = libvirt.open(uri)
    compute = ComputeBackend(kind, driver=None, pool=pool, connection=connection)  # type: ignore[arg-type]
    compute.driver = LibvirtComputeDriver(uri, root_disk_for=compute.root_disk_for,
                                          console_log_dir=tmp_path / "consoles",
                                          stop_timeout=stop_timeout, poll_interval=0.1)
    try:
        yield compute
    finally:
        compute.clean_up()
        compute.driver.close()
        connection.close()
