"""Row locks in one order (issue 12, point 8): a create reserving capacity on a host and a
destroy's answer transaction finishing the host's maintenance, run against each other on
PostgreSQL at the moment that used to deadlock, now both commit.

The deadlock was: the create's INSERT of its VM row takes a FOR KEY SHARE lock on its host
(the foreign key); the destroy's release of the old VM's capacity updates the host (FOR NO
KEY UPDATE, compatible with it); then the destroy's ``SELECT … FOR UPDATE`` of the host waited
for the create's key-share lock while the create's ``UPDATE hosts SET cpu_used_mhz`` waited
for the destroy. Hosts are now locked FOR NO KEY UPDATE (their keys never change while
anything refers to them), which does not wait for foreign-key checks.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from occistack.model import Host, User, VirtualMachine
from occistack.api.orchestration import plane_services
from occistack.plane import Caller
from occistack.plane.context import PlaneContext
from occistack.plane.placement import capacity
from occistack.plane.tenant import compute as compute_cases
from occistack.plane.host_states import finish_maintenance_when_empty
from tests.conftest import basic, running_app, settling_test_app
from tests.occi import compute_body


@pytest.fixture
def pg_app(demo_data_pg, drivers):
    with running_app(demo_data_pg, drivers) as application:
        yield application


def test_a_create_and_a_destroy_on_one_host_do_not_deadlock(pg_app, monkeypatch):
    client = settling_test_app()(pg_app, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})
    location = client.post("/compute/", compute_body(), headers={"Content-Type": "text/plain"}, status=201)
    old_vm = location.headers["Location"].rsplit("/", 1)[1]
    registry = pg_app.registry
    factory, services = registry["occistack.session_factory"], plane_services(registry)
    placement = services.placement
    with factory() as session:
        host_id = session.get(VirtualMachine, old_vm).host_id
        demo = session.scalar(select(User).where(User.name == "demo"))
        caller = Caller(demo.id, demo.name, demo.project_id)
    # Both computes on one host: the create plans the old one's host.
    with factory() as session:
        session.query(Host).filter(Host.id != host_id).update({"resource_state": "Disabled"})
        session.commit()
    placement.invalidate()

    both_hold_their_first_lock = threading.Barrier(2, timeout=10)
    real_claim = capacity.claim_host

    def claim_after_the_destroy_locked(session, *args):
        # The create has inserted its VM row (a key-share lock on the host) by now.
        both_hold_their_first_lock.wait()
        time.sleep(0.5)  # the destroy is waiting in finish_maintenance_when_empty by now (or done)
        return real_claim(session, *args)

    monkeypatch.setattr(capacity, "claim_host", claim_after_the_destroy_locked)
    outcomes: dict[str, object] = {}

    def create():
        try:
            with factory() as session:
                request = compute_cases.ComputeRequest(template_term="cirros-0.6", cores=1, memory_gib=0.5,
                                                       pick_network=False)
                created = compute_cases.create_compute(PlaneContext(session, caller, services), request)
                session.commit()
                outcomes["create"] = session.get(VirtualMachine, created.compute_id).host_id
        except Exception as error:  # noqa: BLE001 - the test reports it
            outcomes["create"] = error

    def destroy_answer():
        try:
            with factory() as session:
                vm = session.get(VirtualMachine, old_vm)
                placement.release_vm(session, vm)  # UPDATE hosts … (the destroy's release)
                session.flush()
                both_hold_their_first_lock.wait()
                finish_maintenance_when_empty(session, host_id)  # the host's row lock
                session.commit()
                outcomes["destroy"] = "committed"
        except Exception as error:  # noqa: BLE001 - the test reports it
            outcomes["destroy"] = error

    threads = [threading.Thread(target=create), threading.Thread(target=destroy_answer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == {"create": host_id, "destroy": "committed"}, outcomes
