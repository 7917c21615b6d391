"""One real boot: a Debian kernel and a busybox initramfs under QEMU (TCG), deployed through
LibvirtComputeDriver with direct kernel boot and a serial console log. The guest announces itself
on the console and powers itself off, which ends the domain only because the driver's XML enables
ACPI. TCG boots take 8-15 s here and use a whole core, so there is exactly one of these."""

from __future__ import annotations

import time

import pytest

from occistack.drivers.base import DriverError, GuestSpec
from occistack.drivers.libvirt import DirectBoot, LibvirtComputeDriver
from tests.conftest import missing_component
from tests.drivers.conftest import GUEST_PREFIX
from tests.drivers.guest_image import GuestImageUnavailable, build_guest_image

BOOT_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def guest_image():
    try:
        return build_guest_image()
    except GuestImageUnavailable as error:
        missing_component(f"cannot build the test guest image: {error}")


@pytest.mark.slow
def test_a_real_guest_boots_announces_itself_and_powers_off(libvirtd, guest_image, tmp_path):
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    name = f"{GUEST_PREFIX}boot-{time.monotonic_ns()}"
    driver = LibvirtComputeDriver(
        running.uri, console_log_dir=tmp_path,
        direct_boot_for=lambda guest: DirectBoot(kernel=str(guest_image.kernel), initrd=str(guest_image.initrd),
                                                 cmdline=guest_image.cmdline))
    console = driver.console_log_path(name)
    try:
        started = time.monotonic()
        driver.deploy(GuestSpec(name=name, cores=1, memory_mib=192, image="tiny"))
        assert driver.state(name) in ("running", "stopped")  # a very fast guest may be done already
        while guest_image.marker not in (console.read_text(errors="replace") if console.exists() else ""):
            assert time.monotonic() - started < BOOT_TIMEOUT, (
                f"no {guest_image.marker} on the console within {BOOT_TIMEOUT:.0f} s; it says:\n"
                + (console.read_text(errors="replace")[-2000:] if console.exists() else "(no console log)"))
            time.sleep(0.2)
        marker_seconds = time.monotonic() - started
        while driver.state(name) != "stopped":
            assert time.monotonic() - started < BOOT_TIMEOUT, "the guest said it powers off but still runs"
            time.sleep(0.2)
        assert driver.guest_states()[name] == "stopped"
        print(f"marker after {marker_seconds:.1f} s, stopped after {time.monotonic() - started:.1f} s")
    finally:
        driver.destroy(name)
        driver.close()
    assert driver_state_after_destroy(running.uri, name) == "absent"


def driver_state_after_destroy(uri: str, name: str) -> str:
    checker = LibvirtComputeDriver(uri)
    try:
        return checker.state(name)
    finally:
        checker.close()


def test_a_guest_that_cannot_start_leaves_nothing_behind(libvirtd, tmp_path):
    """QEMU refuses a NIC on a bridge that does not exist; deploy must not leave the definition."""
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    name = f"{GUEST_PREFIX}unbootable-{time.monotonic_ns()}"
    driver = LibvirtComputeDriver(running.uri, console_log_dir=tmp_path)
    try:
        with pytest.raises(DriverError, match=f"cannot start guest {name}: .*occinobr0"):
            driver.deploy(GuestSpec(name=name, cores=1, memory_mib=64, image="tiny",
                                    nics=(("52:54:00:0f:00:01", "occinobr0"),)))
        assert driver.state(name) == "absent"
    finally:
        driver.destroy(name)
        driver.close()
