"""Two hypervisor hosts on one machine, for live migration: a libvirtd with QEMU/TCG in each of
two network namespaces, reachable from here and from each other over TCP (as two hosts of a
cluster reach each other on their management network).

Each daemon runs in a mount namespace of its own too, where libvirt's run, state and cache
directories are fresh tmpfs and /etc/libvirt is a directory of ours: its own unix socket,
domain list and configuration, no clash with the machine's libvirtd (tests/drivers/libvirtd.py)
nor with the other. Each has its own host UUID (libvirt refuses a migration to "the same host"),
listens on plain TCP without authentication (the tests' private bridge only), and writes QEMU's
console output to files itself (no virtlogd). Their guests run in their namespace, so a guest's
memory really travels over TCP from one namespace to the other.

Used by tests/drivers/test_live_migration.py and bench/migration.py; :func:`two_hosts` starts
everything and takes it all down again, daemons (by the pids it started) and guests included.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import libvirt

SUBNET = "10.252.{}.{}"
START_TIMEOUT = 60.0


class HostsUnavailable(Exception):
    """The two hosts cannot run here; the message says why."""


@dataclass
class MigrationHost:
    name: str
    address: str
    directory: Path
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"qemu+tcp://{self.address}/system"


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def _config(host: MigrationHost) -> Path:
    etc = host.directory / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (host.directory / "log").mkdir(exist_ok=True)
    (etc / "libvirtd.conf").write_text(
        f'listen_tls = 0\nlisten_tcp = 1\nlisten_addr = "{host.address}"\nauth_tcp = "none"\n'
        f'host_uuid = "{uuid.uuid4()}"\nlog_outputs = "3:file:{host.directory}/libvirtd.log"\n')
    (etc / "qemu.conf").write_text(f'user = "root"\ngroup = "root"\nstdio_handler = "file"\n'
                                   f'migration_address = "{host.address}"\n')
    return etc


def _start_daemon(host: MigrationHost, namespace: str) -> subprocess.Popen:
    etc = _config(host)
    inside = (f"mount -t tmpfs tmpfs /run/libvirt && mount -t tmpfs tmpfs /var/lib/libvirt && "
              f"mount -t tmpfs tmpfs /var/cache/libvirt && mount --bind {host.directory}/log /var/log/libvirt && "
              f"mount --bind {etc} /etc/libvirt && "
              f"exec libvirtd --listen -p {host.directory}/libvirtd.pid -f /etc/libvirt/libvirtd.conf")
    for directory in ("/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt", "/etc/libvirt"):
        Path(directory).mkdir(parents=True, exist_ok=True)
    output = open(host.directory / "libvirtd.out", "wb")
    return subprocess.Popen(["ip", "netns", "exec", namespace, "unshare", "-m", "--propagation", "private",
                             "sh", "-c", inside], stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(host: MigrationHost) -> None:
    # libvirt would print each refused attempt on stderr besides raising it.
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            libvirt.open(host.uri).close()
            return
        except libvirt.libvirtError:
            if host.process.poll() is not None or time.monotonic() > deadline:
                log = host.directory / "libvirtd.out"
                raise HostsUnavailable(f"libvirtd of {host.name} did not answer on {host.uri}: "
                                       f"{log.read_text(errors='replace')[-800:] if log.exists() else '(no output)'}")
            time.sleep(0.3)


def _stop(host: MigrationHost) -> None:
    """Its guests go first (their QEMU would outlive the daemon), then the daemon we started."""
    try:
        connection = libvirt.open(host.uri)
        for domain in connection.listAllDomains():
            if domain.isActive():
                domain.destroy()
            if domain.isPersistent():
                domain.undefine()
        connection.close()
    except libvirt.libvirtError:
        pass
    if host.process is None or host.process.poll() is not None:
        return
    os.killpg(host.process.pid, signal.SIGTERM)
    try:
        host.process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(host.process.pid, signal.SIGKILL)
        host.process.wait(5)


@contextmanager
def two_hosts(workdir: Path, subnet: int = 0) -> Iterator[tuple[MigrationHost, MigrationHost]]:
    """Hosts ``a`` (``10.252.<subnet>.2``) and ``b`` (``.3``), each a namespace with a libvirtd,
    on a bridge whose address here is ``.1``."""
    missing = [tool for tool in ("libvirtd", "qemu-system-x86_64", "ip", "unshare") if shutil.which(tool) is None]
    if missing:
        raise HostsUnavailable(f"{', '.join(missing)} not installed")
    if os.geteuid() != 0:
        raise HostsUnavailable("network and mount namespaces need root")
    tag = f"{os.getpid() % 100000}{subnet}"
    bridge, namespaces, hosts = f"omig{tag}", [], []
    try:
        _run("ip", "link", "add", bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{SUBNET.format(subnet, 1)}/24", "dev", bridge)
        _run("ip", "link", "set", bridge, "up")
        for number, name in ((2, "a"), (3, "b")):
            namespace = f"occimig-{tag}-{name}"
            _run("ip", "netns", "add", namespace)
            namespaces.append(namespace)
            outside = f"omig{tag}{name}"
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", f"{outside}i")
            _run("ip", "link", "set", f"{outside}i", "netns", namespace)
            _run("ip", "link", "set", outside, "master", bridge, "up")
            _run("ip", "-n", namespace, "link", "set", f"{outside}i", "name", "eth0")
            _run("ip", "-n", namespace, "addr", "add", f"{SUBNET.format(subnet, number)}/24", "dev", "eth0")
            _run("ip", "-n", namespace, "link", "set", "eth0", "up")
            _run("ip", "-n", namespace, "link", "set", "lo", "up")
            host = MigrationHost(f"host-{name}", SUBNET.format(subnet, number), workdir / name)
            host.process = _start_daemon(host, namespace)
            hosts.append(host)
        for host in hosts:
            _wait_for(host)
        yield hosts[0], hosts[1]
    finally:
        for host in hosts:
            _stop(host)
        for namespace in namespaces:
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True)


#: PID 1 of the migrated guest: say it booted, then count on the serial console, so a reboot
#: shows as a second BOOTED line and a pause as a gap, and the count shows it kept running.
TICKING_INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "OCCISTACK-BOOTED $(cut -d' ' -f1 /proc/uptime)" > /dev/console
i=0
while true; do i=$((i+1)); echo "OCCISTACK-TICK $i" > /dev/console; sleep 0.5; done
"""


def ticks(console: Path) -> list[int]:
    text = console.read_text(errors="replace") if console.exists() else ""
    return [int(line.split()[1]) for line in text.splitlines()
            if line.startswith("OCCISTACK-TICK ") and line.split()[1].isdigit()]


def boots(console: Path) -> int:
    text = console.read_text(errors="replace") if console.exists() else ""
    return text.count("OCCISTACK-BOOTED")


def wait_for_ticks(console: Path, at_least: int, timeout: float = 120.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = ticks(console)
        if seen and seen[-1] >= at_least:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"the guest's console {console} did not count to {at_least} within {timeout:.0f} s: "
                         f"{console.read_text(errors='replace')[-500:] if console.exists() else '(no console)'}")
