"""The power contract: switching bare-metal machines on and off through their BMCs.

The management server uses it to fence hosts (HA) and to deploy bare-metal nodes. A machine is
named by its :class:`BmcAddress`; the drivers hold no per-machine configuration of their own.

Two failures must stay apart: :class:`BmcUnreachable` means nobody answered, so the machine's
state is *unknown* -- a host that cannot be fenced must never be presumed dead -- while every
other :class:`PowerError` means the BMC answered and refused or failed.
"""

from __future__ import annotations

import abc
from dataclasses import KW_ONLY, dataclass, field

from occistack.drivers.base import DriverError

#: The boot devices a caller may ask for: the local disk, PXE, the optical drive, firmware setup.
BOOT_DEVICES: tuple[str, ...] = ("disk", "network", "cdrom", "bios")

#: What :meth:`PowerDriver.status` answers.
POWER_STATES: tuple[str, ...] = ("on", "off")


class PowerError(DriverError):
    """The BMC answered but refused or failed the request."""


class BmcUnreachable(PowerError):
    """No answer from the BMC within the timeout: the machine's power state is unknown."""


class BmcAuthenticationFailed(PowerError):
    """The BMC rejected the user name or password."""


class UnknownBootDevice(PowerError):
    """A boot device outside :data:`BOOT_DEVICES` was asked for."""


@dataclass(frozen=True, slots=True)
class BmcAddress:
    """Where a machine's BMC listens and how to log in to it.

    The password is a plain value: encrypting it at rest is the management server's job, and it
    is kept out of ``repr`` so it does not end up in logs.
    """

    address: str
    _: KW_ONLY
    port: int = 623
    username: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


def check_boot_device(device: str) -> str:
    """``device`` if it is one of :data:`BOOT_DEVICES`; UnknownBootDevice otherwise."""
    if device not in BOOT_DEVICES:
        raise UnknownBootDevice(
            f"unknown boot device {device!r}; accepted are: {', '.join(BOOT_DEVICES)}")
    return device


class PowerDriver(abc.ABC):
    """Power control of machines through their BMCs. Every method may raise BmcUnreachable,
    BmcAuthenticationFailed or another PowerError."""

    @abc.abstractmethod
    def status(self, bmc: BmcAddress) -> str:
        """``"on"`` or ``"off"``, as the BMC reports it now."""

    @abc.abstractmethod
    def power_on(self, bmc: BmcAddress, boot_device: str | None = None) -> None:
        """Switch the machine on and wait until the BMC reports it on. With ``boot_device``
        the machine is first told to boot from that device. A machine that is already on
        stays on untouched (so a boot device then applies from its next boot)."""

    @abc.abstractmethod
    def power_off(self, bmc: BmcAddress) -> None:
        """Cut the power (no shutdown of the operating system) and wait until the BMC reports
        the machine off; a PowerError if it still reports on when the timeout runs out. This is
        what fencing relies on. A machine that is already off is not an error."""

    @abc.abstractmethod
    def soft_off(self, bmc: BmcAddress) -> None:
        """Ask the operating system to shut down (an ACPI power button press) and return at
        once: whether and when the machine goes off is up to its operating system (firmware
        with no OS, like SeaBIOS waiting for a boot device, ignores it). Off already: no-op."""

    @abc.abstractmethod
    def reset(self, bmc: BmcAddress) -> None:
        """Hard-reset a machine that is on; a PowerError if it is off."""

    @abc.abstractmethod
    def set_boot_device(self, bmc: BmcAddress, device: str) -> None:
        """Make the machine boot from ``device`` (one of :data:`BOOT_DEVICES`) from its next
        boot on; UnknownBootDevice for any other value, before anything is sent."""

    @abc.abstractmethod
    def boot_device(self, bmc: BmcAddress) -> str | None:
        """The boot device the BMC holds for the next boot, or None when it holds none (the
        machine follows its firmware's own boot order)."""
