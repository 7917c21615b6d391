"""The power driver contract, run against the fake and against IpmiPowerDriver talking to two
independent BMCs: OpenIPMI's ipmi_sim and virtualbmc in front of a real QEMU domain.

Each backend also says what the machine really did, read past the BMC (the fake's records,
ipmi_sim's chassis control state files, libvirt), so a driver that only believed its BMC's
answers could not pass. What differs between the BMCs is declared on the backend and explained
in tests/drivers/bmcfixtures.py.
"""

from __future__ import annotations

import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import libvirt
import pytest

from occistack.drivers.power import (
    BOOT_DEVICES, BmcAddress, BmcAuthenticationFailed, BmcUnreachable, FakePowerDriver, PowerDriver, PowerError,
    UnknownBootDevice)
from tests.drivers.bmcfixtures import (
    USERNAME, IpmiSim, VirtualBmc, domain_behind_vbmc, free_udp_port, started_ipmi_sim)
from tests.drivers.conftest import GUEST_PREFIX

#: how long the driver may wait for "no answer" in these tests (the contract's point is that it
#: is configurable and honoured); ordinary calls get more, as the machine is shared and noisy
UNREACHABLE_TIMEOUT = 3.0
CALL_TIMEOUT = 15.0
CONFIRM_TIMEOUT = 30.0

#: ipmi_sim's stored boot selector -> our device name (IPMI boot flags, data 2, bits 2-5)
_IPMI_SELECTOR_TO_DEVICE = {1: "network", 2: "disk", 5: "cdrom", 6: "bios"}
#: libvirt's <os><boot dev=...> -> our device name
_LIBVIRT_BOOT_TO_DEVICE = {"hd": "disk", "network": "network", "cdrom": "cdrom"}


def ipmi_driver(timeout: float = CALL_TIMEOUT):
    from occistack.drivers.power.ipmi import IpmiPowerDriver

    return IpmiPowerDriver(timeout=timeout, confirm_timeout=CONFIRM_TIMEOUT, poll_interval=0.2)


@dataclass
class PowerBackend:
    """A power driver under test, one machine behind a BMC, and the truth about that machine."""

    kind: str
    driver: PowerDriver
    bmc: BmcAddress
    #: the machine's power as the machine itself shows it ("on"/"off")
    machine_power: Callable[[], str]
    #: the boot device the machine will use next, as the machine's side stores it
    stored_boot_device: Callable[[], str | None]
    #: a driver whose calls give up after UNREACHABLE_TIMEOUT
    impatient_driver: PowerDriver
    #: take the BMC away / bring it back (network loss, BMC reboot)
    take_bmc_away: Callable[[], None]
    bring_bmc_back: Callable[[], None]
    #: how often the machine was reset, where the machine's side counts it
    resets: Callable[[], int] | None = None
    #: whether the machine's "OS" obeys the ACPI power button (SeaBIOS does not)
    obeys_soft_off: bool = True
    #: whether the BMC keeps the boot device readable over IPMI (ipmi_sim drops the valid bit)
    reads_back_boot_device: bool = True
    #: boot devices the BMC accepts but ignores (virtualbmc has no firmware setup)
    ignored_boot_devices: tuple[str, ...] = ()

    def wrong_password(self) -> BmcAddress:
        return BmcAddress(self.bmc.address, port=self.bmc.port, username=self.bmc.username,
                          password=self.bmc.password + "-wrong")

    def dead_bmc(self) -> BmcAddress:
        """A port on which nothing listens."""
        return BmcAddress("127.0.0.1", port=free_udp_port(), username=USERNAME, password="whatever")


# --- backends ------------------------------------------------------------------------------------

def fake_backend() -> PowerBackend:
    driver = FakePowerDriver()
    bmc = BmcAddress("192.0.2.10", username=USERNAME, password="secret")
    machine = driver.add_machine(bmc)
    return PowerBackend(
        "fake", driver, bmc, machine_power=lambda: machine.power,
        stored_boot_device=lambda: machine.boot_device, impatient_driver=driver,
        take_bmc_away=lambda: driver.set_reachable(bmc, False),
        bring_bmc_back=lambda: driver.set_reachable(bmc, True), resets=lambda: machine.resets)


def ipmi_sim_backend(workdir) -> tuple[PowerBackend, IpmiSim]:
    sim = started_ipmi_sim(workdir)
    backend = PowerBackend(
        "ipmi_sim", ipmi_driver(), sim.bmc, machine_power=sim.power,
        stored_boot_device=lambda: _IPMI_SELECTOR_TO_DEVICE.get(sim.stored_boot_selector()),
        impatient_driver=ipmi_driver(UNREACHABLE_TIMEOUT), take_bmc_away=sim.stop, bring_bmc_back=sim.start,
        resets=sim.resets, reads_back_boot_device=False)
    return backend, sim


@dataclass
class VirtualNode:
    """A libvirt domain on qemu:///system with a virtual BMC in front of it."""

    connection: libvirt.virConnect
    domain: libvirt.virDomain
    vbmc: VirtualBmc

    def power(self) -> str:
        return "on" if self.domain.isActive() else "off"

    def next_boot_device(self) -> str | None:
        """From the persistent definition: what the guest boots from when it is next started."""
        boot = ET.fromstring(self.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).find("os/boot")
        return None if boot is None else _LIBVIRT_BOOT_TO_DEVICE.get(boot.get("dev"))

    def live_xml(self) -> str:
        return self.domain.XMLDesc(0)

    def switch_off(self) -> None:
        if self.domain.isActive():
            self.domain.destroy()


@pytest.fixture(scope="module")
def virtual_node(request, tmp_path_factory):
    with domain_behind_vbmc(request.getfixturevalue("libvirtd"), tmp_path_factory.mktemp("vbmc"),
                            f"{GUEST_PREFIX}bmc-{uuid.uuid4().hex[:8]}") as (connection, domain, vbmc):
        yield VirtualNode(connection, domain, vbmc)


def virtualbmc_backend(node: VirtualNode) -> PowerBackend:
    node.switch_off()
    return PowerBackend(
        "virtualbmc", ipmi_driver(), node.vbmc.bmc, machine_power=node.power,
        stored_boot_device=node.next_boot_device, impatient_driver=ipmi_driver(UNREACHABLE_TIMEOUT),
        take_bmc_away=node.vbmc.pause, bring_bmc_back=node.vbmc.resume,
        obeys_soft_off=False, ignored_boot_devices=("bios",))


@pytest.fixture(params=["fake", "ipmi_sim", "virtualbmc"])
def backend(request, tmp_path):
    if request.param == "fake":
        yield fake_backend()
    elif request.param == "ipmi_sim":
        ipmi_backend, sim = ipmi_sim_backend(tmp_path / "ipmi_sim")
        try:
            yield ipmi_backend
        finally:
            sim.stop()
    else:
        node = request.getfixturevalue("virtual_node")
        try:
            yield virtualbmc_backend(node)
        finally:
            node.vbmc.resume()  # in case a test failed while the BMC was away
            node.switch_off()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --- the contract --------------------------------------------------------------------------------

def test_power_on_switches_the_machine_on(backend):
    assert backend.driver.status(backend.bmc) == "off"
    backend.driver.power_off(backend.bmc)  # off already: nothing to do, no error
    backend.driver.power_on(backend.bmc)
    assert backend.driver.status(backend.bmc) == "on"
    assert backend.machine_power() == "on"
    backend.driver.power_on(backend.bmc)  # on already: left alone
    assert backend.machine_power() == "on"


def test_power_off_is_confirmed_when_it_returns(backend):
    backend.driver.power_on(backend.bmc)
    backend.driver.power_off(backend.bmc)
    assert backend.machine_power() == "off"
    assert backend.driver.status(backend.bmc) == "off"


def test_reset_keeps_a_running_machine_on(backend):
    backend.driver.power_on(backend.bmc)
    backend.driver.reset(backend.bmc)
    assert backend.driver.status(backend.bmc) == "on"
    assert backend.machine_power() == "on"
    if backend.resets is not None:
        assert backend.resets() == 1


def test_reset_of_a_machine_that_is_off_is_refused(backend):
    with pytest.raises(PowerError, match="it is off"):
        backend.driver.reset(backend.bmc)
    assert backend.machine_power() == "off"


def test_soft_off_asks_the_operating_system(backend):
    backend.driver.power_on(backend.bmc)
    backend.driver.soft_off(backend.bmc)
    if backend.obeys_soft_off:
        assert wait_for(lambda: backend.driver.status(backend.bmc) == "off")
        assert backend.machine_power() == "off"
    else:
        # SeaBIOS ignores the ACPI power button: accepted, and the machine runs on
        time.sleep(0.5)
        assert backend.machine_power() == "on"
        backend.driver.power_off(backend.bmc)


def test_soft_off_of_a_machine_that_is_off_does_nothing(backend):
    backend.driver.soft_off(backend.bmc)
    assert backend.machine_power() == "off"
    assert backend.driver.status(backend.bmc) == "off"


@pytest.mark.parametrize("device", BOOT_DEVICES)
def test_boot_device_is_set_and_read_back(backend, device):
    before = backend.stored_boot_device()
    backend.driver.set_boot_device(backend.bmc, device)
    if device in backend.ignored_boot_devices:
        assert backend.stored_boot_device() == before
        return
    assert backend.stored_boot_device() == device
    if backend.reads_back_boot_device:
        assert backend.driver.boot_device(backend.bmc) == device
    else:
        assert backend.driver.boot_device(backend.bmc) is None  # ipmi_sim drops the valid bit


def test_power_on_with_a_boot_device_sets_it_first(backend):
    backend.driver.set_boot_device(backend.bmc, "disk")
    backend.driver.power_on(backend.bmc, boot_device="network")
    assert backend.machine_power() == "on"
    assert backend.stored_boot_device() == "network"


def test_an_unknown_boot_device_is_refused_naming_the_accepted_ones(backend):
    with pytest.raises(UnknownBootDevice) as refused:
        backend.driver.set_boot_device(backend.bmc, "floppy")
    assert "'floppy'" in str(refused.value)
    assert all(device in str(refused.value) for device in BOOT_DEVICES)
    with pytest.raises(UnknownBootDevice):
        backend.driver.power_on(backend.bmc, boot_device="usb")
    assert backend.machine_power() == "off"


def test_a_wrong_password_is_an_authentication_failure(backend):
    with pytest.raises(BmcAuthenticationFailed, match=USERNAME):
        backend.driver.power_on(backend.wrong_password())
    assert backend.machine_power() == "off"
    assert backend.driver.status(backend.bmc) == "off"  # the right password still works


def test_a_dead_bmc_is_unreachable_within_the_timeout(backend):
    started = time.monotonic()
    with pytest.raises(BmcUnreachable):
        backend.impatient_driver.power_off(backend.dead_bmc())  # fencing: must never pass silently
    assert time.monotonic() - started < UNREACHABLE_TIMEOUT + 2.0


def test_a_bmc_that_went_away_and_came_back_answers_again(backend):
    driver = backend.impatient_driver
    assert driver.status(backend.bmc) == "off"
    backend.take_bmc_away()
    with pytest.raises(BmcUnreachable):
        driver.status(backend.bmc)
    backend.bring_bmc_back()
    assert driver.status(backend.bmc) == "off"


def test_concurrent_calls_to_one_bmc_all_get_answers(backend):
    answers: list[str] = []
    errors: list[Exception] = []

    def ask() -> None:
        try:
            answers.append(backend.driver.status(backend.bmc))
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert answers == ["off"] * 4


# --- a bare-metal node that really boots -----------------------------------------------------------

def test_a_virtual_node_boots_from_disk_through_its_bmc(virtual_node):
    virtual_node.switch_off()
    driver = ipmi_driver()
    bmc = virtual_node.vbmc.bmc
    driver.set_boot_device(bmc, "network")
    assert "<boot dev='network'/>" in virtual_node.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    try:
        driver.power_on(bmc, boot_device="disk")
        state, _reason = virtual_node.domain.state()
        assert state == libvirt.VIR_DOMAIN_RUNNING
        assert "<boot dev='hd'/>" in virtual_node.live_xml()
        driver.power_off(bmc)
        assert not virtual_node.domain.isActive()
    finally:
        virtual_node.switch_off()
