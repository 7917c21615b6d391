"""libvirtError becomes the project's exceptions in one place; a dropped connection is re-opened
once. These use libvirt's test driver: real errors from a real libvirt, no daemon needed."""

from __future__ import annotations

import libvirt
import pytest

from occistack.drivers.base import DriverError, GuestNotFound, InvalidGuestState
from occistack.drivers.libvirt import LibvirtComputeDriver, translated

DOMAIN_XML = ("<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
              "<os><type arch='x86_64'>hvm</type></os></domain>")


@pytest.fixture
def connection():
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    connection = libvirt.open("test:///default")
    yield connection
    connection.close()


def test_an_unknown_domain_becomes_guest_not_found(connection):
    with pytest.raises(GuestNotFound, match="cannot look up guest ghost: no such guest") as raised:
        with translated("look up guest ghost"):
            connection.lookupByName("ghost")
    assert isinstance(raised.value.__cause__, libvirt.libvirtError)


def test_an_operation_invalid_in_this_state_becomes_invalid_guest_state(connection):
    domain = connection.defineXML(DOMAIN_XML.format(name="errors-stopped"))
    try:
        with pytest.raises(InvalidGuestState, match="cannot power off guest errors-stopped: .*not running"):
            with translated("power off guest errors-stopped"):
                domain.destroy()  # it was never started
    finally:
        domain.undefine()


def test_anything_else_is_a_driver_error_with_libvirts_message(connection):
    with pytest.raises(DriverError, match="cannot define guest bad: .*") as raised:
        with translated("define guest bad"):
            connection.defineXML("<domain type='test'><name>bad</name></domain>")  # no memory, no os
    assert type(raised.value) is DriverError
    assert str(raised.value) != "cannot define guest bad: ", "libvirt's own message must be kept"


def test_errors_outside_libvirt_pass_through_untouched():
    with pytest.raises(KeyError):
        with translated("anything"):
            raise KeyError("not ours to translate")


class DroppingConnection:
    """A test:/// connection whose next call fails the way a dead libvirtd socket does."""

    def __init__(self, real) -> None:
        self.real = real
        self.drop_next = False
        self.alive = True

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if not callable(attribute) or name in ("isAlive", "close"):
            return attribute

        def call(*args, **kwargs):
            if self.drop_next:
                self.drop_next, self.alive = False, False
                error = libvirt.libvirtError("cannot recv data: Connection reset by peer")
                error.err = (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC,
                             "cannot recv data: Connection reset by peer", 2, None, None, None, 0, 0)
                raise error
            return attribute(*args, **kwargs)
        return call

    def isAlive(self) -> int:
        return int(self.alive)

    def close(self) -> int:
        return 0  # the keeper connection holds test:///default's state; closing it would reset


def test_a_dropped_connection_is_reopened_once_and_the_call_retried(connection):
    opened: list[DroppingConnection] = []
    daemon_down = False

    def opener(uri: str) -> DroppingConnection:
        if daemon_down:
            error = libvirt.libvirtError("Failed to connect socket")
            error.err = (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC, "Failed to connect socket to "
                         "'/run/libvirt/libvirt-sock': No such file or directory", 2, None, None, None, 0, 0)
            raise error
        opened.append(DroppingConnection(connection))
        return opened[-1]

    driver = LibvirtComputeDriver("test:///default", opener=opener)
    opened[0].drop_next = True
    assert driver.state("test") == "running"  # test:///default's own guest, read on the retry
    assert len(opened) == 2, "exactly one new connection"
    # A daemon that stays down is an error the caller sees after one retry, not a loop.
    opened[1].drop_next = True
    daemon_down = True
    with pytest.raises(DriverError, match="cannot list the guests of test:///default: Failed to connect socket"):
        driver.guest_states()
    assert len(opened) == 2


def test_a_refusal_on_a_live_connection_is_not_retried(connection):
    opened = []

    def opener(uri: str):
        opened.append(uri)
        return libvirt.open(uri)

    driver = LibvirtComputeDriver("test:///default", opener=opener)
    try:
        with pytest.raises(GuestNotFound):
            driver.power("ghost", "start")
    finally:
        driver.close()
    assert len(opened) == 1
