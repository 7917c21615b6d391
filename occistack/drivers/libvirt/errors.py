"""The one place where ``libvirt.libvirtError`` becomes a project exception.

Everything in this package that talks to libvirt does so inside :func:`translated`, so callers
above the driver only ever see :class:`DriverError` and its subclasses, each with a message that
says what was being done and what libvirt answered.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import libvirt

from occistack.drivers.base import DriverError, GuestNotFound, InvalidGuestState

Result = TypeVar("Result")

#: libvirt's ways of saying "no such domain" (the test driver and older daemons differ).
_NOT_FOUND = frozenset({libvirt.VIR_ERR_NO_DOMAIN})
#: ... and of saying "not in this state". The test driver reports most state refusals as
#: VIR_ERR_INTERNAL_ERROR, which is why the compute driver checks states before acting.
_WRONG_STATE = frozenset({libvirt.VIR_ERR_OPERATION_INVALID})


def translate(error: libvirt.libvirtError, action: str) -> DriverError:
    """The project exception for ``error``, raised while doing ``action`` (e.g. "start guest vm1")."""
    code = error.get_error_code()
    message = error.get_error_message() or str(error)
    if code in _NOT_FOUND:
        return GuestNotFound(f"cannot {action}: no such guest ({message})")
    if code in _WRONG_STATE:
        return InvalidGuestState(f"cannot {action}: {message}")
    if code == libvirt.VIR_ERR_NO_SUPPORT:
        return DriverError(f"cannot {action}: this hypervisor connection does not support it ({message})")
    return DriverError(f"cannot {action}: {message}")


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Run the body; a libvirtError leaving it becomes the matching DriverError."""
    try:
        yield
    except libvirt.libvirtError as error:
        raise translate(error, action) from error


def translating(action: str) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Decorator form of :func:`translated` for functions with a fixed action."""
    def decorate(function: Callable[..., Result]) -> Callable[..., Result]:
        @functools.wraps(function)
        def wrapper(*args, **kwargs) -> Result:
            with translated(action):
                return function(*args, **kwargs)
        return wrapper
    return decorate


def connection_dropped(error: libvirt.libvirtError, connection) -> bool:
    """Whether ``error`` means the connection to libvirtd is gone (rather than a refusal).

    libvirt reports a dead socket as a system or internal error; only the connection's own
    liveness tells it apart from a daemon-side internal error, so ask it."""
    if error.get_error_code() not in (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR,
                                      libvirt.VIR_ERR_INVALID_CONN, libvirt.VIR_ERR_RPC):
        return False
    try:
        return not connection.isAlive()
    except libvirt.libvirtError:
        return True
