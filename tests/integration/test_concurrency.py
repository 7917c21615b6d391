"""The management plane under concurrency, on PostgreSQL, as production runs it: two server
processes, two worker processes and a process of simulated hosts, and 200 creates from 8
client threads over HTTP. Nothing may be over capacity, handed out twice, lost or duplicated;
then a worker is killed with SIGKILL in the middle of a batch of deletes, and every job must
still end -- done, or failed with a message on its resource."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import transaction
from sqlalchemy import func, select

from occistack.demo import seed_demo
from occistack.model import GuestVlan, Host, IpAllocation, Job, NetworkInterface, VirtualMachine, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from occistack.model.states import HostStatus
from tests.conftest import ROOT, empty_database, missing_component
from tests.factories import HostFactory

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
AUTH = "Basic " + base64.b64encode(b"demo:demo").decode()
CREATES, THREADS, NETWORKS_PER_THREAD, DELETES = 200, 8, 2, 100
COMPUTE = "\n".join([
    'Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"',
    'Category: cirros-0.6; scheme="http://occistack.local/occi/infrastructure/os_tpl#"; class="mixin"',
    'Category: small; scheme="http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"; class="mixin"',
    'Link: </network/public>; rel="http://schemas.ogf.org/occi/infrastructure#network"; '
    'category="http://schemas.ogf.org/occi/infrastructure#networkinterface"',
]).encode()
NETWORK = b'Category: network; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"'


@pytest.fixture(scope="module")
def cloud(postgres_database, tmp_path_factory):
    url, problem = postgres_database
    if problem:
        missing_component(problem)
    engine = make_engine({"sqlalchemy.url": url})
    session_factory = make_session_factory(engine)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(session_factory, manager)
        seed_demo(session)
        first = session.scalar(select(Host).where(Host.name == "host1"))
        for name in ("host3", "host4"):
            # Connecting, as host1 and host2: the simulated hosts' agents register them.
            HostFactory(session=session, name=name, cluster_id=first.cluster_id, address="10.0.0.40", cpu_sockets=2,
                        cpu_cores=16, cpu_mhz=2400, memory_mib=65536, cpu_overcommit=4.0, memory_overcommit=1.5,
                        status=HostStatus.CONNECTING)
    ini = tmp_path_factory.mktemp("cloud") / "cloud.ini"
    ini.write_text((ROOT / "development.ini").read_text()
                   .replace("sqlite:///%(here)s/var/occistack.sqlite", url)
                   .replace("occistack.worker = thread", "occistack.worker = none")
                   .replace("occistack.agents.inprocess = *", "occistack.agents.inprocess ="))
    processes: dict[str, subprocess.Popen] = {}
    ports = [_free_port(), _free_port()]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        processes["hosts"] = _start([BIN / "occistack", "-c", ini, "simulated-hosts"], environment)
        for number in (1, 2):
            processes[f"worker{number}"] = _start([BIN / "occistack", "-c", ini, "worker"], environment)
        for number, port in enumerate(ports, start=1):
            processes[f"server{number}"] = _start([BIN / "pserve", ini, f"http_port={port}"], environment)
        for port in ports:
            _wait_until_serving(port)
        yield {"url": url, "ports": ports, "processes": processes, "session_factory": session_factory}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        engine.dispose()
        empty_database(url)  # the session's database, shared with the modules after this one


def test_200_concurrent_creates_and_a_killed_worker(cloud):
    session_factory = cloud["session_factory"]
    created, networks, failures = [], [], []
    lock = threading.Lock()

    def client(number: int) -> None:
        port = cloud["ports"][number % 2]
        for index in range(CREATES // THREADS):
            status, location = _post(port, "/compute/", COMPUTE)
            with lock:
                (created if status == 201 else failures).append(location)
            if index < NETWORKS_PER_THREAD:
                status, location = _post(port, "/network/", NETWORK)
                with lock:
                    (networks if status == 201 else failures).append(location)

    _run_threads(client)
    assert failures == []
    assert len(created) == CREATES and len(set(created)) == CREATES
    _wait_for(lambda: _count(session_factory, VirtualMachine.state == "running") == CREATES, "every VM active")

    with session_factory() as session:
        vm_ids = set(session.scalars(select(VirtualMachine.id)))
        assert vm_ids == {location.rsplit("/", 1)[1] for location in created}  # none lost, none extra
        for host in session.scalars(select(Host)):
            reserved = session.execute(select(func.coalesce(func.sum(VirtualMachine.reserved_cpu_mhz), 0),
                                              func.coalesce(func.sum(VirtualMachine.reserved_memory_mib), 0))
                                       .where(VirtualMachine.host_id == host.id)).one()
            assert (host.cpu_used_mhz, host.memory_used_mib) == tuple(reserved)
            assert host.cpu_used_mhz <= host.cpu_cores * host.cpu_mhz * host.cpu_overcommit
            assert host.memory_used_mib <= host.memory_mib * host.memory_overcommit
        macs = session.scalars(select(NetworkInterface.mac)).all()
        addresses = session.scalars(select(IpAllocation.address)).all()
        vlans = session.scalars(select(GuestVlan.vlan)).all()
    assert len(macs) == CREATES and len(set(macs)) == CREATES
    assert len(addresses) == CREATES and len(set(addresses)) == CREATES
    assert len(vlans) == THREADS * NETWORKS_PER_THREAD and len(set(vlans)) == len(vlans)
    assert _count(session_factory, Job.state != "done", model=Job) == 0

    # A batch of deletes; a worker dies (SIGKILL) while it runs.
    doomed = created[:DELETES]
    answers = Counter()

    def deleter(number: int) -> None:
        port = cloud["ports"][number % 2]
        for location in doomed[number::THREADS]:
            answers[_delete(port, location)] += 1

    killer = threading.Timer(0.5, lambda: cloud["processes"]["worker1"].send_signal(signal.SIGKILL))
    killer.start()
    _run_threads(deleter)
    killer.join()
    assert cloud["processes"]["worker1"].wait(timeout=10) == -signal.SIGKILL
    assert answers == {200: DELETES}
    _wait_for(lambda: _count(session_factory, Job.state.in_(["queued", "waiting", "running"]), model=Job) == 0,
              "every job ended")
    with session_factory() as session:
        failed = session.scalars(select(Job).where(Job.state == "failed")).all()
        assert all(job.message for job in failed)
        left = session.scalars(select(VirtualMachine)).all()
    survivors = {location.rsplit("/", 1)[1] for location in created[DELETES:]}
    assert {vm.id for vm in left if vm.state == "running"} == survivors
    for vm in left:
        if vm.id not in survivors:  # a delete that failed: in error, saying why
            assert vm.state == "error" and vm.state_message


# --- helpers -----------------------------------------------------------------------------------

def _run_threads(target) -> None:
    threads = [threading.Thread(target=target, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _post(port: int, path: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers={"Authorization": AUTH, "Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Location"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _delete(port: int, location: str) -> int:
    path = "/" + location.split("/", 3)[3]
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="DELETE",
                                     headers={"Authorization": AUTH})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _count(session_factory, condition, model=VirtualMachine) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(condition))


def _wait_for(check, what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _start(command, environment) -> subprocess.Popen:
    return subprocess.Popen([str(part) for part in command], env=environment, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/", timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no server on port {port} within 30 s")


