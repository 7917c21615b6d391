"""Power control over IPMI 2.0 (RMCP+ on UDP) with pyghmi.

Every call runs in a worker thread that the caller waits for at most ``timeout`` seconds:
pyghmi's own retries take their own time (about 5 s for a BMC that never answers), and the HA
code needs "no answer" to arrive within a bound it chooses. A worker that overran finishes (or
gives up) in the background and is forgotten.

pyghmi keeps one logged-in session per (BMC, user, password) for the whole process and keeps it
alive in the background, so repeated calls reuse it. When a call times out, the driver marks
pyghmi's sessions for that BMC broken (pyghmi itself would go on offering them for ~30 s), so
the next call logs in afresh -- which makes a BMC that went away and came back work at once.
pyghmi runs one command at a time per session, so calls to the same BMC are serialised here;
calls to different BMCs run in parallel.

pyghmi's exceptions become ours in :func:`_translated_errors` and nowhere else; the places
where the driver reaches into pyghmi's internals are in :mod:`.pyghmi_fixes`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from occistack.drivers.power.base import (
    BmcAddress, BmcAuthenticationFailed, BmcUnreachable, PowerDriver, PowerError, check_boot_device)
from occistack.drivers.power.pyghmi_fixes import forget_sessions, install_cipher_suite_fallback

T = TypeVar("T")

#: our boot device names -> pyghmi's, and back
_TO_PYGHMI_BOOT_DEVICE = {"disk": "hd", "network": "network", "cdrom": "optical", "bios": "setup"}
_FROM_PYGHMI_BOOT_DEVICE = {pyghmi: ours for ours, pyghmi in _TO_PYGHMI_BOOT_DEVICE.items()}

#: pyghmi's messages for "nobody answered" (it has no exception classes for them)
_NO_ANSWER_MESSAGES = ("timeout", "session no longer connected", "session failed to initialize",
                       "session disconnected")
#: ... and for "the BMC rejected who we are"
_REJECTED_LOGIN_MESSAGES = ("incorrect password", "unauthorized name", "invalid integrity check value",
                            "unauthorized role", "invalid rakp4 integrity code")


class IpmiPowerDriver(PowerDriver):
    """:param timeout: seconds one exchange with the BMC (log-in included) may take before the
        call fails with BmcUnreachable.
    :param confirm_timeout: seconds :meth:`power_on` and :meth:`power_off` wait for the BMC to
        report the new state before they fail with PowerError.
    :param poll_interval: seconds between two status reads while waiting for that.
    """

    def __init__(self, timeout: float = 20.0, confirm_timeout: float = 60.0, poll_interval: float = 0.5) -> None:
        install_cipher_suite_fallback()
        self.timeout = timeout
        self.confirm_timeout = confirm_timeout
        self.poll_interval = poll_interval
        self._locks: dict[tuple[str, int, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # --- the contract ---------------------------------------------------------------------------

    def status(self, bmc: BmcAddress) -> str:
        return self._call(bmc, "read the power state", lambda ipmi: ipmi.get_power()["powerstate"])

    def power_on(self, bmc: BmcAddress, boot_device: str | None = None) -> None:
        if boot_device is not None:
            self.set_boot_device(bmc, boot_device)
        self._call(bmc, "power on", lambda ipmi: ipmi.set_power("on"))
        self._wait_for(bmc, "on")

    def power_off(self, bmc: BmcAddress) -> None:
        self._call(bmc, "power off", lambda ipmi: ipmi.set_power("off"))
        self._wait_for(bmc, "off")

    def soft_off(self, bmc: BmcAddress) -> None:
        def press_power_button_if_on(ipmi) -> None:
            # Some BMCs refuse a soft off of a machine that is off; the contract says no-op.
            if ipmi.get_power()["powerstate"] == "on":
                ipmi.set_power("shutdown")
        self._call(bmc, "soft power off", press_power_button_if_on)

    def reset(self, bmc: BmcAddress) -> None:
        def reset_if_on(ipmi) -> None:
            # IPMI leaves a reset of a machine that is off to the BMC (some power it on); the
            # contract says it is an error.
            if ipmi.get_power()["powerstate"] != "on":
                raise PowerError(f"cannot reset the machine behind BMC {bmc}: it is off")
            ipmi.set_power("reset")
        self._call(bmc, "reset", reset_if_on)

    def set_boot_device(self, bmc: BmcAddress, device: str) -> None:
        pyghmi_device = _TO_PYGHMI_BOOT_DEVICE[check_boot_device(device)]
        self._call(bmc, f"set the boot device to {device}", lambda ipmi: ipmi.set_bootdev(pyghmi_device))

    def boot_device(self, bmc: BmcAddress) -> str | None:
        answer = self._call(bmc, "read the boot device", lambda ipmi: ipmi.get_bootdev())
        device = answer.get("bootdev")
        if device == "default":
            return None
        if device not in _FROM_PYGHMI_BOOT_DEVICE:
            raise PowerError(f"BMC {bmc} holds boot device {device!r}, which is none of "
                             f"{', '.join(_FROM_PYGHMI_BOOT_DEVICE.values())}")
        return _FROM_PYGHMI_BOOT_DEVICE[device]

    # --- talking to the BMC ---------------------------------------------------------------------

    def _wait_for(self, bmc: BmcAddress, wanted: str) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        while True:
            state = self.status(bmc)
            if state == wanted:
                return
            if time.monotonic() >= deadline:
                raise PowerError(f"BMC {bmc} accepted power {wanted} but still reports the machine "
                                 f"{state} after {self.confirm_timeout:g} s")
            time.sleep(self.poll_interval)

    def _call(self, bmc: BmcAddress, what: str, operation: Callable[[object], T]) -> T:
        """Run ``operation`` on a pyghmi Command for ``bmc`` in a worker thread, within the timeout."""
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                with self._lock_for(bmc), _translated_errors(bmc, what):
                    outcome["result"] = operation(_command(bmc))
            except BaseException as error:  # noqa: BLE001 - handed over to the caller
                outcome["error"] = error

        worker = threading.Thread(target=work, name=f"ipmi-{bmc}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            forget_sessions(bmc.address, bmc.port)
            raise BmcUnreachable(f"no answer from BMC {bmc} within {self.timeout:g} s (trying to {what})")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["result"]  # type: ignore[return-value]

    def _lock_for(self, bmc: BmcAddress) -> threading.Lock:
        key = (bmc.address, bmc.port, bmc.username)
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())


def _command(bmc: BmcAddress):
    # Imported here so that importing the driver package never needs pyghmi (the fake does not).
    from pyghmi.ipmi.command import Command

    # A Command is cheap once pyghmi holds a live session for the same BMC and credentials: it
    # is reused. Otherwise this logs in (and raises if that fails). The user name and password
    # go in as bytes: pyghmi stores them encoded and compares the stored bytes with what it is
    # given when it looks for a session to reuse, so str credentials never match a logged-in
    # session and the second Command for a BMC waits forever for a log-in that already ended.
    return Command(bmc=bmc.address, port=bmc.port, userid=bmc.username.encode("utf-8"),
                   password=bmc.password.encode("utf-8"))


@contextlib.contextmanager
def _translated_errors(bmc: BmcAddress, what: str) -> Iterator[None]:
    """The one place where pyghmi's and the socket layer's exceptions become ours."""
    from pyghmi.exceptions import IpmiException, PyghmiException

    try:
        yield
    except PowerError:
        raise
    except (socket.gaierror, OSError) as error:
        raise BmcUnreachable(f"cannot reach BMC {bmc} to {what}: {error}") from error
    except IpmiException as error:
        message = str(error.args[0]) if error.args and error.args[0] else "timeout"
        lowered = message.lower()
        if any(text in lowered for text in _REJECTED_LOGIN_MESSAGES):
            raise BmcAuthenticationFailed(
                f"BMC {bmc} rejected user {bmc.username!r} or its password ({message})") from error
        if any(text in lowered for text in _NO_ANSWER_MESSAGES):
            raise BmcUnreachable(f"no answer from BMC {bmc} (trying to {what}): {message}") from error
        raise PowerError(f"BMC {bmc} failed to {what}: {message}") from error
    except PyghmiException as error:
        raise PowerError(f"BMC {bmc} failed to {what}: {error}") from error
