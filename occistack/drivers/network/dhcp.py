"""DHCP for isolated guest networks: one dnsmasq per network, CloudStack's virtual-router role.

The range is ``static``: dnsmasq answers only the MACs listed in the network's hosts file, with
the address the management plane allocated to that NIC, so a guest can never pick up someone
else's address. Adding or removing a NIC rewrites the hosts file and sends SIGHUP, on which
dnsmasq rereads it; we wait until its log says it has, so a caller that returns has a server that
knows the NIC.

Each network has a directory under ``state_dir`` with the hosts file, the lease file, the log and
the pid. The pid file lets a restarted agent find (and stop, or keep) the dnsmasq a previous run
started: with ``--no-daemon`` dnsmasq writes none itself.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from occistack.drivers.base import DriverError
from occistack.drivers.network.common import normalized_mac, short_digest

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class DhcpConfig:
    """What one network's dnsmasq was started with; a change means a restart."""

    interface: str
    cidr: str
    server_address: str
    namespace: str | None
    gateway: str | None


class DhcpService:
    """Starts, reloads and stops one dnsmasq per guest network.

    ``lease_time`` is in dnsmasq's syntax (``1h``, ``45m``, ``infinite``); ``ready_timeout`` bounds
    how long we wait for dnsmasq to start or to reread its hosts file.
    """

    def __init__(self, state_dir: str | Path, *, lease_time: str = "1h", dnsmasq: str = "dnsmasq",
                 ready_timeout: float = 5.0) -> None:
        self.state_dir = Path(state_dir)
        self.lease_time = lease_time
        self.dnsmasq = dnsmasq
        self.ready_timeout = ready_timeout
        self._children: dict[str, subprocess.Popen] = {}  # reaped by stop()

    # --- the server --------------------------------------------------------------------------

    def serve(self, network: str, interface: str, cidr: str, server_address: str,
              namespace: str | None = None, gateway: str | None = None) -> None:
        """Run dnsmasq for ``network`` on ``interface`` (inside ``namespace`` when given), which
        already carries ``server_address``. Idempotent; a changed configuration restarts it, the
        hosts file is kept. Without ``gateway`` clients are told of no router."""
        subnet = _subnet(network, cidr)
        for what, address in (("server address", server_address), ("gateway", gateway)):
            if address is not None and _address(network, what, address) not in subnet:
                raise DriverError(f"network {network}: {what} {address} is outside {subnet}")
        config = DhcpConfig(interface, str(subnet), server_address, namespace, gateway)
        directory = self._directory(network)
        if self.pid(network) is not None:
            if self._config(directory) == config:
                return
            self._kill(network, directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(asdict(config)))
        hosts = directory / "hosts"
        if not hosts.exists():
            hosts.write_text("")
        log = directory / "dnsmasq.log"
        log.write_text("")
        command = [
            self.dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0", "--bind-interfaces",
            f"--interface={interface}", "--except-interface=lo",
            f"--dhcp-range={subnet.network_address},static,{subnet.netmask},{self.lease_time}",
            f"--dhcp-hostsfile={hosts}", f"--dhcp-leasefile={directory / 'leases'}",
            f"--log-facility={log}",
            f"--dhcp-option=option:router{',' + gateway if gateway else ''}",
        ]
        if namespace is not None:
            # ip netns exec execs dnsmasq in place, so the pid we get is dnsmasq's own.
            command = ["ip", "netns", "exec", namespace, *command]
        with open(directory / "stderr", "w") as stderr:
            try:
                child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
            except OSError as error:
                raise DriverError(f"cannot run {self.dnsmasq} for network {network}: {error}") from error
        self._children[network] = child
        (directory / "pid").write_text(str(child.pid))
        try:
            self._wait_for_reads(network, directory, already=0)
        except DriverError:
            self._kill(network, directory)
            raise

    def stop(self, network: str) -> None:
        """Stop the network's dnsmasq and remove its files; an absent server is not an error."""
        directory = self._directory(network)
        self._kill(network, directory)
        shutil.rmtree(directory, ignore_errors=True)

    def pid(self, network: str) -> int | None:
        """The pid of the network's running dnsmasq, or None."""
        directory = self._directory(network)
        try:
            pid = int((directory / "pid").read_text())
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        # A recycled pid belongs to something else: only a dnsmasq reading our hosts file is ours.
        if f"--dhcp-hostsfile={directory / 'hosts'}".encode() not in command_line:
            return None
        if _is_zombie(pid):
            return None
        return pid

    # --- the hosts ---------------------------------------------------------------------------

    def add_host(self, network: str, mac: str, ip: str, hostname: str | None = None) -> None:
        """Hand ``ip`` (and ``hostname``) to ``mac``; replaces that MAC's earlier entry."""
        mac = normalized_mac(mac)
        config = self._running_config(network)
        if _address(network, "address", ip) not in ipaddress.ip_network(config.cidr):
            raise DriverError(f"network {network}: address {ip} for {mac} is outside {config.cidr}")
        if hostname is not None and not _HOSTNAME.match(hostname):
            raise DriverError(f"hostname {hostname!r} is not a DNS label (letters, digits, inner hyphens, "
                              "at most 63 characters)")
        hosts = self.hosts(network)
        taken_by = next((other for other, (address, _name) in hosts.items() if address == ip and other != mac), None)
        if taken_by is not None:
            raise DriverError(f"network {network}: address {ip} is already handed to {taken_by}")
        hosts[mac] = (ip, hostname)
        self._write_hosts(network, hosts)

    def remove_host(self, network: str, mac: str) -> None:
        """Forget ``mac``; an unknown MAC or a network without a server is not an error (a
        stopped server's hosts file forgets it too, so a restarted one does not hand it out)."""
        mac = normalized_mac(mac)
        hosts = self.hosts(network)
        if hosts.pop(mac, None) is not None:
            self._write_hosts(network, hosts)

    def hosts(self, network: str) -> dict[str, tuple[str, str | None]]:
        """MAC → (address, hostname or None) as the hosts file says."""
        try:
            text = (self._directory(network) / "hosts").read_text()
        except FileNotFoundError:
            return {}
        entries: dict[str, tuple[str, str | None]] = {}
        for line in text.splitlines():
            mac, ip, *name = line.split(",")
            entries[mac] = (ip, name[0] if name else None)
        return entries

    # --- the parts ---------------------------------------------------------------------------

    def _write_hosts(self, network: str, hosts: dict[str, tuple[str, str | None]]) -> None:
        directory = self._directory(network)
        lines = [",".join([mac, ip] + ([name] if name else [])) for mac, (ip, name) in sorted(hosts.items())]
        reads_before = self._reads(directory)
        temporary = directory / "hosts.new"
        temporary.write_text("".join(line + "\n" for line in lines))
        # A rename is atomic, so dnsmasq never rereads a half-written file.
        temporary.replace(directory / "hosts")
        pid = self.pid(network)
        if pid is not None:
            os.kill(pid, signal.SIGHUP)
            self._wait_for_reads(network, directory, already=reads_before)

    def _wait_for_reads(self, network: str, directory: Path, already: int) -> None:
        """Wait until dnsmasq's log shows one more read of the hosts file than ``already``."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._reads(directory) > already:
                return
            if not self._alive(network):
                stderr = (directory / "stderr").read_text().strip() if (directory / "stderr").exists() else ""
                raise DriverError(f"dnsmasq for network {network} exited: {stderr or 'no message'}")
            time.sleep(0.02)
        raise DriverError(f"dnsmasq for network {network} did not read its hosts file within "
                          f"{self.ready_timeout} s")

    @staticmethod
    def _reads(directory: Path) -> int:
        try:
            log = (directory / "dnsmasq.log").read_text()
        except FileNotFoundError:
            return 0
        return log.count(f"read {directory / 'hosts'}\n")

    def _alive(self, network: str) -> bool:
        child = self._children.get(network)
        if child is not None and child.poll() is None:
            # Our own child may not have exec'd dnsmasq yet, so its command line proves nothing.
            return True
        return self.pid(network) is not None

    def _running_config(self, network: str) -> DhcpConfig:
        config = self._config(self._directory(network)) if self.pid(network) is not None else None
        if config is None:
            raise DriverError(f"network {network} has no DHCP server; serve() it first")
        return config

    @staticmethod
    def _config(directory: Path) -> DhcpConfig | None:
        try:
            return DhcpConfig(**json.loads((directory / "config.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _kill(self, network: str, directory: Path) -> None:
        child = self._children.pop(network, None)
        if child is not None:
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(timeout=self.ready_timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        # One started by an earlier run of the agent (or another DhcpService on the same
        # directory) is not our child: signal it and watch /proc instead.
        pid = self.pid(network)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + self.ready_timeout
            while self.pid(network) is not None and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.pid(network) is not None:
                os.kill(pid, signal.SIGKILL)
        (directory / "pid").unlink(missing_ok=True)

    def _directory(self, network: str) -> Path:
        # Network names are the management plane's; only tame ones become file names as they are.
        name = network if _SAFE_NAME.match(network) else f"net-{short_digest(network)}"
        return self.state_dir / name


def _subnet(network: str, cidr: str) -> ipaddress.IPv4Network:
    try:
        subnet = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise DriverError(f"network {network}: {cidr!r} is not a CIDR such as 10.1.1.0/24") from None
    if subnet.version != 4:
        raise DriverError(f"network {network}: {cidr} is IPv6; DHCP here serves IPv4 subnets only")
    return subnet


def _address(network: str, what: str, address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        raise DriverError(f"network {network}: {what} {address!r} is not an IP address") from None


def _is_zombie(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the parenthesised command name, which may itself hold spaces.
    return status.rsplit(")", 1)[1].split()[0] == "Z"
