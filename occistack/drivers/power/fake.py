"""An in-memory power driver that honours the contract exactly, for tests and the embedded default.

Each BMC address (address and port) is one machine with its own credentials, power state and boot
device. Tests register machines with :meth:`FakePowerDriver.add_machine`, make one unreachable
(as a BMC that lost its network) with :meth:`FakePowerDriver.set_reachable`, and make the next
call of an operation fail with :meth:`PowerFailureSwitch.fail_next`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from occistack.drivers.power.base import BmcAddress, BmcAuthenticationFailed, BmcUnreachable, PowerDriver, PowerError, check_boot_device


@dataclass
class FakeMachine:
    """What the fake knows about one machine; tests may read and change it."""

    username: str
    password: str
    power: str = "off"
    boot_device: str | None = None
    reachable: bool = True
    #: whether its operating system obeys an ACPI power button (a machine in firmware does not)
    obeys_acpi: bool = True
    #: how often it was powered on and reset -- a reset machine really rebooted
    boots: int = 0
    resets: int = 0


@dataclass
class PowerFailureSwitch:
    """Makes the next calls of a named operation (``status``, ``power_on``, ...) raise an error,
    by default a PowerError; pass ``error=BmcUnreachable`` to simulate a lost answer."""

    _pending: dict[str, list[PowerError]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, operation: str, message: str, times: int = 1,
                  error: type[PowerError] = PowerError) -> None:
        with self._lock:
            self._pending.setdefault(operation, []).extend(error(message) for _ in range(times))

    def check(self, operation: str) -> None:
        with self._lock:
            pending = self._pending.get(operation)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            raise failure


class FakePowerDriver(PowerDriver):
    def __init__(self) -> None:
        self.machines: dict[tuple[str, int], FakeMachine] = {}
        self.failures = PowerFailureSwitch()
        self._lock = threading.Lock()

    # --- for tests ------------------------------------------------------------------------------

    def add_machine(self, bmc: BmcAddress, power: str = "off", obeys_acpi: bool = True) -> FakeMachine:
        """A machine behind ``bmc``, accepting ``bmc``'s user name and password."""
        machine = FakeMachine(username=bmc.username, password=bmc.password, power=power, obeys_acpi=obeys_acpi)
        with self._lock:
            self.machines[(bmc.address, bmc.port)] = machine
        return machine

    def set_reachable(self, bmc: BmcAddress, reachable: bool) -> None:
        with self._lock:
            self.machines[(bmc.address, bmc.port)].reachable = reachable

    # --- the contract ---------------------------------------------------------------------------

    def status(self, bmc: BmcAddress) -> str:
        with self._session(bmc, "status") as machine:
            return machine.power

    def power_on(self, bmc: BmcAddress, boot_device: str | None = None) -> None:
        if boot_device is not None:
            check_boot_device(boot_device)
        with self._session(bmc, "power_on") as machine:
            if boot_device is not None:
                machine.boot_device = boot_device
            if machine.power == "off":
                machine.power = "on"
                machine.boots += 1

    def power_off(self, bmc: BmcAddress) -> None:
        with self._session(bmc, "power_off") as machine:
            machine.power = "off"

    def soft_off(self, bmc: BmcAddress) -> None:
        with self._session(bmc, "soft_off") as machine:
            if machine.obeys_acpi:
                machine.power = "off"

    def reset(self, bmc: BmcAddress) -> None:
        with self._session(bmc, "reset") as machine:
            if machine.power != "on":
                raise PowerError(f"cannot reset the machine behind BMC {bmc}: it is off")
            machine.resets += 1
            machine.boots += 1

    def set_boot_device(self, bmc: BmcAddress, device: str) -> None:
        check_boot_device(device)
        with self._session(bmc, "set_boot_device") as machine:
            machine.boot_device = device

    def boot_device(self, bmc: BmcAddress) -> str | None:
        with self._session(bmc, "boot_device") as machine:
            return machine.boot_device

    # --- helpers --------------------------------------------------------------------------------

    def _session(self, bmc: BmcAddress, operation: str) -> _MachineSession:
        return _MachineSession(self, bmc, operation)


class _MachineSession:
    """Holds the driver's lock around one operation after checking what a real BMC would check
    first: that it answers, then the credentials, then any failure a test asked for."""

    def __init__(self, driver: FakePowerDriver, bmc: BmcAddress, operation: str) -> None:
        self._driver, self._bmc, self._operation = driver, bmc, operation

    def __enter__(self) -> FakeMachine:
        self._driver._lock.acquire()
        try:
            machine = self._driver.machines.get((self._bmc.address, self._bmc.port))
            if machine is None or not machine.reachable:
                raise BmcUnreachable(f"no answer from BMC {self._bmc}")
            if (machine.username, machine.password) != (self._bmc.username, self._bmc.password):
                raise BmcAuthenticationFailed(
                    f"BMC {self._bmc} rejected the user name or password of user {self._bmc.username!r}")
            self._driver.failures.check(self._operation)
        except BaseException:
            self._driver._lock.release()
            raise
        return machine

    def __exit__(self, *exc_info: object) -> None:
        self._driver._lock.release()
