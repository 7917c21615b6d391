"""A real NFS server for the tests: nfs-ganesha (userspace, FSAL VFS) exporting a temp dir.

The kernel of the test machines has no NFS server or client, so the server is ganesha and the
client is libnfs. Ganesha listens on two ports picked free at start -- not on 2049, which
another session's server may hold -- and the export URLs carry them (``nfsport``,
``mountport``), so clients need not ask rpcbind. It listens on every address, so that agents
in network namespaces of their own reach it over their veth (the URLs name 127.0.0.1). Ganesha still refuses to start without
rpcbind to register with; it is started if nothing answers on port 111, and stopped after if
this session started it.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import missing_component

START_TIMEOUT = 20.0
READY_LINE = "NFS SERVER INITIALIZED"
PSEUDO_PATH = "/occitest"


@dataclass(frozen=True)
class NfsExport:
    directory: Path  # the exported directory on this machine, to check what landed there
    v3_url: str  # nfs://127.0.0.1<directory>?nfsport=..&mountport=..
    v4_url: str  # nfs://127.0.0.1<pseudo path>?version=4&nfsport=..


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ganesha_config(export: Path, state: Path, nfs_port: int, mount_port: int) -> str:
    return f"""
NFS_CORE_PARAM {{
    Protocols = 3, 4;
    NFS_Port = {nfs_port};
    MNT_Port = {mount_port};
    Bind_addr = 0.0.0.0;
    Enable_NLM = false;
    Enable_RQUOTA = false;
}}
NFSv4 {{ Graceless = true; RecoveryBackend = fs; RecoveryRoot = {state}; }}
EXPORT {{
    Export_Id = 1;
    Path = {export};
    Pseudo = {PSEUDO_PATH};
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = 3, 4;
    Transports = TCP;
    SecType = sys;
    FSAL {{ Name = VFS; }}
}}
LOG {{ Default_Log_Level = EVENT; }}
"""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def nfs_export(tmp_path_factory):
    """An exported, empty, writable directory; skips (fails under CI) without ganesha or libnfs."""
    if importlib.util.find_spec("libnfs") is None:
        missing_component("the Python package libnfs is not installed (pip install libnfs; needs libnfs-dev)")
    missing = [tool for tool in ("ganesha.nfsd", "rpcbind") if shutil.which(tool) is None]
    if missing or not Path("/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so").exists():
        missing_component(f"NFS server parts missing: {missing or ['nfs-ganesha-vfs']} "
                          "(apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind)")
    workdir = tmp_path_factory.mktemp("nfs")
    export, state = workdir / "export", workdir / "state"
    export.mkdir()
    state.mkdir()
    started_rpcbind = None
    if not _answers(111):
        started_rpcbind = subprocess.Popen(["rpcbind", "-f", "-w"], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not _answers(111) and time.monotonic() < deadline:
            time.sleep(0.05)
    nfs_port, mount_port = _free_port(), _free_port()
    config = workdir / "ganesha.conf"
    config.write_text(ganesha_config(export, state, nfs_port, mount_port))
    log = workdir / "ganesha.log"
    Path("/var/run/ganesha").mkdir(parents=True, exist_ok=True)
    # -F: stay in the foreground, so the fixture holds the server's own pid.
    server = subprocess.Popen(["ganesha.nfsd", "-F", "-f", str(config), "-L", str(log), "-N", "NIV_EVENT",
                               "-p", str(workdir / "ganesha.pid")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (log.exists() and READY_LINE in log.read_text(errors="replace")):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
                missing_component(f"nfs-ganesha did not start (exit {server.poll()}): {tail}")
            time.sleep(0.1)
        ports = f"nfsport={nfs_port}&mountport={mount_port}"
        yield NfsExport(directory=export, v3_url=f"nfs://127.0.0.1{export}?{ports}",
                        v4_url=f"nfs://127.0.0.1{PSEUDO_PATH}?version=4&nfsport={nfs_port}")
    finally:
        _stop(server)
        if started_rpcbind is not None:
            _stop(started_rpcbind)
        shutil.rmtree(workdir, ignore_errors=True)
