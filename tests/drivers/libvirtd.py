"""Starting libvirtd (and virtlogd) by hand for the tests, as root on a host without systemd.

Debian's libvirt-daemon package installs the daemons but, without systemd, nothing starts them
and the ``libvirt-qemu`` user its QEMU driver looks up at start-up may not exist. This module
prepares what the daemons need, starts them, waits for ``qemu:///system`` to answer (the first
connect probes QEMU's capabilities, some 8 s) and stops them again -- only the ones it started.

Several test sessions may share the daemon (two engineers' pytest runs on one machine): each holds
a shared lock on :data:`USERS_LOCK` while it uses it, and only a session that finds itself the last
user may sweep leftovers and stop what it started. Starting and stopping both happen under the
exclusive :data:`STARTUP_LOCK`, so a session never reuses a daemon that is being stopped.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import libvirt

QEMU_URI = "qemu:///system"
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
START_TIMEOUT = 60.0
USERS_LOCK = Path("/run/occistack-tests-libvirtd.users.lock")
STARTUP_LOCK = Path("/run/occistack-tests-libvirtd.startup.lock")


class LibvirtdUnavailable(Exception):
    """libvirtd cannot run here; the message says why."""


@dataclass
class RunningLibvirtd:
    uri: str = QEMU_URI
    started_pids: list[int] = field(default_factory=list)  # empty when we reused a running daemon
    users_lock: object = None  # the open USERS_LOCK file, shared-locked while we use the daemon

    def release(self, sweep: Callable[[], None] | None = None) -> None:
        """This session is done with the daemon. If no other session uses it: run ``sweep`` (to
        remove whatever tests left behind) and stop the daemons this session started (libvirtd
        first: it talks to virtlogd)."""
        with _startup_lock():
            if self._last_user():
                if sweep is not None:
                    sweep()
                _terminate_all(self.started_pids)
            self.started_pids.clear()
            if self.users_lock is not None:
                self.users_lock.close()  # closing releases the lock
                self.users_lock = None

    def _last_user(self) -> bool:
        if self.users_lock is None:
            return True
        try:
            fcntl.flock(self.users_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@contextmanager
def _startup_lock() -> Iterator[None]:
    with open(STARTUP_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def start_libvirtd(workdir: Path) -> RunningLibvirtd:
    with _startup_lock():
        running = _start_unless_running(workdir)
        users_lock = open(USERS_LOCK, "a")
        fcntl.flock(users_lock, fcntl.LOCK_SH)  # one of the daemon's users from now on
        running.users_lock = users_lock
    return running


def _start_unless_running(workdir: Path) -> RunningLibvirtd:
    if _answers(QEMU_URI):
        return RunningLibvirtd()  # someone else's daemon: use it, leave it running
    missing = [tool for tool in ("libvirtd", "virtlogd", "qemu-system-x86_64") if shutil.which(tool) is None]
    if missing:
        raise LibvirtdUnavailable(f"{', '.join(missing)} not installed (apt-get install libvirt-daemon "
                                  "libvirt-daemon-driver-qemu qemu-system-x86)")
    if os.geteuid() != 0:
        raise LibvirtdUnavailable("starting libvirtd for qemu:///system needs root")
    _prepare_host()
    running = RunningLibvirtd()
    try:
        if not _listening("/run/libvirt/virtlogd-sock"):
            running.started_pids.append(_daemon("virtlogd", workdir))
        running.started_pids.insert(0, _daemon("libvirtd", workdir))
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(QEMU_URI):
            if time.monotonic() > deadline:
                log = Path("/var/log/libvirt/libvirtd.log")
                tail = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
                raise LibvirtdUnavailable(f"libvirtd did not answer on {QEMU_URI} within "
                                          f"{START_TIMEOUT:.0f} s; its log ends with:\n{tail}")
            time.sleep(0.5)
    except BaseException:
        _terminate_all(running.started_pids)
        raise
    return running


def _prepare_host() -> None:
    for directory in ("/var/log/libvirt", "/var/lib/libvirt", "/run/libvirt"):
        Path(directory).mkdir(parents=True, exist_ok=True)
    # The QEMU driver resolves its default user before it reads qemu.conf, so the user must
    # exist even though qemu.conf then says root.
    for group in ("kvm", "libvirt-qemu"):
        if subprocess.run(["getent", "group", group], capture_output=True).returncode != 0:
            subprocess.run(["groupadd", "-r", group], check=True)
    if subprocess.run(["getent", "passwd", "libvirt-qemu"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "-r", "-g", "libvirt-qemu", "-G", "kvm", "-d", "/var/lib/libvirt",
                        "-s", "/usr/sbin/nologin", "libvirt-qemu"], check=True)
    # QEMU runs as root so it can read kernels and write console logs wherever the tests put them.
    existing = QEMU_CONF.read_text() if QEMU_CONF.exists() else ""
    wanted = [line for line in ('user = "root"', 'group = "root"') if line not in existing]
    if wanted:
        QEMU_CONF.parent.mkdir(parents=True, exist_ok=True)
        QEMU_CONF.write_text(existing + "".join(line + "\n" for line in wanted))


def _daemon(binary: str, workdir: Path) -> int:
    """Start ``binary`` daemonised; its pid, read from the pid file it writes."""
    pid_file = workdir / f"{binary}.pid"
    pid_file.unlink(missing_ok=True)
    subprocess.run([binary, "-d", "-p", str(pid_file)], check=True, timeout=30)
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text().strip():
        if time.monotonic() > deadline:
            raise LibvirtdUnavailable(f"{binary} started but wrote no pid file {pid_file}")
        time.sleep(0.05)
    return int(pid_file.read_text().strip())


def _listening(socket_path: str) -> bool:
    """Whether a daemon accepts connections on ``socket_path`` (a stale socket file does not)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(socket_path)
        except OSError:
            return False
    return True


def _answers(uri: str) -> bool:
    try:
        libvirt.open(uri).close()
        return True
    except libvirt.libvirtError:
        return False


def _terminate_all(pids: list[int]) -> None:
    for pid in pids:
        _terminate(pid)


def _terminate(pid: int, grace: float = 15.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
