"""Drivers: small contracts between the management plane and a hypervisor, network or storage.

Each contract has a handful of methods, a fake (in-memory, for tests and the embedded default)
and -- from issue 5 on -- real implementations. Nothing here touches the database.
"""

from occistack.drivers.base import ComputeDriver, DriverError, NetworkDriver, StorageDriver

__all__ = ["ComputeDriver", "DriverError", "NetworkDriver", "StorageDriver"]
