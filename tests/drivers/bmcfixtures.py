"""Real BMCs for the power driver tests: OpenIPMI's ``ipmi_sim`` and virtualbmc.

Two implementations that share no code with each other (virtualbmc is built on pyghmi's BMC
server, ``ipmi_sim`` is OpenIPMI's C simulator), so the IPMI driver is proven against more than
the library it is written with.

**ipmi_sim** runs from a lan.conf and a command file generated in a temp dir, on a free UDP port
on 127.0.0.1 (``-n``: no console; ``-s``: its persistent state in the temp dir too). It speaks
RMCP+ correctly, so pyghmi needs no cipher suite fix against it. Left alone it refuses chassis
control ("Invalid data field in request"): it delegates power to an external *chassis control
program* (lan.conf ``chassis_control "<program> <device>"``), which it runs as ``<program>
<device> get power`` or ``... set power 1`` (also ``set reset 1``, ``set shutdown 1`` for a soft
off, ``set boot pxe``). Ours is a shell script keeping the machine's state in files next to it,
so the simulator really tracks power: ``get power`` answers what the last ``set`` left, except
that a hard power off takes effect 0.7 s later, as on a real machine. It obeys ``shutdown`` at
once (an operating system that honours ACPI) and refuses it for a machine that is off, as some
BMCs do. A known limit of ipmi_sim 2.0.33: it keeps the boot device selector of "Set System
Boot Options" but drops the flags byte, valid bit included, so reading the boot device back over
IPMI always says "no override"; tests read the stored selector instead
(:meth:`IpmiSim.stored_boot_selector`).

**virtualbmc** (vbmcd in the foreground, its config in a temp dir) fronts a real, diskless QEMU
domain on qemu:///system that sits in SeaBIOS: power on starts the QEMU process, power off
destroys it, a boot device lands in the domain's persistent XML as ``<os><boot dev=.../>`` (the
running domain keeps its old one until it is next started). SeaBIOS ignores the ACPI power
button, so a soft off leaves the domain running. virtualbmc has no "boot into firmware setup":
it answers OK to boot device ``bios`` and changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from occistack.drivers.power import BmcAddress

USERNAME = "admin"
#: how long ipmi_sim's simulated machine stays on after a hard power off (a real one takes a
#: moment too): a driver that did not wait for the BMC to confirm "off" would be caught
POWER_OFF_LAG_NS = 700_000_000
PASSWORD = "occitest-secret"
START_TIMEOUT = 15.0

#: An IPMI 1.5 "Get Channel Authentication Capabilities" request (RMCP header, an
#: unauthenticated session header, the message with its two checksums): every BMC answers it
#: before any log-in, so an answer means the BMC is listening.
_CHANNEL_AUTH_CAPABILITIES = bytes.fromhex("0600ff07" "00" "00000000" "00000000" "09"
                                           "2018c8" "81" "00" "38" "8e04" "b5")


class BmcUnavailable(Exception):
    """The BMC simulator cannot run here; the message says why."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Until a BMC on ``port`` answers the pre-log-in probe; BmcUnavailable if it does not."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            probe.sendto(_CHANNEL_AUTH_CAPABILITIES, ("127.0.0.1", port))
            try:
                probe.recvfrom(512)
                return
            except (socket.timeout, ConnectionRefusedError):
                time.sleep(0.1)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
    raise BmcUnavailable(f"no BMC answered on 127.0.0.1:{port} within {timeout:g} s "
                         f"(process exit code {process.poll()}); its log ends with:\n{tail}")


def stop_process(process: subprocess.Popen | None, grace: float = 10.0) -> None:
    """Stop a process (and its process group) that a fixture started."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(grace)


# --- OpenIPMI's ipmi_sim -------------------------------------------------------------------------

_CHASSIS_CONTROL_SCRIPT = """\
#!/bin/sh
# Chassis control program for ipmi_sim: $1 is the device, $2 get|set, then names (get) or
# name/value pairs (set). The machine's state lives in files next to this script.
cd "$(dirname "$0")"
echo "$*" >> chassis.calls
now=$(date +%s%N)
# a machine takes a moment to lose power after the BMC cut it: off-at holds when (in ns)
if [ -f off-at ] && [ "$now" -ge "$(cat off-at)" ]; then
    echo 0 > power
    rm off-at
fi
shift
operation=$1
shift
case $operation in
get)
    for name in "$@"; do
        case $name in
        power) echo "power:$(cat power)" ;;
        boot) echo "boot:$(cat boot)" ;;
        *) echo "unsupported parameter $name"; exit 1 ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        case $1 in
        power)
            if [ "$2" = 0 ]; then
                [ "$(cat power)" = 1 ] && echo $((now + POWER_OFF_LAG_NS)) > off-at
            else
                rm -f off-at
                echo 1 > power
            fi ;;
        reset) [ "$(cat power)" = 1 ] && echo reset >> resets ;;
        shutdown)
            # like BMCs that refuse to press the power button of a machine that is off
            [ "$(cat power)" = 1 ] || { echo "the machine is off"; exit 1; }
            rm -f off-at
            echo 0 > power ;;  # an operating system that obeys ACPI at once
        boot) echo "$2" > boot ;;
        *) echo "unsupported parameter $1"; exit 1 ;;
        esac
        shift 2
    done ;;
*) exit 1 ;;
esac
"""


@dataclass
class IpmiSim:
    """One ipmi_sim process and the machine its chassis control script simulates."""

    workdir: Path
    port: int = field(default_factory=free_udp_port)
    process: subprocess.Popen | None = None

    @property
    def bmc(self) -> BmcAddress:
        return BmcAddress("127.0.0.1", port=self.port, username=USERNAME, password=PASSWORD)

    def start(self) -> None:
        binary = shutil.which("ipmi_sim")
        if binary is None:
            raise BmcUnavailable("ipmi_sim not installed (apt-get install openipmi)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "state").mkdir(exist_ok=True)
        script = self.workdir / "chassis-control"
        if not script.exists():
            script.write_text(_CHASSIS_CONTROL_SCRIPT.replace("POWER_OFF_LAG_NS", str(POWER_OFF_LAG_NS)))
            script.chmod(0o755)
            (self.workdir / "power").write_text("0\n")
            (self.workdir / "boot").write_text("default\n")
        (self.workdir / "lan.conf").write_text(textwrap.dedent(f"""\
            name "occitest"
            set_working_mc 0x20
              startlan 1
                addr 127.0.0.1 {self.port}
                priv_limit admin
                allowed_auths_callback none md5
                allowed_auths_user md5
                allowed_auths_operator md5
                allowed_auths_admin md5
                guid {uuid.uuid4().hex}
              endlan
              chassis_control "{script} 0x20"
              user 2 true "{USERNAME}" "{PASSWORD}" admin 10 md5
            """))
        # the BMC itself: IPMB address 0x20, no SDRs, a made-up manufacturer and product
        (self.workdir / "sim.emu").write_text(textwrap.dedent("""\
            mc_setbmc 0x20
            mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
            mc_enable 0x20
            """))
        log = self.workdir / "ipmi_sim.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [binary, "-n", "-c", str(self.workdir / "lan.conf"), "-f", str(self.workdir / "sim.emu"),
                 "-s", str(self.workdir / "state")],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_listening(self.port, self.process, log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    # what the simulated machine says about itself, read past the BMC

    def power(self) -> str:
        off_at = self.workdir / "off-at"
        with contextlib.suppress(FileNotFoundError, ValueError):
            if time.time_ns() >= int(off_at.read_text()):
                return "off"
        return "on" if (self.workdir / "power").read_text().strip() == "1" else "off"

    def resets(self) -> int:
        resets = self.workdir / "resets"
        return len(resets.read_text().split()) if resets.exists() else 0

    def stored_boot_selector(self) -> int:
        """The boot device selector ipmi_sim stored (IPMI boot flags parameter 5, data byte 2,
        bits 2-5): 1 PXE, 2 disk, 5 CD/DVD, 6 BIOS setup. Read over IPMI with a raw command,
        because the valid bit that would make it readable the normal way is not kept."""
        from pyghmi.ipmi.command import Command

        bmc = self.bmc
        answer = Command(bmc=bmc.address, port=bmc.port, userid=bmc.username.encode(),
                         password=bmc.password.encode()).xraw_command(netfn=0, command=9, data=(5, 0, 0))
        return (answer["data"][3] >> 2) & 0x0F


# --- virtualbmc in front of a libvirt domain -------------------------------------------------------

def tiny_domain_xml(name: str) -> str:
    """A diskless TCG guest: with nothing to boot, it sits in SeaBIOS, using little CPU."""
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type></os><on_poweroff>destroy</on_poweroff>"
            "<devices/>"
            "</domain>")


@dataclass
class VirtualBmc:
    """vbmcd with one virtual BMC for one libvirt domain."""

    workdir: Path
    domain_name: str
    libvirt_uri: str
    port: int = field(default_factory=free_udp_port)
    process: subprocess.Popen | None = None
    paused: bool = False

    @property
    def bmc(self) -> BmcAddress:
        return BmcAddress("127.0.0.1", port=self.port, username=USERNAME, password=PASSWORD)

    def start(self) -> None:
        tools = Path(sys.executable).parent
        if not (tools / "vbmcd").exists():
            raise BmcUnavailable(f"vbmcd not installed in {tools} (pip install virtualbmc)")
        (self.workdir / "conf").mkdir(parents=True, exist_ok=True)
        config = self.workdir / "virtualbmc.conf"
        config.write_text(textwrap.dedent(f"""\
            [default]
            config_dir = {self.workdir / "conf"}
            pid_file = {self.workdir / "vbmcd.pid"}
            server_port = {free_tcp_port()}
            [log]
            logfile = {self.workdir / "vbmcd.log"}
            debug = true
            """))
        self._environment = {**os.environ, "VIRTUALBMC_CONFIG": str(config)}
        log = self.workdir / "vbmcd.out"
        with log.open("ab") as output:
            self.process = subprocess.Popen([str(tools / "vbmcd"), "--foreground"], env=self._environment,
                                            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            self._vbmc("add", self.domain_name, "--port", str(self.port), "--address", "127.0.0.1",
                       "--username", USERNAME, "--password", PASSWORD, "--libvirt-uri", self.libvirt_uri)
            self._vbmc("start", self.domain_name)
            wait_until_listening(self.port, self.process, self.workdir / "vbmcd.log")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for command in ("stop", "delete"):
                try:
                    self._vbmc(command, self.domain_name)
                except BmcUnavailable:
                    pass  # stopping vbmcd below ends its BMCs anyway
        stop_process(self.process)
        self.process = None
        shutil.rmtree(self.workdir / "conf", ignore_errors=True)

    def pause(self) -> None:
        """Stop answering, as a BMC that lost its network (vbmcd keeps running)."""
        self._vbmc("stop", self.domain_name)
        self.paused = True

    def resume(self) -> None:
        """Answer again after :meth:`pause`; nothing happens if the BMC was not paused."""
        if not self.paused or self.process is None or self.process.poll() is not None:
            return
        self._vbmc("start", self.domain_name)
        self.paused = False
        wait_until_listening(self.port, self.process, self.workdir / "vbmcd.log")

    def _vbmc(self, *arguments: str) -> None:
        vbmc = Path(sys.executable).parent / "vbmc"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            # vbmc asks vbmcd over ZeroMQ; right after vbmcd starts it may not listen yet
            done = subprocess.run([str(vbmc), *arguments], env=self._environment, capture_output=True,
                                  text=True, timeout=60)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline or self.process is None or self.process.poll() is not None:
                raise BmcUnavailable(f"vbmc {' '.join(arguments[:2])} failed: {done.stdout}{done.stderr}")
            time.sleep(0.3)


@contextlib.contextmanager
def domain_behind_vbmc(libvirtd, workdir: Path, name: str):
    """A defined, switched-off QEMU domain (``tiny_domain_xml``) with virtualbmc answering for
    it: (libvirt connection, domain, VirtualBmc); all gone after. ``libvirtd`` is the tests'
    libvirtd fixture value; the test fails (CI) or skips when libvirtd or vbmcd cannot run."""
    import libvirt

    from tests.conftest import missing_component

    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    connection = libvirt.open(running.uri)
    domain = connection.defineXML(tiny_domain_xml(name))
    vbmc = VirtualBmc(workdir, name, running.uri)
    try:
        try:
            vbmc.start()
        except BmcUnavailable as error:
            missing_component(str(error))
        yield connection, domain, vbmc
    finally:
        vbmc.stop()
        if domain.isActive():
            domain.destroy()
        domain.undefine()
        connection.close()


def started_ipmi_sim(workdir: Path) -> IpmiSim:
    """An ipmi_sim BMC answering on a free port; the test fails (CI) or skips if it cannot run."""
    from tests.conftest import missing_component

    if shutil.which("ipmi_sim") is None:
        missing_component("ipmi_sim not installed (apt-get install openipmi)")
    sim = IpmiSim(workdir)
    try:
        sim.start()
    except BmcUnavailable as error:
        missing_component(str(error))
    return sim
