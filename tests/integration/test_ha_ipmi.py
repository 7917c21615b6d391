"""High availability with real parts: the server under waitress with its worker, two agents over
HTTP, and the host's BMC an OpenIPMI ipmi_sim spoken to with pyghmi. The agent of the host that
runs an HA compute is killed; the host is fenced through IPMI (the simulated machine really goes
off) and the compute comes back on the other host. With the BMC gone, nothing is restarted and
the host's alert says why."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update

from occistack.drivers.fake import FakeDrivers
from occistack.drivers.power.ipmi import IpmiPowerDriver
from occistack.hostagent.agent import Agent
from occistack.hostagent.transport import HttpTransport
from occistack.model import EventRecord, Host, VirtualMachine
from occistack.model.states import HostStatus, VmState
from occistack.api.orchestration import server_plane
from tests.conftest import basic
from tests.drivers.bmcfixtures import IpmiSim, started_ipmi_sim
from tests.integration.test_agent_http import COMPUTE, FACTS, Served, free_port, host_tokens, wait_for

FAST_HEALTH = {"occistack.power": "ipmi", "occistack.power.timeout_seconds": "3",
               "occistack.agents.heartbeat_seconds": "1", "occistack.agents.disconnected_after": "2",
               "occistack.agents.alert_after": "4"}


@pytest.fixture
def bmc(tmp_path):
    sim = started_ipmi_sim(tmp_path)
    IpmiPowerDriver(timeout=10).power_on(sim.bmc)  # the host is running
    yield sim
    sim.stop()


class RunningAgents:
    def __init__(self, served: Served):
        self.stops: dict[str, threading.Event] = {}
        self.threads: dict[str, threading.Thread] = {}
        self.agents: dict[str, Agent] = {}
        for name, token in host_tokens(served.session_factory).items():
            agent = Agent(name, token, FACTS, FakeDrivers(), HttpTransport(served.url, token))
            stop = threading.Event()
            thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
            thread.start()
            self.stops[name], self.threads[name], self.agents[name] = stop, thread, agent

    def kill(self, name: str) -> None:
        self.stops[name].set()
        self.threads[name].join(timeout=30)

    def close(self) -> None:
        for name in self.agents:
            self.kill(name)
            self.agents[name].transport.close()


@pytest.fixture
def cloud(db_url, demo_data):
    served = Served(db_url, free_port(), **FAST_HEALTH)
    agents = RunningAgents(served)
    wait_for(lambda: all(agent.host_id for agent in agents.agents.values()), what="the agents registering")
    yield served, agents
    agents.close()
    served.close()


def ha_compute_with_bmc(served: Served, sim: IpmiSim) -> tuple[str, Host]:
    import requests

    created = requests.post(f"{served.url}/compute/", data=COMPUTE, timeout=30,
                            headers={"Content-Type": "text/plain", "Authorization": basic("demo", "demo")})
    assert created.status_code == 201, created.text
    vm_id = created.headers["Location"].rsplit("/", 1)[-1]
    wait_for(lambda: vm_of(served, vm_id).state == VmState.RUNNING, what="the compute becoming active")
    sealer = server_plane(served.app.registry).sealer
    with served.session_factory() as session, session.begin():
        session.execute(update(VirtualMachine).where(VirtualMachine.id == vm_id).values(ha_enabled=True))
        host = session.get(Host, session.get(VirtualMachine, vm_id).host_id)
        host.bmc_address, host.bmc_port, host.bmc_username = sim.bmc.address, sim.bmc.port, sim.bmc.username
        host.bmc_password_sealed = sealer.seal(sim.bmc.password)
        session.flush()
        session.expunge(host)
    return vm_id, host


def vm_of(served: Served, vm_id: str) -> VirtualMachine:
    with served.session_factory() as session:
        return session.get(VirtualMachine, vm_id)


def host_of(served: Served, host_id: int) -> Host:
    with served.session_factory() as session:
        return session.get(Host, host_id)


def test_a_killed_agent_s_host_is_fenced_through_ipmi_and_its_compute_restarts_elsewhere(cloud, bmc):
    served, agents = cloud
    vm_id, host = ha_compute_with_bmc(served, bmc)
    agents.kill(host.name)

    wait_for(lambda: host_of(served, host.id).status == HostStatus.DOWN, timeout=90, what="the host being fenced")
    assert bmc.power() == "off", "the host was marked Down without being powered off"
    moved = wait_for(lambda: (vm := vm_of(served, vm_id)).state == VmState.RUNNING and vm.host_id != host.id and vm,
                     timeout=60, what="the compute running on the other host")
    other = next(agent for name, agent in agents.agents.items() if name != host.name)
    assert moved.host_id == other.host_id
    assert other.runner.drivers.compute.state(moved.instance_name) == "running"


def test_with_the_bmc_gone_nothing_is_restarted_and_the_alert_says_why(cloud, bmc):
    served, agents = cloud
    vm_id, host = ha_compute_with_bmc(served, bmc)
    bmc.stop()  # the BMC's network is down too
    agents.kill(host.name)

    def fencing_failed():
        with served.session_factory() as session:
            return session.scalar(select(EventRecord.description).where(
                EventRecord.action == "host.fence", EventRecord.state == "failed",
                EventRecord.resource_id == str(host.id)))

    reason = wait_for(fencing_failed, timeout=90, what="the failed fencing's alert")
    assert f"its BMC at 127.0.0.1:{bmc.port} does not answer" in reason and "stay where they are" in reason
    time.sleep(2)  # what a wrong restart would need to show
    assert host_of(served, host.id).status == HostStatus.ALERT
    vm = vm_of(served, vm_id)
    assert (vm.state, vm.host_id) == (VmState.RUNNING, host.id)
