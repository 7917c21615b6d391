"""A libvirt connection shared by the threads of an agent, re-opened once when it drops.

libvirt connections are themselves thread-safe, so calls on one run concurrently; what needs a
lock is replacing the connection after it died, so that two threads noticing at once open one new
connection, not two. An operation that fails because the connection dropped is retried once on a
fresh connection -- once, not in a loop: a daemon that is down stays an error the caller sees.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, TypeVar

import libvirt

from occistack.drivers.base import DriverError
from occistack.drivers.libvirt.errors import connection_dropped, translated

log = logging.getLogger(__name__)
Result = TypeVar("Result")
Opener = Callable[[str], Any]


def _silence_default_error_handler() -> None:
    """libvirt prints every error to stderr besides raising it; ours are raised and translated."""
    libvirt.registerErrorHandler(lambda _context, _error: None, None)


class Connection:
    def __init__(self, uri: str, opener: Opener = libvirt.open) -> None:
        _silence_default_error_handler()
        self.uri = uri
        self._opener = opener
        self._lock = threading.Lock()
        self._connection = self._open()

    def _open(self):
        with translated(f"connect to {self.uri}"):
            connection = self._opener(self.uri)
        if connection is None:  # very old bindings returned None instead of raising
            raise DriverError(f"cannot connect to {self.uri}")
        return connection

    @property
    def current(self):
        with self._lock:
            return self._connection

    def run(self, action: str, operation: Callable[[Any], Result]) -> Result:
        """``operation(connection)``, with libvirt errors translated; retried once on a new
        connection when the first attempt failed because the connection dropped."""
        connection = self.current
        with translated(action):
            try:
                return operation(connection)
            except libvirt.libvirtError as error:
                if not connection_dropped(error, connection):
                    raise
                log.warning("the connection to %s dropped during %r (%s); re-opening it once",
                            self.uri, action, error.get_error_message())
                connection = self._replace(connection)
            return operation(connection)

    def _replace(self, dead) -> Any:
        with self._lock:
            if self._connection is dead:  # another thread may have replaced it already
                try:
                    dead.close()
                except libvirt.libvirtError:
                    pass  # it is dead; closing is a courtesy
                self._connection = self._opener(self.uri)
            return self._connection

    def close(self) -> None:
        with self._lock:
            try:
                self._connection.close()
            except libvirt.libvirtError:
                pass
