"""Power control of bare-metal machines through their BMCs: the contract, a fake, IPMI.

The IPMI driver lives in ``occistack.drivers.power.ipmi`` and is imported from there, so that
using the contract or the fake never needs pyghmi.
"""

from occistack.drivers.power.base import (
    BOOT_DEVICES, BmcAddress, BmcAuthenticationFailed, BmcUnreachable, PowerDriver, PowerError, UnknownBootDevice)
from occistack.drivers.power.fake import FakePowerDriver

__all__ = ["BOOT_DEVICES", "BmcAddress", "BmcAuthenticationFailed", "BmcUnreachable", "FakePowerDriver",
           "PowerDriver", "PowerError", "UnknownBootDevice"]
