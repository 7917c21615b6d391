"""The drivers an agent is given (HostDrivers), as each way of wiring a host assembles them:
every member is of its declared contract, and every optional capability is either there, of
its contract, or None -- the agent checks the member, nothing else (see hostagent/agent.py)."""

from __future__ import annotations

import pytest

from occistack.drivers.base import (
    ComputeDriver,
    ConfigDriveBuilder,
    DhcpDriver,
    HostDrivers,
    NetworkDriver,
    RootDiskBuilder,
    SecondaryStorageDriver,
    StorageDriver,
)
from occistack.drivers.fake import FakeDrivers
from occistack.drivers.simulated_host import SimulatedHosts
from occistack.drivers.storage.secondary import NfsUrlSecondaryStorage
from occistack.hostagent.config import DriverConfig
from occistack.hostagent.wiring import libvirt_host_drivers
from tests.drivers.conftest import TEST_POOL, TEST_URI

OPTIONAL = {"root_disks": RootDiskBuilder, "dhcp": DhcpDriver, "config_drives": ConfigDriveBuilder}


def assert_host_drivers(drivers: HostDrivers) -> None:
    assert isinstance(drivers, HostDrivers)
    assert isinstance(drivers.compute, ComputeDriver)
    assert isinstance(drivers.storage, StorageDriver)
    assert isinstance(drivers.network, NetworkDriver)
    assert isinstance(drivers.secondary, SecondaryStorageDriver)
    for member, contract in OPTIONAL.items():
        value = getattr(drivers, member)
        assert value is None or isinstance(value, contract), member
    assert drivers.save_state is None or callable(drivers.save_state)


def test_the_fakes_fill_the_contracts_and_declare_no_optional_capability():
    drivers = FakeDrivers()
    assert_host_drivers(drivers)
    assert drivers.secondary is drivers.storage  # one in-memory fake for both
    assert (drivers.root_disks, drivers.dhcp, drivers.config_drives) == (None, None, None)


def test_a_simulated_host_fills_the_contracts(tmp_path):
    hosts = SimulatedHosts(tmp_path / "nodes")
    try:
        drivers = hosts.drivers("sim1")
        assert_host_drivers(drivers)
        assert drivers.save_state is not None  # its node is written to disk after each command
    finally:
        hosts.close()


@pytest.mark.parametrize("storage", ["pool", "fake"])
def test_a_real_host_s_wiring_fills_the_contracts(tmp_path, storage):
    config = DriverConfig(libvirt_uri=TEST_URI, domain_type="test", network="fake", storage=storage, pool=TEST_POOL,
                          work_dir=str(tmp_path))
    drivers = libvirt_host_drivers(config)
    try:
        assert_host_drivers(drivers)
        assert drivers.config_drives is not None  # every real guest gets its NoCloud drive
        assert drivers.dhcp is None  # the fake network driver serves no DHCP
        if storage == "pool":
            assert drivers.root_disks is drivers.storage
            assert isinstance(drivers.secondary, NfsUrlSecondaryStorage)
        else:
            assert drivers.root_disks is None and drivers.secondary is drivers.storage
    finally:
        drivers.compute.close()
