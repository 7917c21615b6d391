"""Bare-metal nodes on the administrator's side: a node of a BareMetal cluster gets no agent
token and no overcommit, in-process agents leave nodes out, an agent cannot register as one,
and a recorded BMC is checked by a job. (Computes on nodes: tests/api/test_bare_metal.py.)"""

from __future__ import annotations

import pytest
import transaction

from occistack.drivers.fake import FakeDrivers
from occistack.hostagent.protocol import PROTOCOL_VERSION, HostFacts, Register
from occistack.model import Job
from occistack.model.session import get_tm_session
from occistack.model.states import HOST_STATUS_TRANSITIONS, HostEvent, HostStatus
from occistack.plane import admin
from occistack.plane.agents import gateway
from occistack.plane.errors import InvalidRequest
from occistack.plane.jobs.queue import JobDispatcher
from occistack.plane.agents.in_process import launch_local_agents
from occistack.plane.sealing import Sealer

from tests.conftest import TEST_SECRET_KEY

from tests.plane import admin_cloud

FACTS = HostFacts(cpu_sockets=1, cpu_cores=8, cpu_mhz=2000, memory_mib=16384, hypervisor_version="none",
                  agent_version="test")


def metal(session, name: str = "node1", **options):
    if not any(cluster.name == "metal" for cluster in admin.list_clusters(session)):
        admin.create_cluster(session, zone="z1", pod="p1", name="metal", hypervisor="BareMetal")
    return admin_cloud.host(session, name, cluster="metal", **options)


def test_a_node_gets_no_agent_token_and_no_overcommit(session):
    admin_cloud.rack(session)
    added = metal(session)
    assert added.agent_token is None and added.host.agent_token_hash is None
    assert added.host.hypervisor == "BareMetal"
    with pytest.raises(InvalidRequest, match="cluster 'metal' is a BareMetal cluster: its nodes are each given whole "
                                             "to one compute, so their overcommit factors stay 1"):
        metal(session, "node2", memory_overcommit=1.5)


def test_recording_a_node_s_bmc_submits_its_check(session):
    admin_cloud.rack(session)
    node = metal(session).host
    kvm = admin_cloud.host(session).host
    sealer = Sealer(TEST_SECRET_KEY)
    admin.set_host_bmc(session, kvm.id, address="10.0.2.1", username="u", password="p", sealer=sealer,
                       dispatcher=JobDispatcher())
    admin.set_host_bmc(session, node.id, address="10.0.2.2", username="u", password="p", sealer=sealer,
                       dispatcher=JobDispatcher())
    jobs = [(job.operation, job.entity_id, job.arguments) for job in session.query(Job).order_by(Job.id)]
    assert jobs == [("check_bare_metal_node", f"host-{node.id}", {"host_id": node.id})], \
        "a KVM host's BMC is for fencing only; a node's is checked at once"
    assert sealer.open(node.bmc_password_sealed) == "p"


def test_a_node_is_up_while_its_bmc_answers():
    for status in HostStatus:
        assert HOST_STATUS_TRANSITIONS.next_state(status, HostEvent.BMC_ANSWERED) == HostStatus.UP
    assert HOST_STATUS_TRANSITIONS.next_state(HostStatus.UP, HostEvent.BMC_FAILED) == HostStatus.DISCONNECTED
    assert HOST_STATUS_TRANSITIONS.next_state(HostStatus.CONNECTING, HostEvent.BMC_FAILED) == HostStatus.CONNECTING


def test_in_process_agents_leave_nodes_out_and_no_agent_registers_as_one(session_factory):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        db = get_tm_session(session_factory, manager)
        admin_cloud.rack(db)
        admin_cloud.host(db, "kvm1")
        metal(db, "node1")
    agents = launch_local_agents(session_factory, ["*"], lambda name: FakeDrivers(), gateway.GatewaySettings())
    assert [agent.host_name for agent in agents.agents] == ["kvm1"]
    with pytest.raises(LookupError, match="configured for bare-metal nodes, which run no agent: node1"):
        launch_local_agents(session_factory, ["kvm1", "node1"], lambda name: FakeDrivers(), gateway.GatewaySettings())
    with session_factory() as db, db.begin():
        with pytest.raises(gateway.AgentUnauthenticated):
            gateway.register(db, Register("node1", "", PROTOCOL_VERSION, FACTS), gateway.GatewaySettings())
